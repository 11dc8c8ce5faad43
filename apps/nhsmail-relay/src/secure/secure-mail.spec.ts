import { randomBytes } from 'node:crypto';
import { maskAddress, parseSecureKeys } from './secure-mail';

describe('[secure] mail settings', () => {
  it('reads keys as id:base64 pairs, the current one first, and refuses a key that is not 32 bytes', () => {
    const current = randomBytes(32);
    const old = randomBytes(32);
    const keys = parseSecureKeys(`k2:${current.toString('base64')}, k1:${old.toString('base64')}`);
    expect(keys.map((key) => key.id)).toEqual(['k2', 'k1']);
    expect(keys[0]?.key.equals(current)).toBe(true);
    expect(parseSecureKeys('')).toEqual([]);
    expect(() => parseSecureKeys(`k1:${randomBytes(16).toString('base64')}`)).toThrow(/NHSMAIL_SECURE_KEYS/);
    expect(() => parseSecureKeys(`bad id:${current.toString('base64')}`)).toThrow(/NHSMAIL_SECURE_KEYS/);
  });

  it('shows only the first letter and the domain of the address a code goes to', () => {
    expect(maskAddress('jane.doe@example.org')).toBe('j***@example.org');
  });
});

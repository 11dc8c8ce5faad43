import { hashPassword, UNUSABLE_HASH, verifyPassword } from './password';

describe('mailbox passwords', () => {
  it('are stored as salted scrypt hashes that only the same password matches', async () => {
    const first = await hashPassword('correct horse battery');
    const second = await hashPassword('correct horse battery');
    expect(first).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(first).not.toContain('correct');
    expect(second).not.toBe(first);
    await expect(verifyPassword('correct horse battery', first)).resolves.toBe(true);
    await expect(verifyPassword('correct horse batterY', first)).resolves.toBe(false);
    await expect(verifyPassword('', first)).resolves.toBe(false);
  });

  it('never match the unusable hash or a stored value that is not a hash', async () => {
    await expect(verifyPassword('', UNUSABLE_HASH)).resolves.toBe(false);
    await expect(verifyPassword('x', 'plain-text')).resolves.toBe(false);
  });
});

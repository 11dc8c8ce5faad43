import { BinaryLinks } from './binary-links';

const SECRET = 'a-test-key-of-at-least-32-characters-000';
const ID = '6f1c2f4e-9a57-4d0b-9a43-0d3c1e7c2b11';
const GP = { id: 'user-1', organisation: 'A83008' };
const NOW = Date.parse('2026-12-05T12:00:00Z');

function parts(query: string): { expires: string; signature: string } {
  const params = new URLSearchParams(query);
  return { expires: params.get('expires') ?? '', signature: params.get('signature') ?? '' };
}

describe('A042 temporary content locations (BinaryLinks)', () => {
  const links = new BinaryLinks(SECRET, 60);
  const { expires, signature } = parts(links.sign(ID, GP, NOW));

  it('signs the id, the expiry a minute ahead and the caller, and takes its own location back unchanged', () => {
    expect(Number(expires)).toBe(NOW / 1000 + 60);
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(links.verify(ID, GP, expires, signature, NOW)).toBe(true);
    expect(links.verify(ID, GP, expires, signature, NOW + 59_000)).toBe(true);
    // Another replica with the same key takes it too.
    expect(new BinaryLinks(SECRET, 60).verify(ID, GP, expires, signature, NOW)).toBe(true);
  });

  describe('an attacker', () => {
    it('cannot stretch the expiry, nor use the location after it', () => {
      expect(links.verify(ID, GP, String(Number(expires) + 30), signature, NOW)).toBe(false);
      expect(links.verify(ID, GP, String(Number(expires) - 1), signature, NOW)).toBe(false);
      expect(links.verify(ID, GP, expires, signature, NOW + 61_000)).toBe(false);
      // Even correctly signed, an expiry further ahead than the gateway ever signs is refused.
      const far = parts(new BinaryLinks(SECRET, 3600).sign(ID, GP, NOW));
      expect(links.verify(ID, GP, far.expires, far.signature, NOW)).toBe(false);
    });

    it('cannot point the location at another attachment', () => {
      expect(links.verify('0a9d7b1e-1111-4222-8333-944455556666', GP, expires, signature, NOW)).toBe(false);
    });

    it('cannot use a location given to another user or for another organisation', () => {
      expect(links.verify(ID, { id: 'user-2', organisation: 'A83008' }, expires, signature, NOW)).toBe(false);
      expect(links.verify(ID, { id: 'user-1', organisation: 'B81001' }, expires, signature, NOW)).toBe(false);
      expect(links.verify(ID, { id: 'user-1' }, expires, signature, NOW)).toBe(false);
    });

    it('cannot forge a signature: another key, a changed or truncated one, none, or a malformed expiry', () => {
      const forged = parts(new BinaryLinks('another-key-of-at-least-32-characters-0', 60).sign(ID, GP, NOW));
      expect(links.verify(ID, GP, forged.expires, forged.signature, NOW)).toBe(false);
      const flipped = (signature.startsWith('A') ? 'B' : 'A') + signature.slice(1);
      expect(links.verify(ID, GP, expires, flipped, NOW)).toBe(false);
      expect(links.verify(ID, GP, expires, signature.slice(0, 42), NOW)).toBe(false);
      expect(links.verify(ID, GP, expires, `${signature}=`, NOW)).toBe(false);
      expect(links.verify(ID, GP, expires, undefined, NOW)).toBe(false);
      expect(links.verify(ID, GP, undefined, signature, NOW)).toBe(false);
      expect(links.verify(ID, GP, `${expires}.0`, signature, NOW)).toBe(false);
      expect(links.verify(ID, GP, ` ${expires}`, signature, NOW)).toBe(false);
    });

    it('gets nothing from a gateway without a configured key but its own process', () => {
      const random = new BinaryLinks('', 60);
      const own = parts(random.sign(ID, GP, NOW));
      expect(random.verify(ID, GP, own.expires, own.signature, NOW)).toBe(true);
      expect(new BinaryLinks('', 60).verify(ID, GP, own.expires, own.signature, NOW)).toBe(false);
    });
  });
});

import { randomUUID } from 'node:crypto';
import { AttachmentLinks } from './links';

/** The code a call failed with. */
function codeOf(call: () => unknown): string | undefined {
  try {
    call();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('attachment links', () => {
  const links = new AttachmentLinks('a-secret-for-the-test', 900);
  const grant = { conversationId: randomUUID(), position: 3, organisation: 'Y12345' };

  it('fits one URL path segment and gives back what it was signed with, to that organisation only', () => {
    const token = links.sign(grant);
    expect(token.length).toBeLessThanOrEqual(100);
    expect(token).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(links.verify(token, 'Y12345')).toMatchObject(grant);
    expect(codeOf(() => links.verify(token, 'B81001'))).toBe('GP2GP_LINK_INVALID');
    expect(codeOf(() => links.verify(token, undefined))).toBe('GP2GP_LINK_INVALID');
  });

  it('refuses a link altered in any byte, signed with another key, or expired', () => {
    const token = links.sign(grant);
    const [payload, signature] = token.split('.');
    const bytes = Buffer.from(payload, 'base64url');
    for (let index = 0; index < bytes.length; index += 1) {
      const altered = Buffer.from(bytes);
      altered[index] ^= 1;
      expect(codeOf(() => links.verify(`${altered.toString('base64url')}.${signature}`, 'Y12345'))).toBe(
        'GP2GP_LINK_INVALID',
      );
    }
    expect(codeOf(() => new AttachmentLinks('another-secret', 900).verify(token, 'Y12345'))).toBe('GP2GP_LINK_INVALID');
    const old = links.sign(grant, Date.now() - 901_000);
    expect(codeOf(() => links.verify(old, 'Y12345'))).toBe('GP2GP_LINK_EXPIRED');
    expect(codeOf(() => links.verify('nonsense', 'Y12345'))).toBe('GP2GP_LINK_INVALID');
  });
});

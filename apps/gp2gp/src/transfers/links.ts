import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PlatformError } from '@platform/shared-errors';

/** What an attachment link grants: one attachment of one transfer, to one organisation, until a time. */
export interface LinkGrant {
  conversationId: string;
  position: number;
  organisation: string;
  /** Expiry, seconds since the epoch. */
  expires: number;
}

/**
 * Short-lived attachment links: `<payload>.<signature>`, the payload (base64url bytes) signed with HMAC-SHA256.
 * A link names the organisation it was made for, and gp2gp serves it only to a caller acting for that
 * organisation and only before it expires; any change to it breaks the signature.
 */
export class AttachmentLinks {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  sign(grant: Omit<LinkGrant, 'expires'>, now = Date.now()): string {
    // Compact, so a link fits a URL path segment (the gateway takes segments of at most 100 characters):
    // the conversation's 16 bytes, the position, the expiry and the ODS code, then 128 bits of HMAC.
    const expires = Math.floor(now / 1000) + this.ttlSeconds;
    const payload = Buffer.concat([
      Buffer.from(grant.conversationId.replaceAll('-', ''), 'hex'),
      Buffer.from([grant.position >> 8, grant.position & 0xff]),
      Buffer.from([(expires >>> 24) & 0xff, (expires >>> 16) & 0xff, (expires >>> 8) & 0xff, expires & 0xff]),
      Buffer.from(grant.organisation, 'ascii'),
    ]).toString('base64url');
    return `${payload}.${this.signature(payload)}`;
  }

  /** The grant of a link made for `organisation` that has not expired (GP2GP_LINK_INVALID / _EXPIRED otherwise). */
  verify(token: string, organisation: string | undefined, now = Date.now()): LinkGrant {
    const invalid = (): PlatformError =>
      new PlatformError('GP2GP_LINK_INVALID', undefined, { diagnostics: 'The attachment link is not valid' });
    const [payload, signature, extra] = token.split('.');
    if (!payload || !signature || extra !== undefined) throw invalid();
    const expected = Buffer.from(this.signature(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid();
    const bytes = Buffer.from(payload, 'base64url');
    if (bytes.length < 25) throw invalid();
    const hex = bytes.subarray(0, 16).toString('hex');
    const conversationId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const position = bytes.readUInt16BE(16);
    const expires = bytes.readUInt32BE(18);
    const owner = bytes.subarray(22).toString('ascii');
    // Another practice's link: refused even when it has not expired.
    if (!organisation || owner !== organisation) throw invalid();
    if (expires * 1000 <= now) {
      throw new PlatformError('GP2GP_LINK_EXPIRED', undefined, {
        diagnostics: 'The attachment link has expired: poll the transfer again for fresh links',
      });
    }
    return { conversationId, position, organisation: owner, expires };
  }

  private signature(payload: string): string {
    return createHmac('sha256', this.key)
      .update(`gp2gp-attachment-link:${payload}`)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
  }
}

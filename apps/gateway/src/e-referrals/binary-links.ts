import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Who a temporary location was given to: the caller and the organisation they acted for. */
export interface LinkHolder {
  id: string;
  organisation?: string | undefined;
}

const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/**
 * A042's temporary content locations (`Binary/{id}/$content?expires=&signature=`): the gateway signs the
 * attachment id, the expiry and the caller it gave the location to (HMAC-SHA256 under a key from
 * configuration, the same on every replica), and takes back only a location it signed, unchanged, before it
 * expires, from the same caller. Anything else is the NHS's 404 REC_NOT_FOUND.
 */
export class BinaryLinks {
  private readonly key: Buffer;

  /** `secret` empty: a random key for this process (a location then works only on the replica that made it). */
  constructor(
    secret: string,
    readonly ttlSeconds = 60,
  ) {
    this.key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  /** The query of a new location for `id`, valid for `ttlSeconds` from `now`. */
  sign(id: string, holder: LinkHolder, now = Date.now()): string {
    const expires = Math.floor(now / 1000) + this.ttlSeconds;
    return `expires=${expires}&signature=${this.mac(id, expires, holder)}`;
  }

  /** Whether this location is one this gateway (or a replica with its key) gave `holder` and is still valid. */
  verify(
    id: string,
    holder: LinkHolder,
    expires: string | undefined,
    signature: string | undefined,
    now = Date.now(),
  ): boolean {
    if (expires === undefined || !/^[0-9]{1,12}$/.test(expires)) return false;
    if (signature === undefined || !SIGNATURE.test(signature)) return false;
    const until = Number(expires);
    const seconds = now / 1000;
    // Past its expiry, or further ahead than this gateway ever signs (a key shared too widely).
    if (until < seconds || until > seconds + this.ttlSeconds + 5) return false;
    const expected = Buffer.from(this.mac(id, until, holder), 'utf8');
    const given = Buffer.from(signature, 'utf8');
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private mac(id: string, expires: number, holder: LinkHolder): string {
    return createHmac('sha256', this.key)
      .update(['ers-a042-content', id, String(expires), holder.id, holder.organisation ?? ''].join('\n'))
      .digest('base64url');
  }
}

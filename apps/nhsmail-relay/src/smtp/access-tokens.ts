import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';

/** Who an access token speaks for, once verified. */
export interface TokenHolder {
  subject: string;
  username: string;
  /** The organisation the token names, when it names exactly one (`nhsd_organisations`); SMTP has no header to choose. */
  organisation?: string;
}

/**
 * Verifies platform access tokens for XOAUTH2 as the gateway does: RS256 only against the identity provider's
 * JWKS, issuer, expiry (5 s of skew), `typ: Bearer`, and the platform's audience (or `azp`).
 */
export class AccessTokens {
  private readonly keys: JWTVerifyGetKey;

  constructor(private readonly settings: { issuer: string; jwksUrl?: string; audience: string }) {
    const url = settings.jwksUrl ?? `${settings.issuer.replace(/\/$/, '')}/protocol/openid-connect/certs`;
    this.keys = createRemoteJWKSet(new URL(url), { cooldownDuration: 30_000, timeoutDuration: 3000 });
  }

  /** The holder, or undefined for any token that is not a valid platform access token. */
  async verify(token: string): Promise<TokenHolder | undefined> {
    try {
      const { payload } = await jwtVerify<{
        typ?: string;
        azp?: string;
        preferred_username?: string;
        nhsd_organisations?: unknown;
      }>(token, this.keys, {
        issuer: this.settings.issuer,
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'iat', 'sub'],
        clockTolerance: 5,
      });
      if (payload.typ !== 'Bearer' || typeof payload.preferred_username !== 'string') return undefined;
      const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
      if (!audiences.includes(this.settings.audience) && payload.azp !== this.settings.audience) return undefined;
      const organisations = Array.isArray(payload.nhsd_organisations)
        ? payload.nhsd_organisations.filter((code): code is string => typeof code === 'string')
        : [];
      return {
        subject: String(payload.sub),
        username: payload.preferred_username,
        ...(organisations.length === 1 ? { organisation: organisations[0] } : {}),
      };
    } catch {
      return undefined;
    }
  }
}

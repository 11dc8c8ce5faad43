import { isValidNhsNumber } from '@platform/shared-identifiers';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { PlatformError } from '@platform/shared-errors';

/** What the gateway trusts about a caller once their access token has been verified. */
export interface VerifiedToken {
  subject: string;
  username?: string;
  clientId?: string;
  roles: string[];
  organisations: string[];
  /** A patient's own NHS number (the `nhs_number` claim), when the token carries a valid one. */
  nhsNumber?: string;
  /**
   * An application's own token (client credentials: Keycloak's service-account tokens carry `client_id`), no
   * user present: the NHS's application-restricted access mode.
   */
  application: boolean;
  expiresAt: number;
}

export interface TokenVerifierSettings {
  issuer: string;
  jwksUrl: string;
  audience: string;
  trustedClients: string[];
  /** Verified tokens remembered until they expire (verification is the costly part of a request). */
  cacheSize?: number;
}

interface KeycloakClaims extends JWTPayload {
  typ?: string;
  azp?: string;
  preferred_username?: string;
  realm_access?: { roles?: unknown };
  resource_access?: Record<string, { roles?: unknown }>;
  nhsd_organisations?: unknown;
  nhs_number?: unknown;
  client_id?: unknown;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

export function invalidToken(diagnostics: string): PlatformError {
  return new PlatformError('ACCESS_DENIED', 'Access Denied - Unauthorised', {
    status: 401,
    diagnostics,
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  });
}

/**
 * Verifies Keycloak RS256 access tokens against the realm's JWKS with `jose`: signature, algorithm (RS256
 * only, so `alg: none` and HMAC confusion fail), issuer, expiry, `typ: Bearer`, and audience or `azp`.
 */
export class TokenVerifier {
  private readonly keys: JWTVerifyGetKey;
  private readonly cache = new Map<string, VerifiedToken>();
  private readonly cacheSize: number;

  constructor(private readonly settings: TokenVerifierSettings) {
    this.keys = createRemoteJWKSet(new URL(settings.jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 3000 });
    this.cacheSize = settings.cacheSize ?? 10_000;
  }

  async verify(token: string): Promise<VerifiedToken> {
    const cached = this.cache.get(token);
    if (cached) {
      if (cached.expiresAt * 1000 > Date.now()) return cached;
      this.cache.delete(token);
    }
    const verified = await this.verifyUncached(token);
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(token, verified);
    return verified;
  }

  private async verifyUncached(token: string): Promise<VerifiedToken> {
    let claims: KeycloakClaims;
    try {
      const result = await jwtVerify<KeycloakClaims>(token, this.keys, {
        issuer: this.settings.issuer,
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'iat', 'sub'],
        clockTolerance: 5,
      });
      claims = result.payload;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (keysUnavailable(code)) {
        throw new PlatformError('REC_UNAVAILABLE', 'The identity provider is unavailable', {
          diagnostics: 'The signing keys could not be fetched; try again shortly',
          headers: { 'Retry-After': '5' },
        });
      }
      throw invalidToken(describeJoseError(code));
    }
    if (claims.typ !== 'Bearer') throw invalidToken('Invalid Access Token: not a bearer access token');
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
    const forPlatform =
      audiences.includes(this.settings.audience) ||
      (claims.azp !== undefined && this.settings.trustedClients.includes(claims.azp));
    if (!forPlatform) throw invalidToken('Invalid Access Token: not issued for this platform');
    const clientRoles = Object.values(claims.resource_access ?? {}).flatMap((access) => stringArray(access.roles));
    return {
      subject: String(claims.sub),
      username: claims.preferred_username,
      clientId: claims.azp,
      roles: [...new Set([...stringArray(claims.realm_access?.roles), ...clientRoles])],
      organisations: stringArray(claims.nhsd_organisations),
      ...(typeof claims.nhs_number === 'string' && isValidNhsNumber(claims.nhs_number)
        ? { nhsNumber: claims.nhs_number }
        : {}),
      application:
        typeof claims.client_id === 'string' ||
        (typeof claims.preferred_username === 'string' && claims.preferred_username.startsWith('service-account-')),
      expiresAt: claims.exp ?? 0,
    };
  }
}

/**
 * The realm's keys could not be had (refused, timed out, not 200, not a JWKS): the caller's token may be
 * fine, so this is 503, not 401. Token errors all carry jose's ERR_JWT/ERR_JWS/ERR_JOSE_ALG codes.
 */
function keysUnavailable(code: string | undefined): boolean {
  if (code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JOSE_GENERIC' || code === 'ERR_JWKS_INVALID') return true;
  return code === undefined || !code.startsWith('ERR_J');
}

function describeJoseError(code: string | undefined): string {
  switch (code ?? '') {
    case 'ERR_JWT_EXPIRED':
      return 'Invalid Access Token: expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return 'Invalid Access Token: claim check failed';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'Invalid Access Token: bad signature';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'Invalid Access Token: algorithm not allowed';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'Invalid Access Token: unknown signing key';
    default:
      return 'Invalid Access Token';
  }
}

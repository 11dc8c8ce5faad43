import { serviceAccountUsername, type ConfidentialDemoClient, type DemoUser } from './demo-realm';

/** Who a token is about: a demo user, or the service account of a confidential client. */
export interface TokenSubject {
  readonly id: string;
  readonly username: string;
  readonly givenName?: string;
  readonly familyName?: string;
  readonly roles: readonly string[];
  readonly organisations: readonly string[];
  readonly nhsNumber?: string;
}

/** The payload of an access token, with Keycloak's claim names. */
export interface AccessTokenClaims {
  [claim: string]: unknown;
  iss: string;
  sub: string;
  aud: string;
  azp: string;
  typ: 'Bearer';
  exp: number;
  iat: number;
  jti: string;
  scope: string;
  realm_access: { roles: string[] };
  resource_access: Record<string, { roles: string[] }>;
  preferred_username: string;
  name?: string;
  given_name?: string;
  family_name?: string;
  client_id?: string;
  /** ODS codes of the organisations the subject may act for (checked against NHSD-End-User-Organisation-ODS). */
  nhsd_organisations: string[];
  /** A patient's own NHS number, as NHS login puts it in its tokens. */
  nhs_number?: string;
}

export interface AccessTokenInput {
  issuer: string;
  audience: string;
  clientId: string;
  subject: TokenSubject;
  scope: string;
  /** Seconds since the epoch. */
  issuedAt: number;
  ttlSeconds: number;
  tokenId: string;
  /** True for client_credentials: Keycloak adds `client_id` to service-account tokens. */
  serviceAccount?: boolean;
}

/** Scopes a client may ask for; the ones Keycloak's default client scopes give. */
export const SUPPORTED_SCOPES = ['openid', 'profile', 'email'] as const;
const DEFAULT_SCOPES: readonly string[] = ['profile', 'email'];

export function subjectForUser(user: DemoUser): TokenSubject {
  return {
    id: user.id,
    username: user.username,
    givenName: user.firstName,
    familyName: user.lastName,
    roles: user.roles,
    organisations: user.organisations,
    ...(user.nhsNumber ? { nhsNumber: user.nhsNumber } : {}),
  };
}

export function subjectForServiceAccount(client: ConfidentialDemoClient): TokenSubject {
  return {
    id: client.serviceAccountUserId,
    username: serviceAccountUsername(client.clientId),
    roles: client.roles,
    organisations: client.organisations,
  };
}

/**
 * The granted scope for a token request, like Keycloak: the default scopes plus the requested optional ones
 * (`openid`), in a stable order. Unknown scopes are returned so the caller can reject the request.
 */
export function resolveScope(requested: string | undefined): { scope: string; unknown: string[] } {
  const asked = (requested ?? '').split(' ').filter((scope) => scope !== '');
  const supported: readonly string[] = SUPPORTED_SCOPES;
  const unknown = asked.filter((scope) => !supported.includes(scope));
  const granted = new Set([...asked, ...DEFAULT_SCOPES]);
  return { scope: SUPPORTED_SCOPES.filter((scope) => granted.has(scope)).join(' '), unknown };
}

/** Builds a Keycloak-shaped access token payload. Pure: the caller supplies the clock and the token id. */
export function buildAccessTokenClaims(input: AccessTokenInput): AccessTokenClaims {
  const { subject } = input;
  const name = [subject.givenName, subject.familyName].filter((part) => part !== undefined).join(' ');
  return {
    exp: input.issuedAt + input.ttlSeconds,
    iat: input.issuedAt,
    jti: input.tokenId,
    iss: input.issuer,
    aud: input.audience,
    sub: subject.id,
    typ: 'Bearer',
    azp: input.clientId,
    scope: input.scope,
    realm_access: { roles: [...subject.roles] },
    resource_access: {},
    ...(input.serviceAccount === true ? { client_id: input.clientId } : {}),
    ...(name !== '' ? { name } : {}),
    preferred_username: subject.username,
    ...(subject.givenName !== undefined ? { given_name: subject.givenName } : {}),
    ...(subject.familyName !== undefined ? { family_name: subject.familyName } : {}),
    nhsd_organisations: [...subject.organisations],
    ...(subject.nhsNumber !== undefined ? { nhs_number: subject.nhsNumber } : {}),
  };
}

/** The userinfo response for a verified access token: the profile claims, as Keycloak's userinfo endpoint. */
export function userinfoFromClaims(claims: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const claim of [
    'sub',
    'name',
    'preferred_username',
    'given_name',
    'family_name',
    'nhsd_organisations',
    'nhs_number',
  ]) {
    if (claims[claim] !== undefined) picked[claim] = claims[claim];
  }
  return picked;
}

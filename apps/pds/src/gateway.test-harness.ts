import { SignJWT } from 'jose';
import { type TestJwks } from '@platform/shared-testing';
import { startBuiltGateway, TEST_GATEWAY_ISSUER, type BuiltGateway } from '@platform/testing-services';

export const ISSUER = TEST_GATEWAY_ISSUER;

/** The built gateway (dist/, as the launcher runs it) in front of a pds under test, on that pds's NATS. */
export type GatewayUnderTest = BuiltGateway;

export function startGatewayUnderTest(options: {
  natsUrl: string;
  jwks: TestJwks;
  sandbox: boolean;
}): Promise<GatewayUnderTest> {
  return startBuiltGateway({
    natsUrl: options.natsUrl,
    jwksUrl: options.jwks.url,
    env: { SANDBOX: String(options.sandbox) },
  });
}

/** A Keycloak-shaped access token: a user's (password grant) or an application's (client_credentials). */
export function accessToken(
  jwks: TestJwks,
  claims: {
    subject: string;
    username: string;
    roles: string[];
    organisations?: string[];
    clientId?: string;
    application?: boolean;
    nhsNumber?: string;
  },
): Promise<string> {
  const clientId = claims.clientId ?? 'platform-cli';
  return new SignJWT({
    typ: 'Bearer',
    azp: clientId,
    preferred_username: claims.username,
    realm_access: { roles: claims.roles },
    nhsd_organisations: claims.organisations ?? [],
    ...(claims.application ? { client_id: clientId } : {}),
    ...(claims.nhsNumber ? { nhs_number: claims.nhsNumber } : {}),
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'k' })
    .setIssuer(ISSUER)
    .setAudience('nhs-platform')
    .setSubject(claims.subject)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(jwks.privateKey);
}

import { type TestJwks } from '@platform/shared-testing';
import { startBuiltGateway, TEST_GATEWAY_ISSUER, type BuiltGateway } from '@platform/testing-services';

export { gatewayAccessToken as accessToken } from '@platform/testing-services';

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

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type KeyLike } from 'jose';

/** A realm's signing key for tests: an RS256 key pair whose public half a local JWKS endpoint serves. */
export interface TestJwks {
  /** The JWKS URL (OIDC_JWKS_URL for the gateway under test). */
  url: string;
  /** Signs the test's access tokens (kid `k`). */
  privateKey: KeyLike;
  stop(): Promise<void>;
}

export async function startTestJwks(): Promise<TestJwks> {
  const pair = await generateKeyPair('RS256');
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k', alg: 'RS256', use: 'sig' };
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`,
    privateKey: pair.privateKey,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

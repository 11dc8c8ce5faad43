import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, type KeyLike } from 'jose';

export const SIGNING_ALGORITHM = 'RS256';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyLike;
  readonly publicKey: KeyLike;
  /** The private key as a JWK with kid, alg and use, for oidc-provider's `jwks` (it publishes the public part). */
  readonly privateJwk: JWK;
}

/** A fresh RSA 2048 signing key, kept in memory only: every start of the provider has a new one. */
export async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALGORITHM, {
    modulusLength: 2048,
    extractable: true,
  });
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALGORITHM, use: 'sig' };
  return { kid, privateKey, publicKey, privateJwk };
}

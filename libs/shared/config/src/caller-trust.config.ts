import { IsOptional, IsString, MinLength } from 'class-validator';

/**
 * The configuration every process on the bus shares for caller trust (ADR 0014): the keys whose signed
 * caller statements it trusts, and its own signing key when it calls others. Service config classes extend it.
 */
export class CallerTrustConfig {
  /** JWK set of the trusted public keys, each with `kid` and the issuer it signs for (`iss`). */
  @IsString()
  @MinLength(1, {
    message:
      'CALLER_TRUSTED_KEYS must be set: the JWK set of the keys whose caller statements this process trusts (the launcher makes one for a local run)',
  })
  CALLER_TRUSTED_KEYS = '';

  /** This process's Ed25519 private key (PKCS#8, PEM or one-line base64 DER), for calls it makes to others. */
  @IsOptional()
  @IsString()
  CALLER_SIGNING_KEY?: string = undefined;

  /** The `kid` of that key in CALLER_TRUSTED_KEYS. */
  @IsOptional()
  @IsString()
  CALLER_SIGNING_KEY_ID?: string = undefined;
}

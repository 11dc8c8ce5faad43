import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { PlatformError } from '@platform/shared-errors';

/** A prescriber's public key as EPS keeps it: the PEM as registered and its fingerprint. */
export interface PrescriberPublicKey {
  publicKeyPem: string;
  /** Lower-case hex SHA-256 of the key's DER SubjectPublicKeyInfo: the same key always has the same one. */
  fingerprint: string;
}

/** The fingerprint of a public key: SHA-256 of its DER SubjectPublicKeyInfo, lower-case hex. */
export function keyFingerprint(key: KeyObject | string): string {
  const object = typeof key === 'string' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(object.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/**
 * A public key a prescriber may sign with: it parses, and it is RSA (signatures are RSA-SHA256) of at least
 * 2048 bits. Anything else is INVALID_VALUE, never stored.
 */
export function checkedPrescriberKey(publicKeyPem: string): PrescriberPublicKey {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch {
    throw new PlatformError('INVALID_VALUE', undefined, {
      diagnostics: 'publicKeyPem is not a readable public key (SPKI PEM)',
      expression: ['publicKeyPem'],
    });
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < 2048) {
    throw new PlatformError('INVALID_VALUE', undefined, {
      diagnostics: 'publicKeyPem must be an RSA public key of at least 2048 bits (prescriptions are signed RSA-SHA256)',
      expression: ['publicKeyPem'],
    });
  }
  return { publicKeyPem, fingerprint: keyFingerprint(key) };
}

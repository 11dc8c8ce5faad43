import { createPublicKey, verify } from 'node:crypto';
import { contentDigest, signedInfoXml } from '@platform/contracts-eps';
import { PlatformError } from '@platform/shared-errors';
import { resourcesOf, type Bundle } from '../shared/fhir';
import { signatureValueBase64, signedInfoElement } from './signature-xml';

/** The digest and SignedInfo are defined in the EPS contracts (`contentDigest`, `signedInfoXml`). */
export const SIGNATURE_ALGORITHM = 'RS256';

/** The `$prepare` answer: the SignedInfo to sign (base64), when, and with which algorithm. */
export function prepareParameters(bundle: Bundle, now: Date): Record<string, unknown> {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'digest', valueString: Buffer.from(signedInfoXml(contentDigest(bundle))).toString('base64') },
      { name: 'timestamp', valueString: now.toISOString().replace(/\.\d{3}Z$/, '+00:00') },
      { name: 'algorithm', valueString: SIGNATURE_ALGORITHM },
    ],
  };
}

function invalidSignature(reason: string): PlatformError {
  return new PlatformError('INVALID_SIGNATURE', undefined, {
    diagnostics: `Invalid signature: ${reason}`,
    expression: ['Provenance.signature.data'],
  });
}

/** The SignedInfo and SignatureValue of the Bundle's Provenance signature, or why there is none. */
export function signatureOf(bundle: Bundle): { signedInfo: string; signatureValue: Buffer } {
  const [provenance] = resourcesOf(bundle, 'Provenance');
  const data = ((provenance?.['signature'] ?? []) as { data?: unknown }[])[0]?.data;
  if (typeof data !== 'string' || data.length === 0)
    throw invalidSignature('the Bundle carries no Provenance signature');
  const xml = Buffer.from(data, 'base64').toString('utf8');
  const signedInfo = signedInfoElement(xml);
  const value = signatureValueBase64(xml);
  if (!signedInfo || !value) throw invalidSignature('Provenance.signature.data is not an XML-DSig Signature');
  return { signedInfo, signatureValue: Buffer.from(value, 'base64') };
}

/**
 * Checks that the Bundle's signature was made with `publicKeyPem` over a SignedInfo whose digest is the
 * digest of the Bundle as it is now: a prescription altered after signing, at rest or in transit, fails.
 */
export function verifyPrescriptionSignature(bundle: Bundle, publicKeyPem: string): void {
  const { signedInfo, signatureValue } = signatureOf(bundle);
  const signedDigest = /<DigestValue>([^<]*)<\/DigestValue>/.exec(signedInfo)?.[1];
  if (signedDigest !== contentDigest(bundle)) throw invalidSignature('the prescription does not match what was signed');
  if (!signedInfo.includes('rsa-sha256')) throw invalidSignature('the signature method must be RSA-SHA256');
  const key = createPublicKey(publicKeyPem);
  if (!verify('sha256', Buffer.from(signedInfo), key, signatureValue)) {
    throw invalidSignature("the signature was not made with the prescriber's registered key");
  }
}

import { createHash, createPublicKey, verify } from 'node:crypto';
import { PlatformError } from '@platform/shared-errors';
import { resourcesOf, type Bundle } from '../prescribing/fhir';

/**
 * What a prescriber signs, in the shape the NHS uses (an XML-DSig SignedInfo carrying a SHA-256 digest):
 * here the digest is of the prescription's clinical content, the Bundle's entries other than the
 * MessageHeader and the Provenance, as canonical JSON (keys sorted, no spaces). The NHS digests the HL7 V3
 * fragments instead; the API (digest in, signature in Provenance.signature.data out) is the same.
 */
export const SIGNATURE_ALGORITHM = 'RS256';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

/** JSON with object keys in sorted order at every level, so equal content always gives equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Base64 SHA-256 of the signed content of a prescription-order Bundle. */
export function contentDigest(bundle: Bundle): string {
  const signed = (bundle.entry ?? [])
    .filter((entry) => !['MessageHeader', 'Provenance'].includes(entry.resource?.resourceType ?? ''))
    .map((entry) => ({ fullUrl: entry.fullUrl, resource: entry.resource }));
  return createHash('sha256').update(canonicalJson(signed)).digest('base64');
}

export function signedInfoXml(digestValue: string): string {
  return (
    `<SignedInfo xmlns="${DSIG}">` +
    '<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></CanonicalizationMethod>' +
    '<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"></SignatureMethod>' +
    '<Reference><Transforms><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></Transform></Transforms>' +
    '<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></DigestMethod>' +
    `<DigestValue>${digestValue}</DigestValue></Reference></SignedInfo>`
  );
}

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
  const signedInfo = /<SignedInfo[\s>][\s\S]*?<\/SignedInfo>/.exec(xml)?.[0];
  const value = /<SignatureValue>\s*([A-Za-z0-9+/=\s]+?)\s*<\/SignatureValue>/.exec(xml)?.[1];
  if (!signedInfo || !value) throw invalidSignature('Provenance.signature.data is not an XML-DSig Signature');
  return { signedInfo, signatureValue: Buffer.from(value.replace(/\s+/g, ''), 'base64') };
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

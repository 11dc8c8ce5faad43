import { createPrivateKey, sign } from 'node:crypto';

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

/** The XML-DSig Signature a prescribing system puts, base64, in Provenance.signature.data. */
export function signatureXml(signedInfo: string, signatureValue: string, keyName: string): string {
  return `<Signature xmlns="${DSIG}">${signedInfo}<SignatureValue>${signatureValue}</SignatureValue><KeyInfo><KeyName>${keyName}</KeyName></KeyInfo></Signature>`;
}

/**
 * What a prescribing system does with a `$prepare` answer: decode the digest (a SignedInfo), sign it with
 * the prescriber's private key (RSA-SHA256), and wrap both in an XML-DSig Signature for
 * Provenance.signature.data (base64).
 */
export function signDigest(digestBase64: string, privateKeyPem: string, keyName: string): string {
  const signedInfo = Buffer.from(digestBase64, 'base64').toString('utf8');
  if (!signedInfo.startsWith('<SignedInfo')) throw new Error('the digest is not a base64 SignedInfo from $prepare');
  const value = sign('sha256', Buffer.from(signedInfo), createPrivateKey(privateKeyPem)).toString('base64');
  return Buffer.from(signatureXml(signedInfo, value, keyName)).toString('base64');
}

/** The Bundle with its Provenance signature data replaced (or a Provenance added) by `data`. */
export function withSignature<T extends { entry?: { fullUrl?: string; resource?: Record<string, unknown> }[] }>(
  bundle: T,
  data: string,
  when: Date,
): T {
  const copy = JSON.parse(JSON.stringify(bundle)) as T;
  const entries = copy.entry ?? [];
  let provenance = entries.find((entry) => entry.resource?.['resourceType'] === 'Provenance')?.resource;
  if (!provenance) {
    provenance = { resourceType: 'Provenance', recorded: when.toISOString(), agent: [] };
    entries.push({ fullUrl: 'urn:uuid:provenance', resource: provenance });
  }
  const existing = ((provenance['signature'] ?? []) as Record<string, unknown>[])[0] ?? {};
  provenance['signature'] = [
    {
      type: [{ system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.1' }],
      ...existing,
      when: when.toISOString(),
      data,
    },
  ];
  copy.entry = entries;
  return copy;
}

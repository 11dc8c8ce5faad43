import { createHash, createPrivateKey, sign } from 'node:crypto';
import canonicalize from 'canonicalize';

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

/**
 * What a prescriber signs, in the shape the NHS uses (an XML-DSig SignedInfo carrying a SHA-256 digest):
 * here the digest is of the prescription's clinical content, the Bundle's entries other than the
 * MessageHeader and the Provenance, as canonical JSON (RFC 8785, the `canonicalize` package). The NHS digests the HL7 V3
 * fragments instead; the API (digest in, signature in Provenance.signature.data out) is the same. It is part
 * of the contract so that a prescribing system can compute what `$prepare` answers.
 */
/** Base64 SHA-256 of the signed content of a prescription-order Bundle. */
export function contentDigest(bundle: {
  entry?: { fullUrl?: string; resource?: { resourceType?: unknown } }[];
}): string {
  const signed = (bundle.entry ?? [])
    .filter((entry) => {
      const type = entry.resource?.resourceType;
      return type !== 'MessageHeader' && type !== 'Provenance';
    })
    .map((entry) => ({ fullUrl: entry.fullUrl, resource: entry.resource }));
  // RFC 8785 (JSON Canonicalization Scheme): keys sorted, numbers and strings serialised one way only.
  return createHash('sha256')
    .update(canonicalize(signed) ?? '')
    .digest('base64');
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

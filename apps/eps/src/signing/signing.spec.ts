import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PlatformError } from '@platform/shared-errors';
import { referencePath } from '@platform/shared-testing';
import type { Bundle } from '../shared/fhir';
import { contentDigest, signedInfoXml } from '@platform/contracts-eps';
import { prepareParameters, verifyPrescriptionSignature } from './digest';
import { signDigest, withSignature } from '@platform/contracts-eps';

const keys = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
const prescriber = keys();
const stranger = keys();
const load = (file: string): Bundle =>
  JSON.parse(readFileSync(referencePath(`eps-gp2gp/eps/${file}`), 'utf8')) as Bundle;

function digestOf(bundle: Bundle): string {
  const parameters = prepareParameters(bundle, new Date('2026-11-24T10:00:00Z')) as {
    parameter: { name: string; valueString: string }[];
  };
  return parameters.parameter.find((parameter) => parameter.name === 'digest')?.valueString ?? '';
}

function failure(work: () => void): PlatformError {
  try {
    work();
  } catch (error) {
    if (error instanceof PlatformError) return error;
    throw error;
  }
  throw new Error('expected the signature to be refused');
}

describe('prescription signatures', () => {
  const unsigned = load('flow-acute-nominated/1-Prepare-Request-200_OK.json');

  it('prepares the digest in the NHS shape: a base64 SignedInfo with a SHA-256 DigestValue, RS256', () => {
    const parameters = prepareParameters(unsigned, new Date('2026-11-24T10:00:00.123Z')) as {
      parameter: { name: string; valueString: string }[];
    };
    expect(parameters.parameter.map((parameter) => parameter.name)).toEqual(['digest', 'timestamp', 'algorithm']);
    expect(parameters.parameter[1]?.valueString).toBe('2026-11-24T10:00:00+00:00');
    expect(parameters.parameter[2]?.valueString).toBe('RS256');
    const signedInfo = Buffer.from(parameters.parameter[0]?.valueString ?? '', 'base64').toString('utf8');
    expect(signedInfo).toBe(signedInfoXml(contentDigest(unsigned)));
    expect(signedInfo).toMatch(
      /^<SignedInfo xmlns="http:\/\/www.w3.org\/2000\/09\/xmldsig#">.*<DigestValue>[A-Za-z0-9+/]{43}=<\/DigestValue>/,
    );
  });

  it('does not change the digest for the key order of the JSON, and changes it for any clinical change', () => {
    const reversedKeys = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reversedKeys)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([key, field]) => [key, reversedKeys(field)]),
            )
          : value;
    const reordered = reversedKeys(unsigned) as Bundle;
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(unsigned));
    expect(contentDigest(reordered)).toBe(contentDigest(unsigned));
    const changed = JSON.parse(
      JSON.stringify(unsigned).replace('"value": 20', '"value": 200').replace('"value":20', '"value":200'),
    ) as Bundle;
    expect(JSON.stringify(changed)).not.toBe(JSON.stringify(unsigned));
    expect(contentDigest(changed)).not.toBe(contentDigest(unsigned));
  });

  it("verifies a Bundle signed the way a prescribing system signs, with the prescriber's key", () => {
    const signed = withSignature(
      unsigned,
      signDigest(digestOf(unsigned), prescriber.privateKey, '555086689106'),
      new Date(),
    );
    expect(() => verifyPrescriptionSignature(signed, prescriber.publicKey)).not.toThrow();
  });

  it('refuses a prescription altered after signing, a signature by another key, and no signature', () => {
    const signed = withSignature(
      unsigned,
      signDigest(digestOf(unsigned), prescriber.privateKey, '555086689106'),
      new Date(),
    );
    // The nominated pharmacy of every item (a change to the MessageHeader alone is outside what is signed).
    const altered = JSON.parse(JSON.stringify(signed).replaceAll('"FA565"', '"FCG71"')) as Bundle;
    expect(failure(() => verifyPrescriptionSignature(altered, prescriber.publicKey)).diagnostics).toBe(
      'Invalid signature: the prescription does not match what was signed',
    );
    expect(failure(() => verifyPrescriptionSignature(signed, stranger.publicKey)).diagnostics).toBe(
      "Invalid signature: the signature was not made with the prescriber's registered key",
    );
    expect(failure(() => verifyPrescriptionSignature(unsigned, prescriber.publicKey)).code).toBe('INVALID_SIGNATURE');
  });

  it('verifies a signature whose value is wrapped in whitespace, and refuses 100 KB of hostile whitespace at once', () => {
    const data = signDigest(digestOf(unsigned), prescriber.privateKey, '555086689106');
    const xml = Buffer.from(data, 'base64').toString('utf8');
    const withData = (text: string): Bundle =>
      withSignature(unsigned, Buffer.from(text).toString('base64'), new Date());
    const spaces = ' \n\t'.repeat(34_000);
    const wrapped = xml.replace(/<SignatureValue>([^<]+)<\/SignatureValue>/, (_match, value: string) => {
      const middle = value.length >> 1;
      return `<SignatureValue>${spaces}${value.slice(0, middle)}${spaces}${value.slice(middle)}${spaces}</SignatureValue>`;
    });
    expect(wrapped.length).toBeGreaterThan(300_000);
    expect(() => verifyPrescriptionSignature(withData(wrapped), prescriber.publicKey)).not.toThrow();

    // With the old regex this input backtracked cubically: 4 KB of whitespace took 20 s, 100 KB would take days.
    const started = Date.now();
    const hostile = xml.replace(/<SignatureValue>[^<]+<\/SignatureValue>/, `<SignatureValue>${spaces}!`);
    expect(failure(() => verifyPrescriptionSignature(withData(hostile), prescriber.publicKey)).diagnostics).toBe(
      'Invalid signature: Provenance.signature.data is not an XML-DSig Signature',
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("refuses the NHS example's own signature: it signs the HL7 V3 digest with NHS test keys, not ours", () => {
    const nhsSigned = load('flow-acute-nominated/1-Process-Request-Send-200_OK.json');
    expect(failure(() => verifyPrescriptionSignature(nhsSigned, prescriber.publicKey)).code).toBe('INVALID_SIGNATURE');
  });
});

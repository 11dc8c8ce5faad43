import { signatureValueBase64, signedInfoElement } from './signature-xml';

const SIGNED_INFO =
  '<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><DigestValue>abc=</DigestValue></SignedInfo>';
const signature = (value: string): string =>
  `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">${SIGNED_INFO}<SignatureValue>${value}</SignatureValue></Signature>`;

/** Runs `work` and returns its result with how long it took; the inputs below took minutes with the old regexes. */
function timed<T>(work: () => T): { result: T; ms: number } {
  const started = process.hrtime.bigint();
  const result = work();
  return { result, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

describe('reading an XML-DSig Signature from client text', () => {
  it('finds the SignedInfo element and the SignatureValue without its whitespace', () => {
    const xml = signature('\n  QUJD\n  REVG\t==\n');
    expect(signedInfoElement(xml)).toBe(SIGNED_INFO);
    expect(signatureValueBase64(xml)).toBe('QUJDREVG==');
  });

  it('refuses what is not a SignedInfo or a base64 SignatureValue', () => {
    expect(signedInfoElement('<SignedInfoX>a</SignedInfoX>')).toBeUndefined();
    expect(signedInfoElement('<SignedInfo>never closed')).toBeUndefined();
    expect(signedInfoElement('<SignedInfoX><SignedInfo\tId="s">a</SignedInfo>')).toBe(
      '<SignedInfo\tId="s">a</SignedInfo>',
    );
    expect(signatureValueBase64(signature('not base64!'))).toBeUndefined();
    expect(signatureValueBase64(signature(' \n\t '))).toBeUndefined();
    expect(signatureValueBase64(signature(''))).toBeUndefined();
    expect(signatureValueBase64('<SignatureValue>QUJD')).toBeUndefined();
    // The first well-formed value counts, as before.
    expect(signatureValueBase64(`<SignatureValue>??</SignatureValue>${signature('QUJD')}`)).toBe('QUJD');
  });

  // The old `<SignatureValue>\s*([A-Za-z0-9+/=\s]+?)\s*<\/SignatureValue>` backtracked cubically on whitespace:
  // 10 KB stalled EPS for minutes, so 100 KB would not finish at all.
  it('answers on 100 KB of hostile whitespace in a SignatureValue at once, and correctly', () => {
    const spaces = ' \n\t'.repeat(34_000);
    const noClosingTag = timed(() => signatureValueBase64(`${SIGNED_INFO}<SignatureValue>${spaces}!`));
    expect(noClosingTag.result).toBeUndefined();
    const badCharacter = timed(() => signatureValueBase64(signature(`${spaces}!${spaces}`)));
    expect(badCharacter.result).toBeUndefined();
    const blank = timed(() => signatureValueBase64(signature(spaces)));
    expect(blank.result).toBeUndefined();
    const padded = timed(() => signatureValueBase64(signature(`${spaces}QUJD${spaces}REVG${spaces}`)));
    expect(padded.result).toBe('QUJDREVG');
    for (const run of [noClosingTag, badCharacter, blank, padded]) expect(run.ms).toBeLessThan(2000);
  });

  // The old lazy `<SignedInfo[\s>][\s\S]*?<\/SignedInfo>` rescanned to the end from every opening tag.
  it('answers on 100,000 unclosed SignedInfo and SignatureValue tags at once', () => {
    const openings = timed(() => signedInfoElement('<SignedInfo '.repeat(100_000)));
    expect(openings.result).toBeUndefined();
    const values = timed(() => signatureValueBase64(`${'<SignatureValue> '.repeat(100_000)}</SignatureValue>`));
    expect(values.result).toBeUndefined();
    const valuesUnclosed = timed(() => signatureValueBase64('<SignatureValue>   '.repeat(100_000)));
    expect(valuesUnclosed.result).toBeUndefined();
    for (const run of [openings, values, valuesUnclosed]) expect(run.ms).toBeLessThan(2000);
  });
});

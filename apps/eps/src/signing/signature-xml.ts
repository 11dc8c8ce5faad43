/**
 * Reads the parts of an XML-DSig Signature that EPS checks, in time linear in the length of the text.
 *
 * The text comes from a client (base64 in Provenance.signature.data), so nothing here may backtrack: every
 * search is an `indexOf` that moves forward, and each character is looked at a bounded number of times.
 */

const SIGNED_INFO_OPEN = '<SignedInfo';
const SIGNED_INFO_CLOSE = '</SignedInfo>';
const VALUE_OPEN = '<SignatureValue>';
const VALUE_CLOSE = '</SignatureValue>';
const WHITESPACE = /\s/;

/** True when every character of `text` is a base64 character or whitespace (stops at the first that is not). */
function isBase64OrWhitespace(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    const base64 =
      (code >= 0x41 && code <= 0x5a) || // A-Z
      (code >= 0x61 && code <= 0x7a) || // a-z
      (code >= 0x30 && code <= 0x39) || // 0-9
      code === 0x2b || // +
      code === 0x2f || // /
      code === 0x3d; // =
    if (!base64 && !WHITESPACE.test(text.charAt(index))) return false;
  }
  return true;
}

/**
 * The first `<SignedInfo ...>...</SignedInfo>` element, tags included, or undefined. `<SignedInfo` must be
 * followed by whitespace or `>` (so `<SignedInfoX>` is not it) and the element ends at the first closing tag.
 */
export function signedInfoElement(xml: string): string | undefined {
  let from = 0;
  for (;;) {
    const start = xml.indexOf(SIGNED_INFO_OPEN, from);
    if (start < 0) return undefined;
    const next = xml.charAt(start + SIGNED_INFO_OPEN.length);
    if (next === '>' || (next !== '' && WHITESPACE.test(next))) {
      const end = xml.indexOf(SIGNED_INFO_CLOSE, start + SIGNED_INFO_OPEN.length + 1);
      // No closing tag after this opening means none after any later one either.
      return end < 0 ? undefined : xml.slice(start, end + SIGNED_INFO_CLOSE.length);
    }
    from = start + 1;
  }
}

/**
 * The base64 text of the first `<SignatureValue>` whose content (up to its closing tag) is only base64
 * characters and whitespace, with the whitespace removed; undefined when there is none or it is blank.
 */
export function signatureValueBase64(xml: string): string | undefined {
  let from = 0;
  let end = -1;
  for (;;) {
    const start = xml.indexOf(VALUE_OPEN, from);
    if (start < 0) return undefined;
    const contentStart = start + VALUE_OPEN.length;
    // The closing tag found for an earlier opening is still the first one after this opening when it lies
    // beyond it: searching again each time would rescan the same text for every opening tag.
    if (end < contentStart) end = xml.indexOf(VALUE_CLOSE, contentStart);
    if (end < 0) return undefined;
    // A later <SignatureValue> before `end` makes this content hold '<', where the check stops: each
    // character is therefore checked for at most one opening tag.
    const content = xml.slice(contentStart, end);
    if (isBase64OrWhitespace(content)) {
      const value = content.replace(/\s+/g, '');
      return value.length > 0 ? value : undefined;
    }
    from = start + 1;
  }
}

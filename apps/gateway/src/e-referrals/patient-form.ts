import { PlatformError } from '@platform/shared-errors';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_FIELDS = 20;

function badRequest(diagnostics: string): PlatformError {
  return new PlatformError('REC_BAD_REQUEST', undefined, { diagnostics });
}

/**
 * An HTML form post (application/x-www-form-urlencoded), checked as the JSON bodies are: valid UTF-8, no NUL,
 * at most 20 fields, each name once; an object without a prototype so no name can reach one.
 */
export function parseFormBody(body: Buffer): Record<string, string> {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw badRequest('The form is not valid UTF-8');
  }
  const fields = Object.create(null) as Record<string, string>;
  let count = 0;
  for (const [name, value] of new URLSearchParams(text)) {
    count += 1;
    if (count > MAX_FIELDS) throw badRequest('The form has too many fields');
    if (/\0/.test(name) || /\0/.test(value)) throw badRequest('The form holds a NUL character');
    if (name in fields) throw badRequest(`The form field '${name.slice(0, 40)}' is sent more than once`);
    fields[name] = value;
  }
  return fields;
}

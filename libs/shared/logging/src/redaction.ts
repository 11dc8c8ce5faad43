/**
 * Patient data must never reach a log line. Every record the logger writes goes through `scrubRecord`:
 * - fields that hold patient data by name (NHS number, names, birth date, address, telecom, bodies) are
 *   replaced by `[redacted]` at any depth;
 * - fields in which PostgreSQL and the database drivers repeat the data of a row or a query (`detail`
 *   "Failing row contains (...)", `where`, `hint`, `internalQuery`, `query`, `parameters`) are replaced too;
 * - every other string (and key) is scrubbed of anything shaped like an NHS number (ten digits, optionally
 *   spaced or dashed 3-3-4) or a date of birth (2010-10-22, 2010/10/22, 22/10/2010, 22-10-2010, 22.10.2010);
 *   an instant (a date followed by `T` and a time) is kept, so the log's own timestamps stay readable;
 * - errors (and their causes) become plain objects with their type, message, stack and own fields, all
 *   scrubbed the same way.
 * The walk guards against cycles and is bounded in depth, fields per object and values in all, and strings
 * are cut to a bounded length, so a hostile or huge object costs a bounded amount of work.
 */
const PATIENT_FIELDS = [
  'nhsNumber',
  'nhs_number',
  'patient',
  'name',
  'given',
  'family',
  'birthDate',
  'birth_date',
  'deceasedDateTime',
  'address',
  'postalCode',
  'telecom',
  'phone',
  'email',
  'body',
  'resource',
  'diagnostics',
];

/** Fields of PostgreSQL errors (node-postgres) and driver errors (TypeORM) that repeat row or query data. */
const DATABASE_FIELDS = ['detail', 'where', 'hint', 'internalQuery', 'query', 'parameters', 'values'];

/** pino's own redaction by path (the first three levels); `scrubRecord` redacts the same names at any depth. */
export const REDACT_PATHS: string[] = PATIENT_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);

const normalise = (key: string): string => key.replace(/[_-]/g, '').toLowerCase();
const REDACTED_KEYS = new Set([...PATIENT_FIELDS, ...DATABASE_FIELDS].map(normalise));

export const REDACTED = '[redacted]';
const NHS_NUMBER = '[nhs-number]';
const DATE = '[date]';

/** Ten digits, alone or spaced/dashed 3-3-4, not part of a longer run of digits. */
const NHS_NUMBER_SHAPE = /(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)/g;
/** A calendar date, year first or day first, with -, / or . between its parts; not an instant (date + 'T'). */
const DATE_SHAPE =
  /(?<!\d)(?:\d{4}([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])(?!\d|T\d)|(?:0?[1-9]|[12]\d|3[01])([-/.])(?:0?[1-9]|1[0-2])\2\d{4}(?!\d))/g;

/** Limits that keep the cost of one record bounded, whatever is logged. */
export const SCRUB_LIMITS = { depth: 10, fieldsPerObject: 200, values: 5000, stringLength: 16_384 };

/** The text with NHS-number-shaped and date-shaped values replaced. Linear in the length of the text. */
export function scrubText(text: string): string {
  return text.replace(NHS_NUMBER_SHAPE, NHS_NUMBER).replace(DATE_SHAPE, DATE);
}

interface Walk {
  seen: WeakSet<object>;
  values: number;
}

/** A whole string that is a UUID (request IDs, resource IDs) is an identifier of ours, not patient data. */
const UUID = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i;

function scrubString(text: string): string {
  if (text.length === 36 && UUID.test(text)) return text;
  if (text.length <= SCRUB_LIMITS.stringLength) return scrubText(text);
  // Cut, then drop what the cut may have left of a number or date, so no part of one is written.
  const cut = scrubText(text.slice(0, SCRUB_LIMITS.stringLength));
  let end = cut.length;
  while (end > 0 && '0123456789 -./'.includes(cut.charAt(end - 1))) end -= 1;
  return `${cut.slice(0, end)}...[cut from ${text.length} characters]`;
}

function isRedactedKey(key: string): boolean {
  return REDACTED_KEYS.has(normalise(key));
}

/** Reads a property without letting a throwing getter stop the log line. */
function read(source: object, key: PropertyKey): unknown {
  try {
    return (source as Record<PropertyKey, unknown>)[key];
  } catch {
    return '[unreadable]';
  }
}

function scrubFields(source: object, keys: string[], target: Record<string, unknown>, walk: Walk, depth: number) {
  let count = 0;
  for (const key of keys) {
    if (count++ >= SCRUB_LIMITS.fieldsPerObject) {
      target['[truncated]'] = `${keys.length - SCRUB_LIMITS.fieldsPerObject} more fields`;
      break;
    }
    const value = read(source, key);
    if (value === undefined || typeof value === 'function') continue;
    target[scrubString(key)] = isRedactedKey(key) ? REDACTED : scrubValue(value, walk, depth + 1);
  }
  return target;
}

function scrubError(error: Error, walk: Walk, depth: number): Record<string, unknown> {
  const constructorName = (error.constructor as { name?: unknown } | undefined)?.name;
  const out: Record<string, unknown> = {
    type: typeof constructorName === 'string' && constructorName !== '' ? constructorName : 'Error',
    message: scrubValue(read(error, 'message') ?? '', walk, depth + 1),
  };
  const stack = read(error, 'stack');
  if (typeof stack === 'string') out['stack'] = scrubString(stack);
  scrubFields(
    error,
    // `type` says what the error is; node-postgres also copies its name ('error') into an own `name`.
    Object.keys(error).filter((key) => !['message', 'stack', 'type', 'name'].includes(key)),
    out,
    walk,
    depth,
  );
  const cause = read(error, 'cause');
  if (cause !== undefined && !('cause' in out)) out['cause'] = scrubValue(cause, walk, depth + 1);
  const errors = read(error, 'errors');
  if (Array.isArray(errors) && !('errors' in out)) out['errors'] = scrubValue(errors, walk, depth + 1);
  return out;
}

function scrubValue(value: unknown, walk: Walk, depth: number): unknown {
  if (++walk.values > SCRUB_LIMITS.values) return '[truncated]';
  switch (typeof value) {
    case 'string':
      return scrubString(value);
    case 'number':
      // A ten-digit integer may be an NHS number held as a number.
      return Number.isInteger(value) && Math.abs(value) >= 1e9 && Math.abs(value) < 1e10 ? NHS_NUMBER : value;
    case 'bigint':
      return scrubString(value.toString());
    case 'boolean':
    case 'undefined':
      return value;
    case 'symbol':
      return scrubString(value.toString());
    case 'function':
      return undefined;
    case 'object':
      break;
  }
  if (value === null) return null;
  const object = value;
  if (walk.seen.has(object)) return '[Circular]';
  if (depth >= SCRUB_LIMITS.depth) return '[truncated]';
  walk.seen.add(object);
  try {
    if (object instanceof Error) return scrubError(object, walk, depth);
    if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
    if (ArrayBuffer.isView(object)) return `[binary ${object.byteLength} bytes]`;
    if (Array.isArray(object)) {
      const items = object.slice(0, SCRUB_LIMITS.fieldsPerObject).map((item) => scrubValue(item, walk, depth + 1));
      if (object.length > SCRUB_LIMITS.fieldsPerObject) {
        items.push(`[${object.length - SCRUB_LIMITS.fieldsPerObject} more items]`);
      }
      return items;
    }
    if (object instanceof Map) return scrubValue(Object.fromEntries(object), walk, depth);
    if (object instanceof Set) return scrubValue([...object], walk, depth);
    const toJSON = read(object, 'toJSON');
    if (typeof toJSON === 'function') {
      try {
        return scrubValue((toJSON as () => unknown).call(object), walk, depth + 1);
      } catch {
        return '[unserialisable]';
      }
    }
    return scrubFields(object, Object.keys(object), {}, walk, depth);
  } finally {
    walk.seen.delete(object);
  }
}

/**
 * A copy of a log record (or any value) safe to write: patient and database-row fields redacted at any
 * depth, every string scrubbed, errors made plain, cycles marked `[Circular]`, the work bounded.
 */
export function scrubRecord(record: unknown): unknown {
  return scrubValue(record, { seen: new WeakSet(), values: 0 }, 0);
}

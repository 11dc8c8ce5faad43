import { isPatchOperation, type Patient, type PatchOperation } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import { IDENTIFIED_LISTS } from '../patients/item-ids';

/** Lists whose items carry an `id`: changing or removing one needs the id stated in the patch. */
const IDENTIFIED = new Set<string>(IDENTIFIED_LISTS);
/** Lists whose items are added only at the end (`/-`). */
const LISTS = new Set([...IDENTIFIED_LISTS, 'extension', 'communication']);
/** The record's identity: never patched. */
const FORBIDDEN_FIELDS = new Set(['resourceType', 'id', 'meta', 'identifier']);
const GENDERS = new Set(['male', 'female', 'other', 'unknown']);
/** Names that reach JavaScript's object machinery rather than data; no FHIR element is called so. */
const PROTOTYPE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

function invalid(diagnostics: string): PlatformError {
  return new PlatformError('INVALID_UPDATE', 'Update is invalid', {
    diagnostics: `Invalid update with error - ${diagnostics}`,
  });
}

/** RFC 6901 path segments. */
export function pathSegments(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw invalid(`'${path}' is not a JSON Pointer`);
  return path
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function itemId(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
}

/**
 * Checks a patch against the NHS PDS rules before it is applied: only add, replace, remove and test; the
 * record's identity is never patched; new list items only with `/-`; an existing item of a list with ids is
 * changed or removed only when the patch states its id (a test or replace of its `id`, or a whole-item value
 * carrying it); a remove of a list item must be preceded by a test of that item.
 */
export function checkPatch(patches: PatchOperation[], current: Patient): void {
  const identified = new Set<string>();
  const tested = new Set<string>();
  patches.forEach((patch, index) => {
    const where = `patch ${index} (${patch.op} ${patch.path})`;
    if (!isPatchOperation(patch.op)) throw invalid(`${where}: operation '${patch.op}' is not supported`);
    if (typeof patch.path !== 'string') throw invalid(`patch ${index}: path must be a JSON Pointer string`);
    const segments = pathSegments(patch.path);
    const banned = segments.find((segment) => PROTOTYPE_NAMES.has(segment));
    if (banned !== undefined) throw invalid(`${where}: '${banned}' is not an element of a Patient`);
    const [field, position, ...rest] = segments;
    if (field === undefined) throw invalid(`${where}: the whole resource cannot be patched`);
    if (FORBIDDEN_FIELDS.has(field)) {
      throw new PlatformError('FORBIDDEN_UPDATE', 'Update is forbidden', {
        diagnostics: `Forbidden update with error - ${field} cannot be changed`,
      });
    }
    if (patch.op !== 'remove' && patch.value === undefined) throw invalid(`${where}: a value is required`);
    if (!LISTS.has(field) || position === undefined) return;
    if (position === '-') {
      if (patch.op !== 'add' || rest.length > 0) throw invalid(`${where}: '-' is only for adding a new item`);
      return;
    }
    if (!/^(0|[1-9]\d*)$/.test(position)) throw invalid(`${where}: '${position}' is not a list index`);
    if (patch.op === 'add' && rest.length === 0)
      throw invalid(`${where}: new ${field} items are added with /${field}/-`);
    const item = `/${field}/${position}`;
    const items = current[field];
    const existing = Array.isArray(items) ? (items as unknown[])[Number(position)] : undefined;
    if (patch.op === 'test') {
      tested.add(item);
      if (IDENTIFIED.has(field) && ((rest.length === 1 && rest[0] === 'id') || rest.length === 0)) {
        const stated = rest.length === 0 ? itemId(patch.value) : patch.value;
        if (stated !== undefined && stated === itemId(existing)) identified.add(item);
      }
      return;
    }
    if (IDENTIFIED.has(field)) {
      const statesId =
        (patch.op === 'replace' && rest.length === 1 && rest[0] === 'id') ||
        (patch.op === 'replace' && rest.length === 0);
      if (statesId) {
        const stated = rest.length === 0 ? itemId(patch.value) : patch.value;
        if (stated !== itemId(existing)) {
          throw invalid(`${where}: the id does not match the ${field} item at ${item}`);
        }
        identified.add(item);
      }
      if (!identified.has(item)) {
        throw invalid(`${where}: state the id of the ${field} item first (test or replace ${item}/id)`);
      }
    }
    if (patch.op === 'remove' && rest.length === 0 && !tested.has(item)) {
      throw invalid(`${where}: a list item is removed only after a test of that item`);
    }
  });
}

const DATE = /^\d{4}(-\d{2}(-\d{2})?)?$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

function isCurrent(name: { period?: { end?: string } }, today: string): boolean {
  return !name.period?.end || name.period.end >= today;
}

/** Field rules on the patched (or new) record (the NHS's own list is longer; these are the ones a GP system hits). */
export function checkFields(
  before: Patient,
  after: Patient,
  now: Date = new Date(),
  fail: (diagnostics: string) => PlatformError = invalid,
): void {
  const today = now.toISOString().slice(0, 10);
  if (before['gender'] !== undefined && after['gender'] === undefined) throw fail('gender cannot be removed');
  if (after['gender'] !== undefined && !GENDERS.has(after['gender'] as string)) {
    throw fail(`gender must be one of ${[...GENDERS].join(', ')}`);
  }
  const birthDate = after['birthDate'];
  if (birthDate !== undefined) {
    if (typeof birthDate !== 'string' || !DATE.test(birthDate) || Number.isNaN(Date.parse(birthDate))) {
      throw fail('birthDate is not a valid date');
    }
    if (birthDate > today) throw fail('birthDate cannot be in the future');
  }
  const deceased = after['deceasedDateTime'];
  if (deceased !== undefined) {
    if (typeof deceased !== 'string' || !DATE_TIME.test(deceased) || Number.isNaN(Date.parse(deceased))) {
      throw fail('deceasedDateTime is not a valid date and time');
    }
    if (Date.parse(deceased) > now.getTime()) throw fail('deceasedDateTime cannot be in the future');
    if (typeof birthDate === 'string' && deceased.slice(0, 10) < birthDate) {
      throw fail('deceasedDateTime cannot be before birthDate');
    }
  }
  const names = Array.isArray(after['name']) ? (after['name'] as { use?: string; period?: { end?: string } }[]) : [];
  if (names.filter((name) => name.use === 'usual' && isCurrent(name, today)).length > 1) {
    throw fail('a patient has one current usual name');
  }
}

/** The top-level fields a patch touches, for the change event (never their values). */
export function changedFields(patches: PatchOperation[]): string[] {
  const fields = patches.filter((patch) => patch.op !== 'test').map((patch) => pathSegments(patch.path)[0] ?? '');
  return [...new Set(fields.filter(Boolean))].sort();
}

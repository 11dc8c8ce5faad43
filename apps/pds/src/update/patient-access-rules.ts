import { isDeepStrictEqual } from 'node:util';
import type { Patient, PatchOperation } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import { pathSegments } from './patch-rules';

/**
 * What a patient (patient access, NHS login) may update on their own record, as the specification's
 * patient-patch "Access Mode" section lists it: Address, Communication (communication language and
 * interpreter required only), Emergency contact, Pharmacy, Place of birth, Telecom (mobile and email only).
 * For all operations except `remove`, Communication, Pharmacy, Place of birth and Telecom are written as
 * whole objects.
 */
const PATIENT_FIELDS = new Set(['address', 'contact', 'telecom', 'extension']);
/** Fields whose items a patient writes whole (add and replace of the item, never of a part of it). */
const WHOLE_OBJECT_FIELDS = new Set(['telecom', 'extension']);

const UK_CORE = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-';
const COMMUNICATION = `${UK_CORE}NHSCommunication`;
/** Pharmacy (the three kinds) and place of birth: a patient writes these extensions whole. */
const PATIENT_EXTENSIONS = new Set([
  `${UK_CORE}NominatedPharmacy`,
  `${UK_CORE}MedicalApplianceSupplier`,
  `${UK_CORE}PreferredDispenserOrganization`,
  'http://hl7.org/fhir/StructureDefinition/patient-birthPlace',
]);
/** The parts of the communication extension a patient may set. */
const PATIENT_COMMUNICATION_PARTS = new Set(['language', 'interpreterRequired']);

type Item = Record<string, unknown>;

const isItem = (value: unknown): value is Item => typeof value === 'object' && value !== null && !Array.isArray(value);
const items = (value: unknown): Item[] => (Array.isArray(value) ? value.filter(isItem) : []);

function forbidden(what: string): PlatformError {
  return new PlatformError('FORBIDDEN_UPDATE', 'Update is forbidden', {
    diagnostics: `Forbidden update with error - a patient cannot update ${what}: patient access updates only address, emergency contact, mobile and email telecom, pharmacy, place of birth and communication language and interpreter`,
  });
}

/** A mobile phone number or an e-mail address: the telecom a patient keeps up to date themselves. */
function isPatientTelecom(telecom: Item): boolean {
  return telecom['system'] === 'email' || (telecom['system'] === 'phone' && telecom['use'] === 'mobile');
}

/**
 * The patch's shape in patient access, before it is applied: only the patient's fields (else 403
 * FORBIDDEN_UPDATE), and telecom and extension items written whole (an add or replace of `/telecom/N`,
 * `/telecom/-`, `/extension/N` or `/extension/-`, never of a part of one: 400 INVALID_UPDATE). Tests are
 * allowed anywhere; they change nothing.
 */
export function checkPatientPatch(patches: PatchOperation[]): void {
  patches.forEach((patch, index) => {
    // A malformed operation is left to checkPatch (INVALID_UPDATE); the record check below still holds.
    if (patch.op === 'test' || typeof patch.path !== 'string') return;
    const [field, , ...rest] = pathSegments(patch.path);
    if (field === undefined || !PATIENT_FIELDS.has(field)) throw forbidden(field ?? 'the whole record');
    if (WHOLE_OBJECT_FIELDS.has(field) && patch.op !== 'remove' && rest.length > 0) {
      throw new PlatformError('INVALID_UPDATE', 'Update is invalid', {
        diagnostics: `Invalid update with error - patch ${index} (${patch.op} ${patch.path}): in patient access a ${field} item is added or replaced whole, at /${field}/<index> or /${field}/-`,
      });
    }
  });
}

/**
 * What a patient may not change, of a record: every field but the patient's own, the telecom that is not a
 * mobile or an e-mail address, every extension but pharmacy and place of birth, and the communication
 * extension's parts other than language and interpreter required.
 */
function protectedPart(patient: Patient): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patient)) if (!PATIENT_FIELDS.has(field)) kept[field] = value;
  kept['telecom'] = items(patient['telecom']).filter((telecom) => !isPatientTelecom(telecom));
  kept['extension'] = items(patient['extension']).flatMap((extension): unknown[] => {
    const url = extension['url'];
    if (typeof url === 'string' && PATIENT_EXTENSIONS.has(url)) return [];
    if (url !== COMMUNICATION) return [extension];
    const others = items(extension['extension']).filter(
      (part) => typeof part['url'] !== 'string' || !PATIENT_COMMUNICATION_PARTS.has(part['url']),
    );
    return others.length === 0 ? [] : [{ url, extension: others }];
  });
  return kept;
}

/**
 * The patched record against the stored one, in patient access: whatever the patch's paths said, nothing
 * outside the patient's fields may differ (403 FORBIDDEN_UPDATE naming what changed).
 */
export function checkPatientChanges(before: Patient, after: Patient): void {
  // The patient's fields are FHIR lists of objects: a patch leaving one another shape (a string where a telecom
  // goes, an object for the address list) would be kept as it is, since the record check below ignores them.
  for (const field of PATIENT_FIELDS) {
    const value = after[field];
    if (isDeepStrictEqual(value, before[field]) || value === undefined) continue;
    if (!Array.isArray(value) || !value.every(isItem)) {
      throw new PlatformError('INVALID_UPDATE', 'Update is invalid', {
        diagnostics: `Invalid update with error - ${field} is a list of objects`,
      });
    }
  }
  const was = protectedPart(before);
  const is = protectedPart(after);
  for (const field of new Set([...Object.keys(was), ...Object.keys(is)])) {
    if (isDeepStrictEqual(was[field], is[field])) continue;
    if (field === 'telecom') throw forbidden('telecom other than a mobile number or an e-mail address');
    if (field === 'extension') {
      throw forbidden('an extension other than pharmacy, place of birth and communication language and interpreter');
    }
    throw forbidden(field);
  }
}

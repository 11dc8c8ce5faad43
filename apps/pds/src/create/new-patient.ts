import type { Patient } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import { withItemIds } from '../patients/item-ids';
import { checkFields } from '../update/patch-rules';

function invalidCreate(diagnostics: string): PlatformError {
  return new PlatformError('INVALID_CREATE', undefined, { diagnostics: `Invalid create with error - ${diagnostics}` });
}

/** What the match before allocation compares. */
export interface Demographics {
  family: string;
  given?: string;
  birthDate: string;
  gender: string;
}

/**
 * Checks a new patient as a GP system sends it (a FHIR Patient with no id, meta or identifier): a name with
 * a family name, a birth date and a gender are required; the field rules of updates apply too. Answers the
 * resource with ids on its list items, and the demographics to match on.
 */
export function checkNewPatient(
  body: Record<string, unknown>,
  now: Date = new Date(),
): { patient: Patient; demographics: Demographics } {
  if (body['resourceType'] !== undefined && body['resourceType'] !== 'Patient')
    throw invalidCreate('resourceType must be Patient');
  for (const field of ['id', 'meta', 'identifier']) {
    if (body[field] !== undefined) throw invalidCreate(`${field} is allocated by PDS and cannot be supplied`);
  }
  const names = body['name'];
  if (!Array.isArray(names) || names.length === 0) throw invalidCreate('name is required');
  const typed = names as { use?: unknown; family?: unknown; given?: unknown }[];
  const name = typed.find((candidate) => candidate?.use === 'usual') ?? typed[0];
  if (typeof name?.family !== 'string' || name.family.trim() === '')
    throw invalidCreate('the usual name needs a family name');
  if (typeof body['birthDate'] !== 'string') throw invalidCreate('birthDate is required');
  if (typeof body['gender'] !== 'string') throw invalidCreate('gender is required');
  const patient = withItemIds(structuredClone({ ...body, resourceType: 'Patient' }) as Patient);
  checkFields({ resourceType: 'Patient', id: '', meta: { versionId: '0' } }, patient, now, invalidCreate);
  const given = Array.isArray(name.given) && typeof name.given[0] === 'string' ? name.given[0] : undefined;
  return {
    patient,
    demographics: {
      family: name.family,
      given,
      birthDate: body['birthDate'],
      gender: body['gender'],
    },
  };
}

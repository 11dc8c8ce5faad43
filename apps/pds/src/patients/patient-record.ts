import type { Patient } from '@platform/contracts-pds';

/** How many merges reads and searches follow from a superseded NHS number to the surviving record. */
export const MAX_SUPERSEDED_HOPS = 5;

/** A patient to be written: the resource and the flags that govern what may be shown. */
export interface PatientRecord {
  nhsNumber: string;
  version: number;
  resource: Patient;
  restricted: boolean;
  supersededBy: string | null;
  invalidated: boolean;
}

/**
 * A patient as read back. The stored resource is kept normalised by every write (its id, meta.versionId and
 * meta.security always match the columns), so an unrestricted record's text is what the caller gets.
 */
export interface StoredPatient {
  nhsNumber: string;
  version: number;
  resourceJson: string;
  restricted: boolean;
  supersededBy: string | null;
  invalidated: boolean;
}

const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

/** Fields Spine never returns for a restricted ("S-flag") patient: anything that could locate them. */
const RESTRICTED_FIELDS = ['address', 'telecom', 'contact', 'generalPractitioner', 'managingOrganization'] as const;
const RESTRICTED_EXTENSIONS = [
  'Extension-UKCore-NominatedPharmacy',
  'Extension-UKCore-PreferredDispenserOrganization',
  'Extension-UKCore-MedicalApplianceSupplier',
  'Extension-UKCore-ContactPreference',
  'patient-birthPlace',
  'Extension-PDS-RemovalFromRegistration',
];

function isRestrictedExtension(extension: unknown): boolean {
  const url = (extension as { url?: unknown } | null)?.url;
  return typeof url === 'string' && RESTRICTED_EXTENSIONS.some((name) => url.endsWith(`/${name}`));
}

function withoutHeader(resource: Patient): Record<string, unknown> {
  const { resourceType: _type, id: _id, meta: _meta, ...rest } = resource;
  return rest;
}

/** The resource as it must be stored: id, version and confidentiality taken from the record's columns. */
export function normalisedResource(record: PatientRecord): Patient {
  const meta = {
    ...record.resource.meta,
    versionId: String(record.version),
    security: [
      record.restricted
        ? { system: CONFIDENTIALITY, code: 'R', display: 'restricted' }
        : { system: CONFIDENTIALITY, code: 'U', display: 'unrestricted' },
    ],
  };
  return { resourceType: 'Patient', id: record.nhsNumber, meta, ...withoutHeader(record.resource) };
}

/** A restricted patient without every locating field. */
export function redacted(patient: Patient): Patient {
  const copy: Patient = { ...patient };
  for (const field of RESTRICTED_FIELDS) delete copy[field];
  if (Array.isArray(copy['extension'])) {
    const kept = (copy['extension'] as unknown[]).filter((extension) => !isRestrictedExtension(extension));
    if (kept.length > 0) copy['extension'] = kept;
    else delete copy['extension'];
  }
  return copy;
}

/** The patient as a caller may see it, as FHIR JSON text. */
export function visiblePatientJson(stored: StoredPatient): string {
  if (!stored.restricted) return stored.resourceJson;
  return JSON.stringify(redacted(JSON.parse(stored.resourceJson) as Patient));
}

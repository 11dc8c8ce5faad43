import type { Patient } from '@platform/contracts-pds';

/** A patient as the store holds it: the full resource and the flags that govern what may be shown. */
export interface PatientRecord {
  nhsNumber: string;
  version: number;
  resource: Patient;
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

/** The patient as a caller may see it: restricted records lose every locating field. */
export function visiblePatient(record: PatientRecord): Patient {
  const meta = {
    ...record.resource.meta,
    versionId: String(record.version),
    security: [
      record.restricted
        ? { system: CONFIDENTIALITY, code: 'R', display: 'restricted' }
        : { system: CONFIDENTIALITY, code: 'U', display: 'unrestricted' },
    ],
  };
  const patient: Patient = { resourceType: 'Patient', id: record.nhsNumber, meta, ...withoutHeader(record.resource) };
  if (!record.restricted) return patient;
  for (const field of RESTRICTED_FIELDS) delete patient[field];
  if (Array.isArray(patient['extension'])) {
    const kept = (patient['extension'] as unknown[]).filter((extension) => !isRestrictedExtension(extension));
    if (kept.length > 0) patient['extension'] = kept;
    else delete patient['extension'];
  }
  return patient;
}

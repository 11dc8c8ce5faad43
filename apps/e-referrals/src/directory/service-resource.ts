import type { FhirResource } from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import { concept, CLINIC_TYPES, PRIORITIES, SPECIALTIES } from '../reference/code-systems';
import { invalid, SYSTEMS } from '../shared/fhir';

/**
 * How a provider publishes a service (R4 HealthcareService): the NHS's own elements where R4 and e-RS have
 * them (providedBy, name, specialty, type = clinic types, characteristic = request flow and bookable type,
 * location = the site) and the platform's extensions for what e-RS keeps in its own directory.
 */
export const SERVICE_EXTENSIONS = {
  postcode: 'urn:nhs-platform:ers:location-postcode',
  indicativeWait: 'urn:nhs-platform:ers:indicative-wait-days',
  ageRange: 'urn:nhs-platform:ers:age-range',
  genderTreated: 'urn:nhs-platform:ers:gender-treated',
  priority: 'urn:nhs-platform:ers:priority',
  namedClinician: 'urn:nhs-platform:ers:named-clinician',
} as const;

export const REQUEST_FLOW_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/eRS-RequestFlowType';
export const BOOKABLE_TYPE_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/eRS-BookableType';

export interface Clinician {
  sdsUserId: string;
  name: string;
}

/** A directory service as the store keeps it. */
export interface ServiceRecord {
  id: string;
  version: number;
  odsCode: string;
  name: string;
  specialty: string;
  clinicTypes: string[];
  priorities: string[];
  bookableType: 'DIRECTLY_BOOKABLE' | 'INDIRECTLY_BOOKABLE';
  triage: boolean;
  postcode: string;
  indicativeWaitDays: number;
  minAgeYears: number | null;
  maxAgeYears: number | null;
  genderTreated: 'MALE_AND_FEMALE' | 'MALE' | 'FEMALE';
  clinicians: Clinician[];
  active: boolean;
}

type Extension = { url?: string; [key: string]: unknown };

function extensions(resource: FhirResource, url: string): Extension[] {
  const list = resource['extension'];
  return Array.isArray(list) ? (list as Extension[]).filter((item) => item?.url === url) : [];
}

function codings(value: unknown): { system?: string; code?: string }[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((concept) => {
    const list = (concept as { coding?: unknown } | null)?.coding;
    return Array.isArray(list) ? (list as { system?: string; code?: string }[]) : [];
  });
}

export function normalisePostcode(value: string): string | undefined {
  const compact = value.toUpperCase().replace(/\s+/g, '');
  const match = /^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$/.exec(compact);
  return match ? `${match[1]} ${match[2]}` : undefined;
}

/** Reads a published HealthcareService; every problem is INVALID_VALUE or INVALID_CODE (422) naming the element. */
export function serviceFromResource(resource: FhirResource): Omit<ServiceRecord, 'version'> {
  if (resource.resourceType !== 'HealthcareService') throw invalid('The request body must be a FHIR HealthcareService');
  const id = resource['id'];
  if (typeof id !== 'string' || !/^[1-9][0-9]{0,11}$/.test(id)) {
    throw invalid('HealthcareService.id must be the numeric e-RS service id (1 to 12 digits)');
  }
  const provider = (resource['providedBy'] as { identifier?: { system?: string; value?: unknown } } | undefined)
    ?.identifier;
  if (
    provider?.system !== SYSTEMS.ods ||
    typeof provider.value !== 'string' ||
    !/^[A-Z0-9]{3,6}$/.test(provider.value)
  ) {
    throw invalid('HealthcareService.providedBy.identifier must be the ODS code of the provider organisation');
  }
  const name = resource['name'];
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
    throw invalid('HealthcareService.name must be text of 1 to 200 characters');
  }
  const specialty = codings(resource['specialty'])[0]?.code;
  if (!concept(SPECIALTIES, specialty)) throw invalid(`Unknown specialty '${String(specialty)}'`, 'INVALID_CODE');
  const clinicTypes = codings(resource['type']).map((item) => item.code ?? '');
  for (const code of clinicTypes) {
    const known = concept(CLINIC_TYPES, code);
    if (!known || known.specialty !== specialty) {
      throw invalid(`Clinic type '${code}' is not a clinic type of ${String(specialty)}`, 'INVALID_CODE');
    }
  }
  const characteristics = codings(resource['characteristic']);
  const flow = characteristics.find((item) => item.system === REQUEST_FLOW_SYSTEM)?.code ?? 'BOOKABLE';
  const bookable = characteristics.find((item) => item.system === BOOKABLE_TYPE_SYSTEM)?.code ?? 'DIRECTLY_BOOKABLE';
  if (!['BOOKABLE', 'TRIAGE'].includes(flow)) throw invalid(`Unknown request flow type '${flow}'`, 'INVALID_CODE');
  if (bookable !== 'DIRECTLY_BOOKABLE' && bookable !== 'INDIRECTLY_BOOKABLE') {
    throw invalid(`Unknown bookable type '${bookable}'`, 'INVALID_CODE');
  }
  const postcodeText = extensions(resource, SERVICE_EXTENSIONS.postcode)[0]?.['valueString'];
  const postcode = typeof postcodeText === 'string' ? normalisePostcode(postcodeText) : undefined;
  if (!postcode) throw invalid('The service needs its location postcode (extension location-postcode)');
  const wait = extensions(resource, SERVICE_EXTENSIONS.indicativeWait)[0]?.['valueUnsignedInt'];
  if (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0 || wait > 3650) {
    throw invalid('The indicative wait (extension indicative-wait-days) must be a whole number of days');
  }
  const range = extensions(resource, SERVICE_EXTENSIONS.ageRange)[0]?.['valueRange'] as
    | { low?: { value?: unknown }; high?: { value?: unknown } }
    | undefined;
  const age = (value: unknown): number | null => {
    if (value === undefined) return null;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 150) {
      throw invalid('The age range must be whole years from 0 to 150');
    }
    return value;
  };
  const minAgeYears = age(range?.low?.value);
  const maxAgeYears = age(range?.high?.value);
  if (minAgeYears !== null && maxAgeYears !== null && minAgeYears > maxAgeYears) {
    throw invalid('The age range is empty');
  }
  const gender = extensions(resource, SERVICE_EXTENSIONS.genderTreated)[0]?.['valueCode'] ?? 'MALE_AND_FEMALE';
  if (gender !== 'MALE_AND_FEMALE' && gender !== 'MALE' && gender !== 'FEMALE') {
    throw invalid(`Unknown gender treated '${JSON.stringify(gender).slice(0, 40)}'`, 'INVALID_CODE');
  }
  const priorities = extensions(resource, SERVICE_EXTENSIONS.priority).map((item) => item['valueCode']);
  for (const code of priorities) {
    if (!concept(PRIORITIES, code as string)) throw invalid(`Unknown priority '${String(code)}'`, 'INVALID_CODE');
  }
  const clinicians = extensions(resource, SERVICE_EXTENSIONS.namedClinician).map((item) => {
    const reference = item['valueReference'] as { identifier?: { value?: unknown }; display?: unknown } | undefined;
    const sdsUserId = reference?.identifier?.value;
    if (typeof sdsUserId !== 'string' || !/^\d{6,20}$/.test(sdsUserId)) {
      throw invalid('A named clinician must carry their SDS user id');
    }
    return { sdsUserId, name: typeof reference?.display === 'string' ? reference.display.slice(0, 200) : '' };
  });
  return {
    id,
    odsCode: provider.value,
    name: name.trim(),
    specialty: specialty as string,
    clinicTypes,
    priorities: priorities.length > 0 ? (priorities as string[]) : PRIORITIES.map((item) => item.code),
    bookableType: bookable,
    triage: flow === 'TRIAGE',
    postcode,
    indicativeWaitDays: wait,
    minAgeYears,
    maxAgeYears,
    genderTreated: gender,
    clinicians,
    active: resource['active'] !== false,
  };
}

/** The R4 HealthcareService as A033 answers it (the NHS's elements, with the platform's extensions kept). */
export function serviceResource(service: ServiceRecord): FhirResource {
  return {
    id: service.id,
    meta: { versionId: String(service.version) },
    language: 'en',
    resourceType: 'HealthcareService',
    active: service.active,
    providedBy: { identifier: { system: SYSTEMS.ods, value: service.odsCode } },
    name: service.name,
    specialty: [{ coding: [{ system: SYSTEMS.specialty, code: service.specialty }] }],
    type: service.clinicTypes.map((code) => ({ coding: [{ system: SYSTEMS.clinicType, code }] })),
    characteristic: [
      { coding: [{ system: REQUEST_FLOW_SYSTEM, code: service.triage ? 'TRIAGE' : 'BOOKABLE' }] },
      { coding: [{ system: BOOKABLE_TYPE_SYSTEM, code: service.bookableType }] },
    ],
    extension: [
      { url: SERVICE_EXTENSIONS.postcode, valueString: service.postcode },
      { url: SERVICE_EXTENSIONS.indicativeWait, valueUnsignedInt: service.indicativeWaitDays },
      ...(service.minAgeYears === null && service.maxAgeYears === null
        ? []
        : [
            {
              url: SERVICE_EXTENSIONS.ageRange,
              valueRange: {
                ...(service.minAgeYears === null ? {} : { low: { value: service.minAgeYears, unit: 'a' } }),
                ...(service.maxAgeYears === null ? {} : { high: { value: service.maxAgeYears, unit: 'a' } }),
              },
            },
          ]),
      { url: SERVICE_EXTENSIONS.genderTreated, valueCode: service.genderTreated },
      ...service.priorities.map((code) => ({ url: SERVICE_EXTENSIONS.priority, valueCode: code })),
      ...service.clinicians.map((clinician) => ({
        url: SERVICE_EXTENSIONS.namedClinician,
        valueReference: {
          identifier: { system: SYSTEMS.sdsUser, value: clinician.sdsUserId },
          display: clinician.name,
        },
      })),
    ],
  };
}

export function serviceNotFound(id: string): PlatformError {
  return new PlatformError('RESOURCE_NOT_FOUND', undefined, { diagnostics: `No service ${id.slice(0, 20)}` });
}

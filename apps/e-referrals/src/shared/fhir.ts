import type { FhirResource } from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';

export const SYSTEMS = {
  nhsNumber: 'http://fhir.nhs.net/Id/nhs-number',
  ersService: 'http://fhir.nhs.net/Id/ers-service',
  ods: 'https://fhir.nhs.uk/Id/ods-organization-code',
  sdsUser: 'http://fhir.nhs.net/Id/sds-user-id',
  priority: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1',
  specialty: '_baseUrl_/STU3/CodeSystem/SPECIALTY',
  clinicType: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ClinicType-1',
  referralState: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralState-1',
  reviewReason: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReviewReason-1',
  reviewOutcome: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReviewOutcome-1',
  bookableType: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-BookableType-1',
  genderTreated: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-GenderTreated-1',
  requestFlow: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-RequestFlowType-1',
  availableActions: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-AvailableActionsForUser-1',
  requestId: 'https://fhir.nhs.uk/Id/ers-request-id',
  schedule: 'https://fhir.nhs.uk/Id/ers-schedule',
  alternativeSlot: 'https://fhir.nhs.uk/Id/alternative-slot',
} as const;

export const PROFILES = {
  referralRequest: 'https://fhir.nhs.uk/STU3/StructureDefinition/eRS-ReferralRequest-1',
  appointment: 'https://fhir.nhs.uk/STU3/StructureDefinition/eRS-Appointment-1',
  careConnectAppointment: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Appointment-1',
  searchCriteria: 'https://fhir.nhs.uk/STU3/StructureDefinition/eRS-ServiceSearchCriteria-Parameters-1',
  shortlist: 'https://fhir.nhs.uk/STU3/StructureDefinition/eRS-Shortlist-List-1',
} as const;

export const EXTENSIONS = {
  priority: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-ReferralPriority-1',
  pathwayStart: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-eReferralPathwayStart-1',
  shortlist: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-ReferralShortlist-1',
  shortlistCriteria: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-Shortlist-SearchCriteria-1',
  commissioningOrg: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-Commissioning-Rule-Org-1',
  state: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-ReferralState-1',
  appointment: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-Appointment-1',
  appointmentReference: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-Appointment-Reference-1',
} as const;

export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}

export interface Parameter {
  name?: string;
  valueCoding?: Coding;
  valueIdentifier?: { system?: string; value?: string };
  valueString?: string;
  valueBoolean?: boolean;
  valueUnsignedInt?: number;
  valueInstant?: string;
  resource?: FhirResource;
  [key: string]: unknown;
}

/** An e-RS request is refused with 422 and an eRS code when its content is wrong (the NHS's tables). */
export function invalid(diagnostics: string, code = 'INVALID_VALUE'): PlatformError {
  return new PlatformError(code, undefined, { diagnostics, status: 422 });
}

export function requireResourceType(resource: FhirResource, type: string): void {
  if (resource.resourceType !== type) throw invalid(`The request body must be a FHIR ${type}`);
}

/** The parameters of a Parameters resource (a list, each an object), or INVALID_VALUE. */
export function parametersOf(resource: FhirResource | undefined, profileName: string): Parameter[] {
  if (!resource || resource.resourceType !== 'Parameters')
    throw invalid(`The ${profileName} must be a FHIR Parameters`);
  const list = resource['parameter'];
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'object' || item === null)) {
    throw invalid(`${profileName}.parameter must be a list of parameters`);
  }
  return list as Parameter[];
}

export function parameter(parameters: Parameter[], name: string): Parameter | undefined {
  return parameters.find((item) => item.name === name);
}

/** A parameter whose name the operation does not know: UNEXPECTED_FIELD, as the NHS example shows. */
export function refuseUnknown(parameters: Parameter[], known: readonly string[], path: string): void {
  parameters.forEach((item, index) => {
    if (typeof item.name !== 'string' || !known.includes(item.name)) {
      throw invalid(
        `'${path}[${index}]' (${String(item.name).slice(0, 40)}) unknown parameter name`,
        'UNEXPECTED_FIELD',
      );
    }
  });
}

export function codeOf(item: Parameter | undefined): string | undefined {
  const code = item?.valueCoding?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The version in `ReferralRequest/{ubrn}/_history/{version}`, and the UBRN. */
export function referralReference(reference: unknown): { ubrn: string; version?: number } | undefined {
  if (typeof reference !== 'string') return undefined;
  const match = /^ReferralRequest\/(\d{12})(?:\/_history\/(\d{1,9}))?$/.exec(reference);
  if (!match?.[1]) return undefined;
  return { ubrn: match[1], ...(match[2] ? { version: Number(match[2]) } : {}) };
}

/** `W/"n"` (or a bare number), as If-Match carries a version. */
export function versionFromIfMatch(ifMatch: string): number | undefined {
  const match = /^(?:W\/)?"?([0-9]{1,9})"?$/.exec(ifMatch.trim());
  return match?.[1] ? Number(match[1]) : undefined;
}

export function coding(system: string, code: string, display?: string): Coding {
  return { system, code, ...(display ? { display } : {}) };
}

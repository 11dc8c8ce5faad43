/** The parts of FHIR R4 resources EPS reads; everything else passes through untouched. */
export interface Resource {
  resourceType: string;
  id?: string;
  [field: string]: unknown;
}

export interface Identifier {
  system?: string;
  value?: string;
  extension?: { url?: string; valueIdentifier?: Identifier }[];
}

export interface Reference {
  reference?: string;
  identifier?: Identifier;
}

export interface BundleEntry {
  fullUrl?: string;
  resource?: Resource;
}

export interface Bundle extends Resource {
  resourceType: 'Bundle';
  type?: string;
  identifier?: Identifier;
  entry?: BundleEntry[];
}

export const SYSTEMS = {
  nhsNumber: 'https://fhir.nhs.uk/Id/nhs-number',
  odsCode: 'https://fhir.nhs.uk/Id/ods-organization-code',
  sdsUserId: 'https://fhir.nhs.uk/Id/sds-user-id',
  sdsRoleProfileId: 'https://fhir.nhs.uk/Id/sds-role-profile-id',
  prescriptionOrderNumber: 'https://fhir.nhs.uk/Id/prescription-order-number',
  prescriptionId: 'https://fhir.nhs.uk/Id/prescription',
  prescriptionIdExtension: 'https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionId',
} as const;

export function resourcesOf<T extends Resource = Resource>(bundle: Bundle, type: string): T[] {
  return (bundle.entry ?? []).map((entry) => entry.resource).filter((r): r is T => r?.resourceType === type);
}

/** The resource an in-bundle reference (`urn:uuid:...`) points at. */
export function resolve(bundle: Bundle, reference: Reference | undefined): Resource | undefined {
  const target = reference?.reference;
  if (!target) return undefined;
  return (bundle.entry ?? []).find(
    (entry) => entry.fullUrl === target || `${entry.resource?.resourceType}/${entry.resource?.id}` === target,
  )?.resource;
}

export function identifierValue(resource: Resource | undefined, system: string): string | undefined {
  const identifiers = (resource?.['identifier'] ?? []) as Identifier[];
  return (Array.isArray(identifiers) ? identifiers : [identifiers]).find((identifier) => identifier.system === system)
    ?.value;
}

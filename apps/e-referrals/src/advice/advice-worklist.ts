import type { FhirResource } from '@platform/contracts-ers';
import { concept, SPECIALTIES } from '../reference/code-systems';
import { invalid, parametersOf, refuseUnknown, SYSTEMS, type Parameter } from '../shared/fhir';

export const COMMUNICATION_LIST_SELECTOR = 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-CommunicationListSelector-1';
const ASSIGNED_INDICATOR = 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-AssignedIndicator-1';
const WORKLIST_ITEM =
  'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-AdviceAndGuidanceRequests-WorkListItem-1';

/** The A023 filters (eRS-FetchWorklist-Parameters-1), as the NHS defines them for the A&G worklist. */
export interface AdviceWorklistFilter {
  serviceId?: string;
  /** ASSIGNED: a specialty (the one given, or any); NOT_ASSIGNED: none. */
  specialtyAssigned?: boolean;
  specialty?: string;
  /** The ODS code of the service's location (the site or organisation that runs it). */
  location?: string;
  /** ASSIGNED: a clinician (the one given, or any); NOT_ASSIGNED: none. */
  clinicianAssigned?: boolean;
  clinician?: string;
}

function single(parameters: Parameter[], name: string): Parameter | undefined {
  const found = parameters.filter((item) => item.name === name);
  if (found.length > 1) throw invalid(`parameter ${name} may be given once`, 'INAPPROPRIATE_VALUE');
  return found[0];
}

function oneCoding(item: Parameter, name: string): { system?: unknown; code?: unknown } {
  const coding = (item['valueCodeableConcept'] as { coding?: unknown } | undefined)?.coding;
  if (!Array.isArray(coding) || coding.length !== 1 || typeof coding[0] !== 'object' || coding[0] === null) {
    throw invalid(`parameter ${name} takes a valueCodeableConcept with one coding`);
  }
  return coding[0] as { system?: unknown; code?: unknown };
}

function indicator(parameters: Parameter[], name: string): boolean | undefined {
  const item = single(parameters, name);
  if (!item) return undefined;
  const coding = oneCoding(item, name);
  if (coding.system !== ASSIGNED_INDICATOR || (coding.code !== 'ASSIGNED' && coding.code !== 'NOT_ASSIGNED')) {
    throw invalid(`${name} must be ASSIGNED or NOT_ASSIGNED of ${ASSIGNED_INDICATOR}`, 'INVALID_CODE');
  }
  return coding.code === 'ASSIGNED';
}

function identifierValue(item: Parameter | undefined, name: string, pattern: RegExp): string | undefined {
  if (!item) return undefined;
  const value = item.valueIdentifier?.value;
  if (typeof value !== 'string' || !pattern.test(value)) throw invalid(`parameter ${name} has no valid identifier`);
  return value;
}

/** The A023 request: listType ADVICE_AND_GUIDANCE_REQUESTS and the NHS's optional filters, or 422. */
export function adviceWorklistFilter(resource: FhirResource | undefined): AdviceWorklistFilter {
  const parameters = parametersOf(resource, 'parameter');
  refuseUnknown(
    parameters,
    [
      'listType',
      'service',
      'specialtyAssignedIndicator',
      'specialty',
      'location',
      'clinicianAssignedIndicator',
      'clinician',
    ],
    'parameter',
  );
  const listType = single(parameters, 'listType');
  if (!listType) throw invalid('parameter listType is required', 'MISSING_VALUE');
  const list = oneCoding(listType, 'listType');
  if (list.system !== COMMUNICATION_LIST_SELECTOR || list.code !== 'ADVICE_AND_GUIDANCE_REQUESTS') {
    throw invalid(
      `listType must be ADVICE_AND_GUIDANCE_REQUESTS of ${COMMUNICATION_LIST_SELECTOR} (A008 lists referrals)`,
      'INVALID_CODE',
    );
  }
  const serviceId = identifierValue(single(parameters, 'service'), 'service', /^[0-9]{1,12}$/);
  const location = identifierValue(single(parameters, 'location'), 'location', /^[A-Z0-9]{3,10}$/);
  const clinician = identifierValue(single(parameters, 'clinician'), 'clinician', /^[0-9]{12}$/);
  const specialtyItem = single(parameters, 'specialty');
  let specialty: string | undefined;
  if (specialtyItem) {
    const code = oneCoding(specialtyItem, 'specialty').code;
    if (typeof code !== 'string' || !concept(SPECIALTIES, code)) {
      throw invalid(`Unknown specialty '${String(code).slice(0, 40)}'`, 'INVALID_CODE');
    }
    specialty = code;
  }
  const specialtyAssigned = indicator(parameters, 'specialtyAssignedIndicator');
  const clinicianAssigned = indicator(parameters, 'clinicianAssignedIndicator');
  // A specialty or clinician to filter on is only meaningful with its indicator ASSIGNED (the NHS's rule).
  if (specialty && specialtyAssigned !== true) {
    throw invalid('specialty needs specialtyAssignedIndicator ASSIGNED', 'INAPPROPRIATE_VALUE');
  }
  if (clinician && clinicianAssigned !== true) {
    throw invalid('clinician needs clinicianAssignedIndicator ASSIGNED', 'INAPPROPRIATE_VALUE');
  }
  return {
    ...(serviceId ? { serviceId } : {}),
    ...(specialtyAssigned === undefined ? {} : { specialtyAssigned }),
    ...(specialty ? { specialty } : {}),
    ...(location ? { location } : {}),
    ...(clinicianAssigned === undefined ? {} : { clinicianAssigned }),
    ...(clinician ? { clinician } : {}),
  };
}

export interface AdviceWorklistRow {
  ubrn: string;
  version: number;
  priority: string;
  specialty: string | null;
  clinic_type: string | null;
  patient_nhs_number: string;
  referrer_user: string;
  service_id: string;
  service_name: string;
  created_at: Date;
  updated_at: Date;
}

/** The eRS-FetchWorklist-List-1 of A&G requests, each item as the NHS example shows it. */
export function adviceWorklistResource(rows: AdviceWorklistRow[]): FhirResource {
  return {
    meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-FetchWorklist-List-1'] },
    resourceType: 'List',
    status: 'current',
    mode: 'snapshot',
    entry: rows.map((row) => ({
      extension: [
        {
          url: WORKLIST_ITEM,
          extension: [
            { url: 'priority', valueCodeableConcept: { coding: [{ system: SYSTEMS.priority, code: row.priority }] } },
            ...(row.specialty
              ? [
                  {
                    url: 'specialty',
                    valueCodeableConcept: { coding: [{ system: SYSTEMS.specialty, code: row.specialty }] },
                  },
                ]
              : []),
            {
              url: 'patient',
              valueReference: { identifier: { system: SYSTEMS.nhsNumber, value: row.patient_nhs_number } },
            },
            {
              url: 'category',
              valueCodeableConcept: {
                coding: [
                  {
                    system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-AdviceAndGuidanceStatus-1',
                    code: 'PROVIDER_RESPONSE_REQUIRED',
                  },
                ],
              },
            },
            { url: 'adviceFirstRequested', valueDateTime: row.created_at.toISOString() },
            { url: 'adviceLastUpdated', valueDateTime: row.updated_at.toISOString() },
            { url: 'referrer', valueReference: { identifier: { system: SYSTEMS.sdsUser, value: row.referrer_user } } },
            {
              url: 'service',
              valueReference: {
                identifier: { system: SYSTEMS.ersService, value: row.service_id },
                display: row.service_name,
              },
            },
            ...(row.clinic_type
              ? [
                  {
                    url: 'clinicType',
                    valueCodeableConcept: {
                      coding: [{ system: '_baseUrl_/STU3/CodeSystem/CLINIC-TYPE', code: row.clinic_type }],
                    },
                  },
                ]
              : []),
            { url: 'communicationRequestVersion', valueInteger: row.version },
          ],
        },
      ],
      item: { reference: `CommunicationRequest/${row.ubrn}` },
    })),
  };
}

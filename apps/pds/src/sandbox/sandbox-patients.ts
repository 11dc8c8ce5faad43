import type { Patient, RelatedPerson } from '@platform/contracts-pds';
import type { PatientRecord } from '../patients/patient-record';
import janeSmith from './data/Patient_9000000009.json';
import minimal from './data/Minimal_Patient_9000000033.json';
import relatedPersonBundle from './data/RelatedPersonBundle.json';
import janetSmythe from './data/Sensitive_Patient_9000000025.json';

/** Locating details the published restricted record has already had removed; the store keeps them. */
const restrictedLocatingDetails = {
  address: [{ id: 'aaa111', use: 'home', line: ['1 Hidden Lane'], postalCode: 'LS1 6AE' }],
  telecom: [{ id: 'bbb222', system: 'phone', use: 'home', value: '01632960587' }],
  generalPractitioner: [
    {
      id: 'ccc333',
      type: 'Organization',
      identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'Y12345' },
    },
  ],
  extension: [
    ...(janetSmythe.extension ?? []),
    {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NominatedPharmacy',
      valueReference: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'FCG72' } },
    },
  ],
};

function record(resource: unknown, restricted: boolean): PatientRecord {
  const patient = resource as Patient;
  return {
    nhsNumber: patient.id,
    version: Number(patient.meta.versionId),
    resource: patient,
    restricted,
    supersededBy: null,
    invalidated: false,
  };
}

/** The NHS PDS sandbox's test patients, as integrators' sandbox tests expect them. */
export function sandboxPatients(): PatientRecord[] {
  return [
    record(janeSmith, false),
    record({ ...janetSmythe, ...restrictedLocatingDetails }, true),
    record(minimal, false),
  ];
}

/** A (synthetic) guardian of the restricted patient: stored, and never shown. */
const restrictedGuardian: RelatedPerson = {
  resourceType: 'RelatedPerson',
  id: 'R1',
  patient: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000025' } },
  active: true,
  name: [{ use: 'usual', given: ['Hidden'], family: 'Guardian' }],
  address: [{ use: 'home', line: ['1 Hidden Lane'], postalCode: 'LS1 6AE' }],
};

/** The sandbox patients' related people, in PDS's order. */
export function sandboxRelatedPersons(): { nhsNumber: string; people: RelatedPerson[] }[] {
  return [
    {
      nhsNumber: '9000000009',
      people: relatedPersonBundle.entry.map((entry) => entry.resource as unknown as RelatedPerson),
    },
    { nhsNumber: '9000000025', people: [restrictedGuardian] },
  ];
}

import type { Coverage, Patient, RelatedPerson } from '@platform/contracts-pds';
import janeSmithCoverage from './data/Coverage_9000000009.json';
import type { PatientRecord } from '../patients/patient-record';
import janeSmith from './data/Patient_9000000009.json';
import jayneSmyth from './data/Patient_9000000017.json';
import johnPaulSmith from './data/Patient_Compound_Name_9000000106.json';
import jayneSmythRelated from './data/RelatedPersonBundle_9000000017.json';
import minimal from './data/Minimal_Patient_9000000033.json';
import relatedPersonBundle from './data/RelatedPersonBundle.json';
import janetSmythe from './data/Sensitive_Patient_9000000025.json';
import knapp from './data/search_exact_match_searchset.json';
import smiths from './data/search_fuzzy_multimatch_searchset.json';
import cuff from './data/search_superseded_searchset.json';
import youds from './data/search_vague_4_matches_searchset.json';

/** Locating details the published restricted record has already had removed; the store keeps them. */
const restrictedLocatingDetails = {
  address: [{ id: 'aaa111', use: 'home', line: ['1 Hidden Lane'], postalCode: 'LS1 6AE' }],
  telecom: [
    { id: 'bbb222', system: 'phone', use: 'home', value: '01632960587' },
    // The e-mail address of the specification's restricted patient search.
    { id: 'bbb223', system: 'email', use: 'home', value: 'janet.smythe@example.com' },
  ],
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

/**
 * The patients of the NHS's published search results (its Karate mock's search sets): Kathy KNAPP (an exact
 * match), Jane CUFF (found through a superseded record), four Luke YOUDS (one search, four people) and twenty
 * Smiths born 2000-05-05 in DN17 4AA (a fuzzy search's many matches).
 */
const SEARCH_SETS = [knapp, cuff, youds, smiths];

/**
 * The record Jane CUFF's surviving record superseded. The published search set shows only the survivor, so
 * this number is ours (synthetic, valid check digit): it carries the same demographics, and a search must
 * still answer with 9732019395 once.
 */
export const SUPERSEDED_CUFF = '9732019301';

function searchSetPatients(): PatientRecord[] {
  const records = SEARCH_SETS.flatMap((set) => set.entry.map((entry) => record(entry.resource, false)));
  const survivor = cuff.entry[0]?.resource;
  if (survivor) {
    records.push({
      ...record(
        {
          ...survivor,
          id: SUPERSEDED_CUFF,
          meta: { ...survivor.meta, versionId: '1' },
          identifier: survivor.identifier.map((identifier) => ({ ...identifier, value: SUPERSEDED_CUFF })),
        },
        false,
      ),
      supersededBy: survivor.id,
    });
  }
  return records;
}

/**
 * People PDS already holds for the specification's create examples (requests/PatientCreate): one Jane
 * McMatch-Single (SINGLE_MATCH) and two Louisa McMatch-Multiple (MULTIPLE_MATCHES), with the examples' name,
 * gender, birth date and postcode. Synthetic, ours: the NHS sandbox answers these examples without records.
 */
function createMatchPatients(): PatientRecord[] {
  const person = (nhsNumber: string, given: string, family: string, postalCode: string): PatientRecord =>
    record(
      {
        resourceType: 'Patient',
        id: nhsNumber,
        meta: { versionId: '1' },
        identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber }],
        name: [
          {
            id: `N${nhsNumber.slice(-4)}`,
            use: 'usual',
            given: [given],
            family,
            prefix: ['Mrs'],
            period: { start: '1986-07-01' },
          },
        ],
        gender: 'female',
        birthDate: '1982-07-10',
        address: [
          {
            id: `A${nhsNumber.slice(-4)}`,
            use: 'home',
            line: ['1 Trevelyan Square', 'Boar Lane', 'Leeds'],
            postalCode,
            period: { start: '2020-01-01' },
          },
        ],
      },
      false,
    );
  return [
    person('9000000114', 'Jane', 'McMatch-Single', 'BAP 4WG'),
    person('9000000122', 'Louisa', 'McMatch-Multiple', 'DN19 7UD'),
    person('9000000130', 'Louisa', 'McMatch-Multiple', 'DN19 7UD'),
  ];
}

/**
 * The patient of the NHS e-Referral Service examples (A010, A011, A016, A044, A041: NHS number 9912003888), so
 * that e-RS in sandbox mode finds them in PDS alive, as the NHS examples assume. The examples carry only the
 * number; the demographics are synthetic and ours (an adult, no age or sex limit of the examples' services
 * excludes them, a Leeds address near the examples' services, a name no documented search asks for).
 */
export const ERS_EXAMPLE_PATIENT = '9912003888';

function ersExamplePatient(): PatientRecord {
  return record(
    {
      resourceType: 'Patient',
      id: ERS_EXAMPLE_PATIENT,
      meta: { versionId: '1' },
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: ERS_EXAMPLE_PATIENT }],
      name: [
        {
          id: 'N3888',
          use: 'usual',
          given: ['Ellis'],
          family: 'Ravensworth',
          prefix: ['Mr'],
          period: { start: '1990-01-01' },
        },
      ],
      gender: 'male',
      birthDate: '1968-04-22',
      address: [
        {
          id: 'A3888',
          use: 'home',
          line: ['2 Trevelyan Square', 'Boar Lane', 'Leeds'],
          postalCode: 'LS1 6AE',
          period: { start: '2015-06-01' },
        },
      ],
    },
    false,
  );
}

/** The NHS PDS sandbox's test patients, as integrators' sandbox tests expect them. */
export function sandboxPatients(): PatientRecord[] {
  return [
    record(janeSmith, false),
    record({ ...janetSmythe, ...restrictedLocatingDetails }, true),
    record(minimal, false),
    record(jayneSmyth, false),
    record(johnPaulSmith, false),
    ...searchSetPatients(),
    ...createMatchPatients(),
    ersExamplePatient(),
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

/**
 * A second (synthetic, ours) related person of 9000000009, known by a reference to their own record only:
 * the specification's "multiple related people" scenario; the published bundle holds one.
 */
const referencedRelative: RelatedPerson = {
  resourceType: 'RelatedPerson',
  id: '8E1B4C22',
  patient: {
    identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000017' },
  },
  active: true,
  relationship: [
    {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'MTH', display: 'mother' }],
    },
  ],
};

/** The sandbox patients' related people, in PDS's order. */
export function sandboxRelatedPersons(): { nhsNumber: string; people: RelatedPerson[] }[] {
  return [
    {
      nhsNumber: '9000000009',
      people: [
        ...relatedPersonBundle.entry.map((entry) => entry.resource as unknown as RelatedPerson),
        referencedRelative,
      ],
    },
    {
      nhsNumber: '9000000017',
      people: jayneSmythRelated.entry.map((entry) => entry.resource as unknown as RelatedPerson),
    },
    { nhsNumber: '9000000025', people: [restrictedGuardian] },
  ];
}

/** The sandbox patients' EHIC cards: Jane Smith's, the specification's example (9000000033 has none). */
export function sandboxCoverages(): { nhsNumber: string; coverage: Coverage }[] {
  return [{ nhsNumber: '9000000009', coverage: janeSmithCoverage as unknown as Coverage }];
}

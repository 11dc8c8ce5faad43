import type { FhirResource } from './payloads';

/** The search criteria an A011/A021/A044 shortlist carries (its contained `criteria` Parameters). */
export interface ShortlistCriteria {
  priority: string;
  specialty?: string;
  clinicType?: string;
  postcode?: string;
  ageAndGenderAppropriate?: boolean;
}

/**
 * The `shortlist` parameter of A011 (create referral), A021 and A044 as a GP system sends it: a List of the
 * services (eRS service ids) with the criteria they were found by contained; criteria left out are not sent.
 */
export function shortlistParameter(serviceIds: readonly string[], criteria: ShortlistCriteria): FhirResource {
  const coded = (name: string, system: string, code: string | undefined): FhirResource[] =>
    code === undefined ? [] : [{ name, valueCoding: { system, code } }];
  return {
    name: 'shortlist',
    resource: {
      resourceType: 'List',
      status: 'current',
      mode: 'snapshot',
      contained: [
        {
          resourceType: 'Parameters',
          id: 'criteria',
          parameter: [
            ...coded('priority', 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', criteria.priority),
            ...coded('specialty', '_baseUrl_/STU3/CodeSystem/SPECIALTY', criteria.specialty),
            ...coded('clinicType', 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ClinicType-1', criteria.clinicType),
            ...(criteria.postcode === undefined ? [] : [{ name: 'postcode', valueString: criteria.postcode }]),
            ...(criteria.ageAndGenderAppropriate === undefined
              ? []
              : [{ name: 'ageAndGenderAppropriate', valueBoolean: criteria.ageAndGenderAppropriate }]),
          ],
        },
      ],
      entry: serviceIds.map((value) => ({
        item: { identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value } },
      })),
    },
  };
}

// e-RS request pieces the end-to-end suites share.

/**
 * The `shortlist` parameter of A011 (create referral) and A044 (create advice and guidance): a routine
 * cardiology shortlist of one service, as a GP system sends it, with any further search criteria.
 */
export function cardiologyShortlist(
  serviceId: string,
  moreCriteria: Record<string, unknown>[] = [],
): Record<string, unknown> {
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
            {
              name: 'priority',
              valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', code: 'ROUTINE' },
            },
            { name: 'specialty', valueCoding: { system: '_baseUrl_/STU3/CodeSystem/SPECIALTY', code: 'CARDIOLOGY' } },
            ...moreCriteria,
          ],
        },
      ],
      entry: [{ item: { identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value: serviceId } } }],
    },
  };
}

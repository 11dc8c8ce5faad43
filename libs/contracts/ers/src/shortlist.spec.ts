import { shortlistParameter } from './shortlist';

describe('shortlistParameter', () => {
  const criteriaOf = (parameter: ReturnType<typeof shortlistParameter>): unknown[] =>
    ((parameter['resource'] as { contained: { parameter: unknown[] }[] }).contained[0] ?? { parameter: [] }).parameter;

  it('sends the services as eRS service ids and only the criteria given, in the NHS order', () => {
    const parameter = shortlistParameter(['100', '200'], {
      priority: 'URGENT',
      specialty: 'CARDIOLOGY',
      postcode: 'LS1 6FR',
      ageAndGenderAppropriate: false,
    });
    expect(parameter['name']).toBe('shortlist');
    expect((parameter['resource'] as { entry: unknown[] }).entry).toEqual([
      { item: { identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value: '100' } } },
      { item: { identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value: '200' } } },
    ]);
    expect(criteriaOf(parameter)).toEqual([
      {
        name: 'priority',
        valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', code: 'URGENT' },
      },
      { name: 'specialty', valueCoding: { system: '_baseUrl_/STU3/CodeSystem/SPECIALTY', code: 'CARDIOLOGY' } },
      { name: 'postcode', valueString: 'LS1 6FR' },
      { name: 'ageAndGenderAppropriate', valueBoolean: false },
    ]);
  });

  it('leaves out what is not given (no specialty, no age and gender filter)', () => {
    expect(criteriaOf(shortlistParameter(['100'], { priority: 'ROUTINE' }))).toEqual([
      {
        name: 'priority',
        valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', code: 'ROUTINE' },
      },
    ]);
  });
});

import 'reflect-metadata';
import {
  AdviceClient,
  ERS_EVENTS,
  type EReferralsClient,
  type FhirReply,
  type FhirResource,
} from '@platform/contracts-ers';
import { NatsRpcClient } from '@platform/shared-nats';
import { allAtOnce, outcomes, tally } from '@platform/shared-testing';
import { testGatewaySigner } from '@platform/testing-services';
import {
  ALIVE_PATIENT,
  createReferralParameters,
  healthcareService,
  newServiceId,
  OTHER_PRACTICE,
  OTHER_PROVIDER,
  provider,
  referrer,
  startEReferralsUnderTest,
  stateOf,
  type EReferralsUnderTest,
} from '../e-referrals.test-harness';

/** An A023 request (eRS-FetchWorklist-Parameters-1) for the A&G worklist, with any filters. */
function adviceWorklistRequest(filters: Record<string, unknown>[] = []): FhirResource {
  return {
    resourceType: 'Parameters',
    meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-FetchWorklist-Parameters-1'] },
    parameter: [
      {
        name: 'listType',
        valueCodeableConcept: {
          coding: [
            {
              system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-CommunicationListSelector-1',
              code: 'ADVICE_AND_GUIDANCE_REQUESTS',
            },
          ],
        },
      },
      ...filters,
    ],
  };
}

const assigned = (name: string, code: 'ASSIGNED' | 'NOT_ASSIGNED'): Record<string, unknown> => ({
  name,
  valueCodeableConcept: { coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-AssignedIndicator-1', code }] },
});

describe('e-referrals: Advice and Guidance (A044, A023, A024, A025, A026, A027)', () => {
  let under: EReferralsUnderTest;
  let client: EReferralsClient;
  let advice: AdviceClient;
  const gp = referrer();
  const hospital = provider();
  const asGp = { businessFunction: gp.businessFunction };
  const asHospital = { businessFunction: hospital.businessFunction };

  const count = async (sql: string, values: unknown[] = []): Promise<number> =>
    (await under.db.query<{ n: number }>(sql.replace(/\$schema/g, `"${under.schema}"`), values)).rows[0]?.n ?? -1;

  async function service(): Promise<string> {
    const id = newServiceId();
    await client.publishService({ resource: healthcareService(id) }, hospital.context());
    return id;
  }

  /** The A044 Parameters: a question about the patient to `serviceIds` (one, unless a test wants otherwise). */
  function request(serviceIds: string[], authorised = true): FhirResource {
    const referral = createReferralParameters(ALIVE_PATIENT, serviceIds);
    const parameters = referral['parameter'] as object[];
    return {
      resourceType: 'Parameters',
      parameter: [
        ...parameters,
        {
          name: 'providerConversionAuthorisation',
          valueCoding: {
            system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ProviderConversionAuthorisation-1',
            code: authorised ? 'AUTHORISED_TO_CONVERT' : 'NOT_AUTHORISED_TO_CONVERT',
          },
        },
        { name: 'request', valueString: 'Raised BNP, echo normal: refer or manage in primary care?' },
      ],
    };
  }

  async function create(authorised = true): Promise<string> {
    const created = await advice.create({ ...asGp, resource: request([await service()], authorised) }, gp.context());
    const requestResource = (created.resource['parameter'] as { resource: FhirResource }[])[0]?.resource;
    return requestResource?.['id'] as string;
  }

  const response: FhirResource = {
    resourceType: 'Parameters',
    parameter: [
      {
        name: 'guidanceOutcome',
        valueCoding: {
          system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-GuidanceResponseOutcome-1',
          code: 'RETURN_TO_REFERRER_WITH_ADVICE',
        },
      },
      { name: 'guidance', valueString: 'Start an ACE inhibitor and repeat the BNP in six weeks.' },
    ],
  };

  const codeOf = (promise: Promise<FhirReply>): Promise<string> =>
    promise.then(
      () => 'ok',
      (error: { code?: string }) => error.code ?? 'error',
    );

  beforeAll(async () => {
    under = await startEReferralsUnderTest({ schemaPrefix: 'ers_advice' });
    client = under.client;
    advice = new AdviceClient(
      new NatsRpcClient(under.connection, { timeoutMs: 15_000, signer: await testGatewaySigner() }),
    );
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('A023 lists the requests as the NHS example does and filters them by service, specialty, location and clinician', async () => {
    const [first, second] = [await create(), await create()];
    const ids = async (filters: Record<string, unknown>[]): Promise<string[]> => {
      const list = await advice.worklist(
        { ...asHospital, resource: adviceWorklistRequest(filters) },
        hospital.context(),
      );
      return ((list.resource['entry'] as { item: { reference: string } }[]) ?? []).map((entry) =>
        entry.item.reference.replace('CommunicationRequest/', ''),
      );
    };
    const all = await advice.worklist({ ...asHospital, resource: adviceWorklistRequest() }, hospital.context());
    expect(all.resource).toMatchObject({
      resourceType: 'List',
      meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-FetchWorklist-List-1'] },
    });
    const item = (
      all.resource['entry'] as {
        item: { reference: string };
        extension: { url: string; extension: { url: string }[] }[];
      }[]
    ).find((entry) => entry.item.reference === `CommunicationRequest/${first}`);
    expect(item?.extension[0]?.url).toBe(
      'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-AdviceAndGuidanceRequests-WorkListItem-1',
    );
    expect(item?.extension[0]?.extension.map((part) => part.url)).toEqual([
      'priority',
      'specialty',
      'patient',
      'category',
      'adviceFirstRequested',
      'adviceLastUpdated',
      'referrer',
      'service',
      'communicationRequestVersion',
    ]);
    const serviceOfFirst = await under.db.query<{ service_id: string }>(
      `SELECT service_id::text FROM "${under.schema}".advice_request WHERE ubrn = $1`,
      [first],
    );
    const serviceId = serviceOfFirst.rows[0]?.service_id ?? '';
    expect(await ids([{ name: 'service', valueIdentifier: { value: serviceId } }])).toEqual([first]);
    const cardiology = {
      name: 'specialty',
      valueCodeableConcept: { coding: [{ system: '_baseUrl_/STU3/CodeSystem/SPECIALTY', code: 'CARDIOLOGY' }] },
    };
    expect(await ids([assigned('specialtyAssignedIndicator', 'ASSIGNED'), cardiology])).toEqual(
      expect.arrayContaining([first, second]),
    );
    expect(await ids([assigned('specialtyAssignedIndicator', 'NOT_ASSIGNED')])).not.toContain(first);
    const location = (ods: string): Record<string, unknown> => ({
      name: 'location',
      valueIdentifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: ods },
    });
    expect(await ids([location('R69')])).toEqual(expect.arrayContaining([first, second]));
    expect(await ids([location(OTHER_PROVIDER)])).toEqual([]);
    expect(await ids([assigned('clinicianAssignedIndicator', 'NOT_ASSIGNED')])).toEqual(
      expect.arrayContaining([first, second]),
    );
    expect(await ids([assigned('clinicianAssignedIndicator', 'ASSIGNED')])).toEqual([]);

    const refused = (resource: FhirResource): Promise<string> =>
      codeOf(advice.worklist({ ...asHospital, resource }, hospital.context()));
    expect(await refused({ resourceType: 'Parameters', parameter: [] })).toBe('MISSING_VALUE');
    expect(await refused({ resourceType: 'Parameters' })).toBe('INVALID_VALUE');
    expect(
      await refused({
        resourceType: 'Parameters',
        parameter: [
          {
            name: 'listType',
            valueCodeableConcept: {
              coding: [
                {
                  system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralListSelector-1',
                  code: 'REFERRALS_FOR_REVIEW',
                },
              ],
            },
          },
        ],
      }),
    ).toBe('INVALID_CODE');
    expect(
      await refused(
        adviceWorklistRequest([
          assigned('specialtyAssignedIndicator', 'ASSIGNED'),
          { ...cardiology, valueCodeableConcept: { coding: [{ code: 'ASTROLOGY' }] } },
        ]),
      ),
    ).toBe('INVALID_CODE');
    expect(await refused(adviceWorklistRequest([cardiology]))).toBe('INAPPROPRIATE_VALUE');
    expect(
      await refused(
        adviceWorklistRequest([
          {
            name: 'clinician',
            valueIdentifier: { system: 'http://fhir.nhs.net/Id/sds-user-id', value: '021600556514' },
          },
        ]),
      ),
    ).toBe('INAPPROPRIATE_VALUE');
    expect(
      await refused(
        adviceWorklistRequest([
          { name: 'specialtyAssignedIndicator', valueCodeableConcept: { coding: [{ system: 'x', code: 'MAYBE' }] } },
        ]),
      ),
    ).toBe('INVALID_CODE');
    expect(await refused(adviceWorklistRequest([{ name: 'service', valueIdentifier: { value: 'abc' } }]))).toBe(
      'INVALID_VALUE',
    );
    expect(await refused(adviceWorklistRequest([{ name: 'sortBy', valueString: 'age' }]))).toBe('UNEXPECTED_FIELD');
    expect(await codeOf(advice.worklist({ ...asGp, resource: adviceWorklistRequest() }, gp.context()))).toBe(
      'ACCESS_DENIED',
    );
  });

  it('A044 asks one service; the provider sees it on A023, reads it (A024), answers (A026); the conversation is two Communications (A025)', async () => {
    const ubrn = await create();
    expect(ubrn).toMatch(/^[0-9]{12}$/);
    const worklist = await advice.worklist({ ...asHospital, resource: adviceWorklistRequest() }, hospital.context());
    expect(JSON.stringify(worklist.resource)).toContain(`"reference":"CommunicationRequest/${ubrn}"`);

    const read = await advice.get({ ...asHospital, id: ubrn }, hospital.context());
    expect(read).toMatchObject({
      versionId: '1',
      resource: { resourceType: 'CommunicationRequest', id: ubrn, status: 'active' },
    });

    const answered = await advice.respond(
      { ...asHospital, id: ubrn, ifMatch: 'W/"1"', resource: response },
      hospital.context(),
    );
    expect(answered.versionId).toBe('2');
    const conversation = await advice.conversation({ ...asGp, id: ubrn }, gp.context());
    const messages = (conversation.resource['entry'] as { resource: FhirResource }[]).map((entry) => entry.resource);
    expect(
      messages.map((message) => (message['category'] as { coding: { code: string }[] }[])[0]?.coding[0]?.code),
    ).toEqual(['REQUESTER', 'RESPONDER']);
    expect(JSON.stringify(messages[1])).toContain('ACE inhibitor');
    // Answered: off the worklist, and answering again is the wrong state.
    const after = await advice.worklist({ ...asHospital, resource: adviceWorklistRequest() }, hospital.context());
    expect(JSON.stringify(after.resource)).not.toContain(ubrn);
    expect(
      await codeOf(
        advice.respond({ ...asHospital, id: ubrn, ifMatch: 'W/"2"', resource: response }, hospital.context()),
      ),
    ).toBe('INVALID_REQUEST_STATE');
    expect(
      await count(`SELECT count(*)::int AS n FROM $schema.outbox WHERE payload->>'ubrn' = $1 AND subject = ANY($2)`, [
        ubrn,
        [ERS_EVENTS.adviceCreated, ERS_EVENTS.adviceResponded],
      ]),
    ).toBe(2);
    expect(await count(`SELECT count(*)::int AS n FROM $schema.read_audit WHERE ubrn = $1`, [ubrn])).toBe(2);
  });

  it('refuses a shortlist of two services, an unknown code, strangers and a stale If-Match, changing nothing', async () => {
    const before = await count('SELECT count(*)::int AS n FROM $schema.advice_request');
    expect(
      await codeOf(advice.create({ ...asGp, resource: request([await service(), await service()]) }, gp.context())),
    ).toBe('TOO_MANY_ITEMS');
    const bad = request([await service()]);
    (bad['parameter'] as { name: string; valueCoding?: { code: string } }[]).find(
      (item) => item.name === 'providerConversionAuthorisation',
    )!.valueCoding!.code = 'MAYBE';
    expect(await codeOf(advice.create({ ...asGp, resource: bad }, gp.context()))).toBe('INVALID_CODE');
    expect(await count('SELECT count(*)::int AS n FROM $schema.advice_request')).toBe(before);

    const ubrn = await create();
    expect(await codeOf(advice.get({ ...asGp, id: ubrn }, referrer(OTHER_PRACTICE).context()))).toBe('FORBIDDEN');
    expect(await codeOf(advice.get({ ...asHospital, id: ubrn }, provider(OTHER_PROVIDER).context()))).toBe('FORBIDDEN');
    expect(
      await codeOf(
        advice.respond(
          { ...asHospital, id: ubrn, ifMatch: 'W/"1"', resource: response },
          provider(OTHER_PROVIDER).context(),
        ),
      ),
    ).toBe('NO_RELATIONSHIP');
    expect(
      await codeOf(
        advice.respond({ ...asHospital, id: ubrn, ifMatch: 'W/"7"', resource: response }, hospital.context()),
      ),
    ).toBe('RESOURCE_VERSION_MISMATCH');
    expect(await codeOf(advice.respond({ ...asHospital, id: ubrn, resource: response }, hospital.context()))).toBe(
      'PRECONDITION_FAILED',
    );
    expect(await count('SELECT count(*)::int AS n FROM $schema.advice_message WHERE ubrn = $1', [ubrn])).toBe(1);
  });

  it('20 providers answer at once: one answer is kept', async () => {
    const ubrn = await create();
    const results = outcomes(
      await allAtOnce(20, 25_000, () =>
        advice.respond({ ...asHospital, id: ubrn, ifMatch: 'W/"1"', resource: response }, hospital.context()),
      ),
    );
    const counts = tally(results, (result) => (typeof result === 'string' ? result : 'answered'));
    expect(counts['answered']).toBe(1);
    expect(
      (counts['REFERRAL_LOCKED'] ?? 0) +
        (counts['RESOURCE_VERSION_MISMATCH'] ?? 0) +
        (counts['INVALID_REQUEST_STATE'] ?? 0),
    ).toBe(19);
    expect(await count('SELECT count(*)::int AS n FROM $schema.advice_message WHERE ubrn = $1', [ubrn])).toBe(2);
  });

  it('A027: converting makes one referral for the referring practice, once, whatever the concurrency; not without authorisation', async () => {
    const refused = await create(false);
    expect(await codeOf(advice.convert({ ...asHospital, id: refused, ifMatch: 'W/"1"' }, hospital.context()))).toBe(
      'INAPPROPRIATE_VALUE',
    );

    const ubrn = await create(true);
    const results = outcomes(
      await allAtOnce(12, 25_000, () =>
        advice.convert({ ...asHospital, id: ubrn, ifMatch: 'W/"1"' }, hospital.context()),
      ),
    );
    const converted = results.filter((result): result is FhirReply => typeof result !== 'string');
    expect(converted).toHaveLength(1);
    const referralUbrn = converted[0]?.location?.replace('STU3/ReferralRequest/', '') ?? '';
    expect(referralUbrn).toMatch(/^[0-9]{12}$/);
    const referral = await client.getReferral({ ...asGp, id: referralUbrn }, gp.context());
    expect(stateOf(referral.resource)).toBe('NOT_BOOKED');
    expect(
      await count(`SELECT count(*)::int AS n FROM $schema.referral WHERE referrer_ods = $1 AND ubrn = $2`, [
        'A83008',
        referralUbrn,
      ]),
    ).toBe(1);
    expect(
      await count(`SELECT count(*)::int AS n FROM $schema.advice_request WHERE ubrn = $1 AND state = 'CONVERTED'`, [
        ubrn,
      ]),
    ).toBe(1);
    expect(
      await count(`SELECT count(*)::int AS n FROM $schema.outbox WHERE subject = $1 AND payload->>'ubrn' = $2`, [
        ERS_EVENTS.adviceConverted,
        ubrn,
      ]),
    ).toBe(1);
    // A later conversion is refused: the request is converted.
    expect(await codeOf(advice.convert({ ...asHospital, id: ubrn, ifMatch: 'W/"2"' }, hospital.context()))).toBe(
      'INVALID_REQUEST_STATE',
    );
  });
});

import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import {
  AdviceClient,
  ERS_EVENTS,
  type EReferralsClient,
  type FhirReply,
  type FhirResource,
} from '@platform/contracts-ers';
import { NatsRpcClient, type CallContext } from '@platform/shared-nats';
import { allAtOnce, outcomes, tally } from '@platform/shared-testing';
import { testGatewaySigner } from '@platform/testing-services';
import {
  ALIVE_PATIENT,
  createReferralParameters,
  DECEASED_PATIENT,
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
import { SERVICE_EXTENSIONS } from '../directory/service-resource';

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
  function request(serviceIds: string[], authorised = true, patient = ALIVE_PATIENT): FhirResource {
    const referral = createReferralParameters(patient, serviceIds);
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
    // Both events name the referring practice, as every referral and advice event does.
    const referrers = await under.db.query<{ subject: string; referrer: string }>(
      `SELECT subject, payload->>'referrerOdsCode' AS referrer FROM "${under.schema}".outbox
        WHERE payload->>'ubrn' = $1 ORDER BY id`,
      [ubrn],
    );
    expect(referrers.rows).toEqual([
      { subject: ERS_EVENTS.adviceCreated, referrer: gp.context().caller?.organisation },
      { subject: ERS_EVENTS.adviceResponded, referrer: gp.context().caller?.organisation },
    ]);
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

  /** An A027 body as the NHS's NoAttachments example, for `ubrn` at `version`, with any parameter replaced or dropped. */
  function conversion(ubrn: string, version: number, changes: Record<string, unknown> = {}): FhirResource {
    const parameters: Record<string, Record<string, unknown>> = {
      createFrom: {
        name: 'createFrom',
        valueReference: { reference: `CommunicationRequest/${ubrn}/_history/${version}` },
      },
      guidance: { name: 'guidance', valueString: 'I have converted this to send the patient to one of our services' },
      newReferralPriority: {
        name: 'newReferralPriority',
        valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', code: 'URGENT' },
      },
      reviewComments: { name: 'reviewComments', valueString: "Refer this patient to our 'xxx' service please" },
    };
    const parameter = Object.entries(parameters)
      .filter(([name]) => changes[name] !== null)
      .map(([name, item]) => (changes[name] === undefined ? item : { name, ...(changes[name] as object) }));
    const extra = (changes['extra'] as Record<string, unknown>[] | undefined) ?? [];
    return {
      resourceType: 'Parameters',
      meta: {
        profile: [
          'https://fhir.nhs.uk/STU3/StructureDefinition/eRS-CreateFromCommunicationRequestActionLater-Request-Parameters-1',
        ],
      },
      parameter: [...parameter, ...extra],
    };
  }

  const convert = (ubrn: string, version: number, changes: Record<string, unknown> = {}, requestId?: string) =>
    advice.convert(
      { ...asHospital, id: ubrn, resource: conversion(ubrn, version, changes) },
      hospital.context(requestId),
    );

  /** What A027 may have changed: the request, its conversation, a referral under its number, and the events. */
  const snapshot = async (ubrn: string): Promise<unknown> => ({
    request: (
      await under.db.query(
        `SELECT version, state, converted_ubrn, updated_at FROM "${under.schema}".advice_request WHERE ubrn = $1`,
        [ubrn],
      )
    ).rows,
    messages: await count('SELECT count(*)::int AS n FROM $schema.advice_message WHERE ubrn = $1', [ubrn]),
    referrals: await count('SELECT count(*)::int AS n FROM $schema.referral WHERE ubrn = $1', [ubrn]),
    events: await count(`SELECT count(*)::int AS n FROM $schema.outbox WHERE payload->>'ubrn' = $1`, [ubrn]),
  });

  const extension = (resource: FhirResource, suffix: string): Record<string, unknown> | undefined =>
    (resource['extension'] as { url: string }[]).find((item) => item.url.endsWith(suffix));

  it("A027 answers the ReferralRequest as the NHS example does: the request's UBRN at its next version, TRIAGED_PROVIDER_TO_ACTION, the new priority, the review comments, the request linked; the guidance goes to the referrer", async () => {
    const ubrn = await create(true);
    const requestId = randomUUID();
    const converted = await convert(ubrn, 1, {}, requestId);
    expect(converted.versionId).toBe('2');
    expect(converted.location).toBe(`STU3/ReferralRequest/${ubrn}`);
    const referral = converted.resource;
    // The fields of the NHS's response example (convertAdviceAndGuidanceToReferral/responses/NoAttachments.json).
    expect(referral).toMatchObject({
      resourceType: 'ReferralRequest',
      id: ubrn,
      meta: { versionId: '2', profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-ReferralRequest-1'] },
      status: 'active',
      intent: 'plan',
      subject: { identifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: ALIVE_PATIENT } },
      supportingInfo: [{ reference: `CommunicationRequest/${ubrn}` }],
    });
    expect((referral['extension'] as { url: string }[]).map((item) => item.url.split('/').pop())).toEqual([
      'Extension-eRS-Appointment-1',
      'Extension-eRS-Appointment-Reference-1',
      'Extension-eRS-ReferralPriority-1',
      'Extension-eRS-ReferralShortlist-1',
      'Extension-eRS-Commissioning-Rule-Org-1',
      'Extension-eRS-ReferralState-1',
    ]);
    expect(extension(referral, 'Extension-eRS-ReferralPriority-1')).toMatchObject({
      valueCodeableConcept: {
        coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', code: 'URGENT', display: 'Urgent' }],
      },
    });
    expect(extension(referral, 'Extension-eRS-ReferralState-1')).toMatchObject({
      extension: [
        { url: 'state', valueCoding: { code: 'TRIAGED_PROVIDER_TO_ACTION', display: 'Triaged - Provider To Action' } },
        {
          url: 'reason',
          valueCoding: {
            system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReviewOutcome-1',
            code: 'PROVIDER_CONVERTED_ADVICE_AND_GUIDANCE_ADMIN_TO_REFER',
            display: 'Provider Converted Advice and Guidance, Admin to Refer',
          },
        },
        { url: 'comments', valueString: "Refer this patient to our 'xxx' service please" },
      ],
    });
    const contained = referral['contained'] as FhirResource[];
    expect(contained.map((item) => item['id'])).toEqual(['serviceSearchCriteria', 'shortlist', 'appointment']);
    expect(JSON.stringify(contained[0])).toContain('"code":"URGENT"');
    const serviceId = (
      await under.db.query<{ service_id: string }>(
        `SELECT service_id::text FROM "${under.schema}".advice_request WHERE ubrn = $1`,
        [ubrn],
      )
    ).rows[0]?.service_id;
    expect(contained[1]).toMatchObject({ entry: [{ item: { identifier: { value: serviceId } } }] });
    expect(contained[2]).toMatchObject({
      resourceType: 'Appointment',
      status: 'proposed',
      reason: [{ coding: [{ code: 'PROVIDER_CONVERTED_ADVICE_AND_GUIDANCE_ADMIN_TO_REFER' }] }],
      comment: "Refer this patient to our 'xxx' service please",
      incomingReferral: [{ reference: `ReferralRequest/${ubrn}/_history/2` }],
    });

    // Read back: the referral as A005 gives it (to the referrer and the provider), the request CONVERTED at the same
    // version naming it, and the guidance as the provider's message to the referrer.
    const read = await client.getReferral({ ...asGp, id: ubrn }, gp.context());
    expect(read.versionId).toBe('2');
    expect(read.resource).toEqual(referral);
    expect(stateOf((await client.getReferral({ ...asHospital, id: ubrn }, hospital.context())).resource)).toBe(
      'TRIAGED_PROVIDER_TO_ACTION',
    );
    const requestRead = await advice.get({ ...asGp, id: ubrn }, gp.context());
    expect(requestRead.versionId).toBe('2');
    expect(extension(requestRead.resource, 'Extension-eRS-AdviceAndGuidanceState-1')).toMatchObject({
      valueCoding: { code: 'CONVERTED' },
    });
    expect(extension(requestRead.resource, 'Extension-eRS-ConvertedReferral-1')).toMatchObject({
      valueReference: { reference: `ReferralRequest/${ubrn}` },
    });
    const conversation = await advice.conversation({ ...asGp, id: ubrn }, gp.context());
    const messages = (conversation.resource['entry'] as { resource: FhirResource }[]).map((entry) => entry.resource);
    expect(messages).toHaveLength(2);
    expect(messages[1]).toMatchObject({
      category: [{ coding: [{ code: 'RESPONDER' }] }],
      note: [{ text: 'I have converted this to send the patient to one of our services' }],
    });
    expect(
      await count(`SELECT count(*)::int AS n FROM $schema.outbox WHERE payload->>'ubrn' = $1 AND subject = ANY($2)`, [
        ubrn,
        [ERS_EVENTS.referralCreated, ERS_EVENTS.adviceConverted],
      ]),
    ).toBe(2);

    // The same X-Request-ID again: the first answer, nothing changed. Another: the request is converted (stale).
    const before = await snapshot(ubrn);
    expect(await convert(ubrn, 1, {}, requestId)).toEqual(converted);
    expect(await snapshot(ubrn)).toEqual(before);
    expect(await codeOf(convert(ubrn, 2))).toBe('INVALID_REQUEST_STATE');
    expect(await codeOf(convert(ubrn, 1))).toBe('RESOURCE_VERSION_MISMATCH');
    expect(await snapshot(ubrn)).toEqual(before);
  });

  it('a converted referral names its Advice and Guidance request in every later version, not only the one A027 wrote', async () => {
    const ubrn = await create(true);
    await convert(ubrn, 1);
    const link = [{ reference: `CommunicationRequest/${ubrn}` }];
    // A later change by the referrer (A036), then the versioned and the current reads.
    const cancelled = await client.cancelReferral(
      {
        ...asGp,
        id: ubrn,
        ifMatch: 'W/"2"',
        resource: {
          resourceType: 'Parameters',
          parameter: [{ name: 'cancellationReason', valueCoding: { code: 'RAISED_IN_ERROR' } }],
        },
      },
      gp.context(),
    );
    expect(cancelled.versionId).toBe('3');
    expect(stateOf(cancelled.resource)).toBe('CANCELLED_REFERRAL');
    expect(cancelled.resource['supportingInfo']).toEqual(link);
    expect((await client.getReferral({ ...asGp, id: ubrn }, gp.context())).resource['supportingInfo']).toEqual(link);
    for (const version of ['2', '3']) {
      const read = await client.getReferral({ ...asGp, id: ubrn, version }, gp.context());
      expect(read.resource['supportingInfo']).toEqual(link);
    }
  });

  it('A027 refuses each malformed value with the NHS code, and a request it may not convert, changing nothing', async () => {
    const ubrn = await create(true);
    const before = await snapshot(ubrn);
    const coding = (system: string, code: string): Record<string, unknown> => ({ valueCoding: { system, code } });
    const priorities = 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1';
    const cases: [string, Record<string, unknown>, string][] = [
      ['no guidance', { guidance: null }, 'MISSING_VALUE'],
      ['blank guidance', { guidance: { valueString: '   ' } }, 'MISSING_VALUE'],
      ['guidance over 8000 characters', { guidance: { valueString: 'x'.repeat(8001) } }, 'INVALID_VALUE'],
      ['guidance not a string', { guidance: { valueInteger: 3 } }, 'INVALID_VALUE'],
      ['no newReferralPriority', { newReferralPriority: null }, 'MISSING_VALUE'],
      ['an unknown priority', { newReferralPriority: coding(priorities, 'WHENEVER') }, 'INVALID_VALUE'],
      [
        'a priority of another system',
        { newReferralPriority: coding('http://example.org/p', 'URGENT') },
        'INVALID_VALUE',
      ],
      ['a priority without its system', { newReferralPriority: { valueCoding: { code: 'URGENT' } } }, 'INVALID_VALUE'],
      ['no reviewComments', { reviewComments: null }, 'MISSING_VALUE'],
      ['reviewComments over 2000 characters', { reviewComments: { valueString: 'y'.repeat(2001) } }, 'INVALID_VALUE'],
      ['no createFrom', { createFrom: null }, 'MISSING_VALUE'],
      [
        'createFrom of a referral',
        { createFrom: { valueReference: { reference: `ReferralRequest/${ubrn}` } } },
        'INVALID_VALUE',
      ],
      ['an unknown parameter', { extra: [{ name: 'urgency', valueString: 'now' }] }, 'UNEXPECTED_FIELD'],
      ['guidance twice', { extra: [{ name: 'guidance', valueString: 'again' }] }, 'INAPPROPRIATE_VALUE'],
      [
        'an attachment without its eRS-AttachmentType-1 type',
        {
          extra: [
            {
              name: 'reviewAttachmentFile',
              resource: {
                resourceType: 'DocumentReference',
                content: [{ attachment: { url: `Binary/${randomUUID()}` } }],
              },
            },
          ],
        },
        'INAPPROPRIATE_VALUE',
      ],
    ];
    const answers = [];
    for (const [label, changes] of cases) answers.push([label, await codeOf(convert(ubrn, 1, changes))]);
    expect(answers).toEqual(cases.map(([label, , code]) => [label, code]));
    expect(await snapshot(ubrn)).toEqual(before);

    // A service that does not take the priority: UNSUPPORTED_PRIORITY.
    const routineOnly = newServiceId();
    const published = healthcareService(routineOnly);
    (published['extension'] as object[]).push({ url: SERVICE_EXTENSIONS.priority, valueCode: 'ROUTINE' });
    await client.publishService({ resource: published }, hospital.context());
    const toRoutineOnly = (await advice.create({ ...asGp, resource: request([routineOnly]) }, gp.context())).resource[
      'parameter'
    ] as { resource: FhirResource }[];
    const narrow = toRoutineOnly[0]?.resource['id'] as string;
    const narrowBefore = await snapshot(narrow);
    expect(await codeOf(convert(narrow, 1))).toBe('UNSUPPORTED_PRIORITY');
    expect(await snapshot(narrow)).toEqual(narrowBefore);
    expect(await codeOf(convert(narrow, 1, { newReferralPriority: coding(priorities, 'ROUTINE') }))).toBe('ok');

    // A patient PDS records as deceased (the request was made before): PATIENT_ERROR.
    const forDeceased = (
      await advice.create({ ...asGp, resource: request([await service()], true, DECEASED_PATIENT) }, gp.context())
    ).resource['parameter'] as { resource: FhirResource }[];
    const deceased = forDeceased[0]?.resource['id'] as string;
    const deceasedBefore = await snapshot(deceased);
    expect(await codeOf(convert(deceased, 1))).toBe('PATIENT_ERROR');
    expect(await snapshot(deceased)).toEqual(deceasedBefore);

    // Not authorised by the referrer; another provider; a stale version; none; a number that is no request.
    const notAuthorised = await create(false);
    expect(await codeOf(convert(notAuthorised, 1))).toBe('INAPPROPRIATE_VALUE');
    expect(
      await codeOf(
        advice.convert({ ...asHospital, id: ubrn, resource: conversion(ubrn, 1) }, provider(OTHER_PROVIDER).context()),
      ),
    ).toBe('NO_RELATIONSHIP');
    expect(await codeOf(convert(ubrn, 7))).toBe('RESOURCE_VERSION_MISMATCH');
    // If-Match and createFrom's _history naming different versions contradict each other, whichever is current.
    for (const [ifMatch, named] of [
      ['W/"1"', 7],
      ['W/"7"', 1],
    ] as const) {
      expect(
        await codeOf(
          advice.convert({ ...asHospital, id: ubrn, ifMatch, resource: conversion(ubrn, named) }, hospital.context()),
        ),
      ).toBe('CONFLICTING_VALUES');
    }
    expect(
      await codeOf(
        advice.convert(
          {
            ...asHospital,
            id: ubrn,
            resource: conversion(ubrn, 1, {
              createFrom: { valueReference: { reference: `CommunicationRequest/${ubrn}` } },
            }),
          },
          hospital.context(),
        ),
      ),
    ).toBe('PRECONDITION_FAILED');
    expect(await codeOf(convert('999999999999', 1))).toBe('REFERENCE_NOT_FOUND');
    expect(await codeOf(advice.convert({ ...asGp, id: ubrn, resource: conversion(ubrn, 1) }, gp.context()))).toBe(
      'ACCESS_DENIED',
    );
    // Answered already (RESPONDED): the provider's response was given; it is not converted after it.
    const answered = await create(true);
    await advice.respond({ ...asHospital, id: answered, ifMatch: 'W/"1"', resource: response }, hospital.context());
    const answeredBefore = await snapshot(answered);
    expect(await codeOf(convert(answered, 2))).toBe('INVALID_REQUEST_STATE');
    expect(await snapshot(answered)).toEqual(answeredBefore);
    expect(await snapshot(ubrn)).toEqual(before);
  });

  it('A027 from 30 simultaneous callers, each its own X-Request-ID: one referral; 30 retries of one X-Request-ID at once: one referral, every caller the same answer', async () => {
    const ubrn = await create(true);
    const results = outcomes(await allAtOnce(30, 30_000, () => convert(ubrn, 1)));
    const counts = tally(results, (result) => (typeof result === 'string' ? result : 'converted'));
    expect(counts['converted']).toBe(1);
    expect(
      (counts['REFERRAL_LOCKED'] ?? 0) +
        (counts['RESOURCE_VERSION_MISMATCH'] ?? 0) +
        (counts['INVALID_REQUEST_STATE'] ?? 0),
    ).toBe(29);
    expect(await snapshot(ubrn)).toMatchObject({ referrals: 1, messages: 2, events: 3 });

    const other = await create(true);
    const requestId = randomUUID();
    const same = outcomes(await allAtOnce(30, 30_000, () => convert(other, 1, {}, requestId)));
    const answers = same.filter((result): result is FhirReply => typeof result !== 'string');
    expect(answers).toHaveLength(30);
    // The same answer to each (a replayed answer comes back from jsonb, so its keys may be in another order).
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0]).toMatchObject({ versionId: '2', resource: { resourceType: 'ReferralRequest', id: other } });
    expect(await snapshot(other)).toMatchObject({ referrals: 1, messages: 2, events: 3 });
  });

  it('A026 and A027 on one request at once (15 answers, 15 conversions, each its own X-Request-ID): one of them wins, never both', async () => {
    for (let round = 0; round < 3; round += 1) {
      const ubrn = await create(true);
      const results = outcomes(
        await allAtOnce(30, 30_000, (index) =>
          index % 2 === 0
            ? advice.respond({ ...asHospital, id: ubrn, ifMatch: 'W/"1"', resource: response }, hospital.context())
            : convert(ubrn, 1),
        ),
      );
      const won = results.filter((result) => typeof result !== 'string');
      expect(won).toHaveLength(1);
      const losers = tally(
        results.filter((result): result is string => typeof result === 'string'),
        (code) => code,
      );
      const refusals = ['INVALID_REQUEST_STATE', 'REFERRAL_LOCKED', 'RESOURCE_VERSION_MISMATCH'];
      expect(Object.keys(losers).filter((code) => !refusals.includes(code))).toEqual([]);
      expect(Object.values(losers).reduce((sum, n) => sum + n, 0)).toBe(29);
      const [row] = (
        await under.db.query<{ state: string; version: number }>(
          `SELECT state, version FROM "${under.schema}".advice_request WHERE ubrn = $1`,
          [ubrn],
        )
      ).rows;
      const converted = row?.state === 'CONVERTED';
      expect(row).toEqual({ state: converted ? 'CONVERTED' : 'RESPONDED', version: 2 });
      // One answer or one referral, the conversation's two messages, and the events of the one change.
      expect(await snapshot(ubrn)).toMatchObject({
        referrals: converted ? 1 : 0,
        messages: 2,
        events: converted ? 3 : 2,
      });
    }
  });

  it('A044, A023, A026 and A027 are for healthcare workers in user-restricted access: an application-restricted statement is 403 ACCESS_DENIED and changes nothing', async () => {
    const unattended = (context: CallContext): CallContext => ({
      ...context,
      ...(context.caller ? { caller: { ...context.caller, accessMode: 'application-restricted' as const } } : {}),
    });
    const ubrn = await create(true);
    const before = await snapshot(ubrn);
    const refused = [
      await codeOf(advice.create({ ...asGp, resource: request([await service()]) }, unattended(gp.context()))),
      await codeOf(
        advice.worklist({ ...asHospital, resource: { resourceType: 'Parameters' } }, unattended(hospital.context())),
      ),
      await codeOf(
        advice.respond(
          { ...asHospital, id: ubrn, ifMatch: 'W/"1"', resource: response },
          unattended(hospital.context()),
        ),
      ),
      await codeOf(
        advice.convert({ ...asHospital, id: ubrn, resource: conversion(ubrn, 1) }, unattended(hospital.context())),
      ),
    ];
    expect(refused).toEqual(['ACCESS_DENIED', 'ACCESS_DENIED', 'ACCESS_DENIED', 'ACCESS_DENIED']);
    expect(await snapshot(ubrn)).toEqual(before);
    // A024 allows application-restricted access, as the NHS does.
    expect(await codeOf(advice.get({ ...asHospital, id: ubrn }, unattended(hospital.context())))).toBe('ok');
  });

  it('A026 and A027 refused 423 while another write holds the request run again on a retry with the same X-Request-ID, as the 423 says to', async () => {
    for (const operation of ['A026', 'A027']) {
      const ubrn = await create(true);
      const requestId = randomUUID();
      const send = (): Promise<FhirReply> =>
        operation === 'A026'
          ? advice.respond(
              { ...asHospital, id: ubrn, ifMatch: 'W/"1"', resource: response },
              hospital.context(requestId),
            )
          : convert(ubrn, 1, {}, requestId);
      await under.db.query('BEGIN');
      let locked: string;
      try {
        await under.db.query(`SELECT 1 FROM "${under.schema}".advice_request WHERE ubrn = $1 FOR UPDATE`, [ubrn]);
        locked = await codeOf(send());
      } finally {
        await under.db.query('ROLLBACK');
      }
      expect([operation, locked]).toEqual([operation, 'REFERRAL_LOCKED']);
      expect([operation, await codeOf(send())]).toEqual([operation, 'ok']);
      // And the retry after that gets the answer the write gave, changing nothing more.
      expect([operation, await codeOf(send())]).toEqual([operation, 'ok']);
      expect(await count('SELECT count(*)::int AS n FROM $schema.advice_message WHERE ubrn = $1', [ubrn])).toBe(2);
    }
  });
});

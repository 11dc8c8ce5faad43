import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EReferralsClient, FhirResource } from '@platform/contracts-ers';
import { allAtOnce, referencePath, rejectionOf, startTestJwks, tally, type TestJwks } from '@platform/shared-testing';
import { startBuiltGateway, type BuiltGateway } from '@platform/testing-services';
import {
  ersRequest,
  organisationToken,
  issueCode,
  referrer,
  startEReferralsUnderTest,
  stateOf,
  type EReferralsUnderTest,
  type ErsAnswer,
  type ErsSender,
} from '../e-referrals.test-harness';

const example = (file: string): FhirResource =>
  JSON.parse(readFileSync(referencePath('pds-ers/ers', file), 'utf8')) as FhirResource;

const ids = (bundle: FhirResource, type: string): string[] =>
  ((bundle['entry'] as { resource: { resourceType: string; id: string } }[]) ?? [])
    .filter((entry) => entry.resource.resourceType === type)
    .map((entry) => entry.resource.id);

/**
 * Sandbox mode (ERS_SEED=sandbox): the NHS e-RS examples' requests get the outcomes their response files show
 * (NHS reference payloads, MIT licence, in shared/reference/pds-ers/ers).
 */
describe('e-referrals sandbox: the NHS examples against the seeded services, slots and referrals', () => {
  let under: EReferralsUnderTest;
  let client: EReferralsClient;
  const gp = referrer();
  const fn = { businessFunction: gp.businessFunction };

  let jwks: TestJwks;
  let gateway: BuiltGateway;
  let gpToken: string;
  let hospitalToken: string;

  const token = (username: string, role: string, organisation: string): Promise<string> =>
    organisationToken(jwks, username, role, organisation);

  const send = (
    method: 'GET' | 'POST',
    path: string,
    as: ErsSender,
    options: { body?: unknown; ifMatch?: string; requestId?: string } = {},
  ): Promise<ErsAnswer> => ersRequest(gateway.base, method, path, as, options);
  const asGp = (): ErsSender => ({
    token: gpToken,
    businessFunction: 'REFERRING_CLINICIAN',
  });
  const asHospital = (): ErsSender => ({
    token: hospitalToken,
    businessFunction: 'SERVICE_PROVIDER_CLINICIAN',
  });

  beforeAll(async () => {
    under = await startEReferralsUnderTest({ schemaPrefix: 'ers_sandbox' });
    ({ client } = under);
    jwks = await startTestJwks();
    gateway = await startBuiltGateway({ natsUrl: under.natsUrl, jwksUrl: jwks.url });
    // The sandbox's referring practice and the examples' provider (R69), as their users.
    gpToken = await token('clinician', 'clinician', 'A83008');
    hospitalToken = await token('provider-clinician', 'provider-clinician', 'R69');
  });

  afterAll(async () => {
    await gateway?.stop();
    await jwks?.stop();
    await under?.stop();
  });

  it('A015: the slots of 12000 (Minimum), 11000 a page of five (Page1PageSize5), 10000 none (NoSlots), page 5 refused', async () => {
    const minimum = await client.searchSlots(
      { ...fn, query: { 'schedule.actor:HealthcareService': '12000', _count: '20', page: '1' } },
      gp.context(),
    );
    const expected = example('stu3/A015_slots_response_Minimum.json');
    expect(minimum.resource['total']).toBe(expected['total']);
    expect(ids(minimum.resource, 'Slot')).toEqual(ids(expected, 'Slot'));
    expect(ids(minimum.resource, 'Schedule')).toEqual(ids(expected, 'Schedule'));

    const page = await client.searchSlots(
      { ...fn, query: { 'schedule.actor:HealthcareService': '11000', _count: '5', page: '1' } },
      gp.context(),
    );
    const pageExpected = example('stu3/A015_slots_response_Page1PageSize5.json');
    expect(page.resource['total']).toBe(pageExpected['total']);
    expect(ids(page.resource, 'Slot')).toEqual(ids(pageExpected, 'Slot'));
    expect((page.resource['link'] as { relation: string }[]).map((link) => link.relation)).toEqual(['self', 'next']);

    const none = await client.searchSlots(
      { ...fn, query: { 'schedule.actor:HealthcareService': '10000' } },
      gp.context(),
    );
    expect(none.resource).toMatchObject({ total: 0, entry: [] });

    const error = example('stu3/A015_slots_response_400_ErrorPage5.json');
    const refused = await rejectionOf(
      client.searchSlots(
        { ...fn, query: { 'schedule.actor:HealthcareService': '11000', _count: '5', page: '5' } },
        gp.context(),
      ),
    );
    const issue = (error['issue'] as { diagnostics: string }[])[0];
    expect(refused).toMatchObject({ code: 'INVALID_VALUE', diagnostics: issue?.diagnostics });
  });

  it('A005 reads the booked example referral, and A004 answers PRIORITY with the codes of the NHS file', async () => {
    const booked = await client.getReferral({ ...fn, id: '000000070001' }, gp.context());
    const expected = example('stu3/A005_referralRequest_response_BookedDBS.json');
    expect(booked.resource['id']).toBe(expected['id']);
    expect(booked.versionId).toBe((expected['meta'] as { versionId: string }).versionId);
    expect(stateOf(booked.resource)).toBe('BOOKED');
    expect(JSON.stringify(booked.resource)).toContain('"reference":"Slot/11002001"');
    const priority = await client.codeSystem({ ...fn, id: 'PRIORITY' }, gp.context());
    const codes = (resource: FhirResource): string[] =>
      (resource['concept'] as { code: string }[]).map((item) => item.code).sort();
    expect(codes(priority.resource)).toEqual(codes(example('stu3/A004_CodeSystem_PRIORITY.json')));
  });

  it("A011 through the gateway: the NHS Minimal example refers PDS's sandbox patient 9912003888 to 11002, NOT_BOOKED and URGENT", async () => {
    const created = await send('POST', 'STU3/ReferralRequest/$ers.createReferral', asGp(), {
      body: example('stu3/A011_createReferral_request_Minimal.json'),
    });
    expect(created.status).toBe(201);
    const expected = example('stu3/A011_createReferral_response_ReferralRequest.json');
    expect(created.body['resourceType']).toBe(expected['resourceType']);
    expect(created.body['id']).toMatch(/^\d{12}$/);
    expect(stateOf(created.body)).toBe(stateOf(expected));
    expect(JSON.stringify(created.body)).toContain('"code":"URGENT"');
    expect(JSON.stringify(created.body)).toContain('"value":"9912003888"');
    expect(JSON.stringify(created.body)).toContain('"value":"11002"');
  });

  it('A022 through the gateway: the NHS MinimalExampleDBS cancels the booked example referral and answers its proposed appointment', async () => {
    const answer = await send(
      'POST',
      'STU3/ReferralRequest/000000070001/$ers.cancelAppointmentActionLater',
      asHospital(),
      {
        body: {
          resourceType: 'Parameters',
          meta: {
            profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-cancelAppointmentActionLater-Parameters-1'],
          },
          parameter: [{ name: 'comments', valueString: 'Please contact patient to rebook' }],
        },
        ifMatch: 'W/"5"',
      },
    );
    expect(answer.status).toBe(200);
    expect(answer.etag).toBe('W/"6"');
    expect(stateOf(answer.body)).toBe('TRIAGED_PROVIDER_TO_ACTION');
    const extensions = answer.body['extension'] as { url: string; valueReference?: { reference: string } }[];
    expect(extensions.slice(0, 2).map((item) => item.url)).toEqual([
      'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-Appointment-1',
      'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-Appointment-Reference-1',
    ]);
    expect(extensions[0]?.valueReference).toEqual({ reference: '#appointment' });
    expect(extensions[1]?.valueReference?.reference).toMatch(/^Appointment\/\d+$/);
    expect(extensions[1]?.valueReference?.reference).not.toBe('Appointment/70009');
    expect((answer.body['contained'] as FhirResource[]).find((item) => item['id'] === 'appointment')).toMatchObject({
      resourceType: 'Appointment',
      status: 'proposed',
      reason: [{ coding: [{ code: 'CANCEL_APPOINTMENT_ACTION_LATER', display: 'Cancel Appointment Action Later' }] }],
      comment: 'Please contact patient to rebook',
      incomingReferral: [{ reference: 'ReferralRequest/000000070001/_history/6' }],
      participant: [
        { actor: { identifier: { value: '11002' }, display: 'Good Cardiology Business Service' } },
        { actor: { identifier: { value: '9912003888' } } },
      ],
    });
  });

  it('A035 finds the example services 1 and 2 by name, and A016 books the example request into slot 11000021', async () => {
    const services = await client.listServices({ ...fn, query: { _id: '1,2' } }, gp.context());
    const names = (bundle: FhirResource): string[] =>
      (bundle['entry'] as { resource: { name: string } }[]).map((entry) => entry.resource.name);
    expect(names(services.resource)).toEqual(names(example('r4/A035_HealthcareService_search_minimal.json')));
    const booked = await client.createAppointment(
      { ...fn, resource: example('stu3/A016_book_request_MinimalBooking.json') },
      gp.context(),
    );
    const expected = example('stu3/A016_book_response_MinimalBooking.json');
    expect(booked.resource).toMatchObject({
      resourceType: 'Appointment',
      status: expected['status'],
      slot: expected['slot'],
      incomingReferral: [{ reference: 'ReferralRequest/000000070000/_history/7' }],
    });
    expect(JSON.stringify(booked.resource)).toContain('Forthright Cardiology Business Service');
  });

  describe('Advice and Guidance examples, through the gateway', () => {
    const extensionCode = (resource: FhirResource, suffix: string): string | undefined =>
      (resource['extension'] as { url: string; valueCoding?: { code?: string } }[]).find((item) =>
        item.url.endsWith(suffix),
      )?.valueCoding?.code;

    it('A044: the NHS request asks service 11014 about 9912003888 and gets a CommunicationRequest, as its response file', async () => {
      const created = await send('POST', 'STU3/CommunicationRequest/$ers.createAdviceAndGuidance', asGp(), {
        body: example('stu3/A044_createAandG_request.json'),
      });
      expect(created.status).toBe(201);
      const expected = (example('stu3/A044_createAandG_response.json')['parameter'] as { name: string }[])[0];
      expect(created.body).toMatchObject({
        resourceType: 'Parameters',
        parameter: [{ name: expected?.name, resource: { resourceType: 'CommunicationRequest' } }],
      });
      const request = (created.body['parameter'] as { resource: FhirResource }[])[0]?.resource ?? {};
      expect(request['id']).toMatch(/^\d{12}$/);
      expect(extensionCode(request, 'Extension-eRS-ProviderConversionAuthorisation-1')).toBe(
        'NOT_AUTHORISED_TO_CONVERT',
      );
      expect(JSON.stringify(request)).toContain('"value":"11014"');
      expect(JSON.stringify(request)).toContain('"value":"9912003888"');
    });

    it("A023: the NHS request lists the provider's two example requests awaiting it, with the example's priorities", async () => {
      const list = await send('POST', 'STU3/CommunicationRequest/$ers.fetchworklist', asHospital(), {
        body: example('stu3/A023_AandG_worklist_request.json'),
      });
      expect(list.status).toBe(200);
      const priorities = (resource: FhirResource): Record<string, string> =>
        Object.fromEntries(
          (
            resource['entry'] as {
              item: { reference: string };
              extension: { extension: { url: string; valueCodeableConcept?: { coding: { code: string }[] } }[] }[];
            }[]
          ).map((entry) => [
            entry.item.reference,
            entry.extension[0]?.extension.find((part) => part.url === 'priority')?.valueCodeableConcept?.coding[0]
              ?.code ?? '',
          ]),
        );
      const expected = priorities(example('stu3/A023_AandG_worklist_response.json'));
      expect(Object.keys(expected)).toEqual(['CommunicationRequest/000000070000', 'CommunicationRequest/000000070002']);
      expect(priorities(list.body)).toMatchObject(expected);
    });

    it('A024 reads 000000070000 (authorised to convert, 11014, 9912003888); A025 as the NHS asks (based-on with _history) gives 000000070001 one message each way', async () => {
      const read = await send('GET', 'STU3/CommunicationRequest/000000070000', asHospital());
      expect(read.status).toBe(200);
      expect(read.etag).toBe('W/"3"');
      expect(read.body).toMatchObject({ resourceType: 'CommunicationRequest', id: '000000070000' });
      expect(extensionCode(read.body, 'Extension-eRS-ProviderConversionAuthorisation-1')).toBe('AUTHORISED_TO_CONVERT');
      expect(JSON.stringify(read.body)).toContain('"value":"11014"');
      expect(JSON.stringify(read.body)).toContain('"value":"9912003888"');
      const conversation = await send(
        'GET',
        'STU3/Communication?based-on=CommunicationRequest/000000070001/_history/2',
        asGp(),
      );
      expect(conversation.status).toBe(200);
      const expected = example('stu3/A025_AandG_conversation_OneMessageEachWay.json');
      const messages = (bundle: FhirResource): { role?: string; text?: string }[] =>
        (
          bundle['entry'] as {
            resource: {
              resourceType: string;
              category: { coding: { code: string }[] }[];
              note: { text: string }[];
            };
          }[]
        )
          .filter((entry) => entry.resource.resourceType === 'Communication')
          .map((entry) => ({ role: entry.resource.category[0]?.coding[0]?.code, text: entry.resource.note[0]?.text }))
          .sort((a, b) => (a.role ?? '').localeCompare(b.role ?? ''));
      expect(conversation.body['total']).toBe(expected['total']);
      expect(messages(conversation.body)).toEqual(messages(expected));
      // The example's own query, on the example's own number, is answered too (its conversation so far).
      const literal = await send(
        'GET',
        'STU3/Communication?based-on=CommunicationRequest/000000070000/_history/2',
        asGp(),
      );
      expect(literal.status).toBe(200);
      expect(messages(literal.body)).toEqual([messages(expected).find((message) => message.role === 'REQUESTER')]);
    });

    it('A026: the ReturnToReferrer example answers 000000070002', async () => {
      const answered = await send(
        'POST',
        'STU3/CommunicationRequest/000000070002/$ers.sendCommunicationToRequester',
        asHospital(),
        { body: example('stu3/A026_AandG_response_request_ReturnToReferrer.json'), ifMatch: 'W/"1"' },
      );
      expect(answered.status).toBe(200);
      expect(answered.etag).toBe('W/"2"');
      const after = await send('GET', 'STU3/CommunicationRequest/000000070002', asHospital());
      expect(JSON.stringify(after.body)).toContain('"code":"RESPONDED"');
    });

    /** The NHS's A027 request example (convertAdviceAndGuidanceToReferral/requests/NoAttachments.json). */
    const noAttachments = (reference = 'CommunicationRequest/000000070000/_history/3'): FhirResource => ({
      meta: {
        profile: [
          'https://fhir.nhs.uk/STU3/StructureDefinition/eRS-CreateFromCommunicationRequestActionLater-Request-Parameters-1',
        ],
      },
      resourceType: 'Parameters',
      parameter: [
        { name: 'createFrom', valueReference: { reference } },
        { name: 'guidance', valueString: 'I have converted this to send the patient to one of our services' },
        {
          name: 'newReferralPriority',
          valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', code: 'ROUTINE' },
        },
        { name: 'reviewComments', valueString: "Refer this patient to our 'xxx' service please as soon as possible" },
      ],
    });

    it("A027: the NoAttachments example, as the NHS sends it (no If-Match), converts 000000070000 and answers the ReferralRequest of the NHS's response example; a retry with its X-Request-ID the same answer", async () => {
      const requestId = randomUUID();
      const convert = (): Promise<ErsAnswer> =>
        send('POST', 'STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater', asHospital(), {
          body: noAttachments(),
          requestId,
        });
      const converted = await convert();
      expect(converted.status).toBe(201);
      expect(converted.requestId).toBe(requestId);
      // As the NHS's response example (responses/NoAttachments.json): the ReferralRequest at version 4 (the request
      // was at 3), TRIAGED_PROVIDER_TO_ACTION for the provider's admin team, the example's reason and comments,
      // ROUTINE, shortlisting 11014, a proposed appointment there, and the request in supportingInfo.
      expect(converted.etag).toBe('W/"4"');
      expect(converted.body).toMatchObject({
        resourceType: 'ReferralRequest',
        meta: { versionId: '4', profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-ReferralRequest-1'] },
        status: 'active',
        intent: 'plan',
        specialty: { coding: [{ code: 'CARDIOLOGY', display: 'Cardiology' }] },
        subject: { identifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: '9912003888' } },
        supportingInfo: [{ reference: 'CommunicationRequest/000000070000' }],
      });
      // The example's number is the request's; here the seeded example referral 000000070000 (A005, A016) holds it
      // already, so the converted referral has the next UBRN (outside the sandbox it is always the request's).
      const ubrn = converted.body['id'] as string;
      expect(ubrn).toMatch(/^\d{12}$/);
      expect(converted.location).toMatch(new RegExp(`/referrals/FHIR/STU3/ReferralRequest/${ubrn}$`));
      const extensions = converted.body['extension'] as {
        url: string;
        extension?: unknown[];
        valueCodeableConcept?: unknown;
      }[];
      const state = extensions.find((item) => item.url.endsWith('Extension-eRS-ReferralState-1'));
      expect(state?.extension).toEqual([
        {
          url: 'state',
          valueCoding: {
            system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralState-1',
            code: 'TRIAGED_PROVIDER_TO_ACTION',
            display: 'Triaged - Provider To Action',
          },
        },
        {
          url: 'reason',
          valueCoding: {
            system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReviewOutcome-1',
            code: 'PROVIDER_CONVERTED_ADVICE_AND_GUIDANCE_ADMIN_TO_REFER',
            display: 'Provider Converted Advice and Guidance, Admin to Refer',
          },
        },
        { url: 'comments', valueString: "Refer this patient to our 'xxx' service please as soon as possible" },
      ]);
      expect(extensions.find((item) => item.url.endsWith('Extension-eRS-ReferralPriority-1'))).toEqual({
        url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-ReferralPriority-1',
        valueCodeableConcept: {
          coding: [
            { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', code: 'ROUTINE', display: 'Routine' },
          ],
        },
      });
      const contained = converted.body['contained'] as FhirResource[];
      expect(contained.find((item) => item['id'] === 'shortlist')).toMatchObject({
        entry: [{ item: { identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value: '11014' } } }],
      });
      expect(contained.find((item) => item['id'] === 'appointment')).toMatchObject({
        resourceType: 'Appointment',
        status: 'proposed',
        reason: [{ coding: [{ code: 'PROVIDER_CONVERTED_ADVICE_AND_GUIDANCE_ADMIN_TO_REFER' }] }],
        comment: "Refer this patient to our 'xxx' service please as soon as possible",
        incomingReferral: [{ reference: `ReferralRequest/${ubrn}/_history/4` }],
        participant: [
          { actor: { identifier: { value: '11014' } } },
          { actor: { identifier: { value: '9912003888' } } },
        ],
      });

      // The retry (same X-Request-ID) gets the same answer; the referral reads back as answered; the request is
      // CONVERTED at version 4, and the guidance is the provider's last message to the referrer.
      const retried = await convert();
      expect(retried.status).toBe(201);
      expect(retried.etag).toBe('W/"4"');
      expect(retried.body).toEqual(converted.body);
      const referral = await send('GET', `STU3/ReferralRequest/${ubrn}`, asGp());
      expect(referral.etag).toBe('W/"4"');
      expect(referral.body).toEqual(converted.body);
      const request = await send('GET', 'STU3/CommunicationRequest/000000070000', asHospital());
      expect(request.etag).toBe('W/"4"');
      expect(JSON.stringify(request.body)).toContain('"code":"CONVERTED"');
      expect(JSON.stringify(request.body)).toContain(`"reference":"ReferralRequest/${ubrn}"`);
      const conversation = await send(
        'GET',
        'STU3/Communication?based-on=CommunicationRequest/000000070000/_history/4',
        asGp(),
      );
      const notes = (conversation.body['entry'] as { resource: { note: { text: string }[] } }[]).map(
        (entry) => entry.resource.note[0]?.text,
      );
      expect(notes.at(-1)).toBe('I have converted this to send the patient to one of our services');

      // The same example with a new X-Request-ID names a version that is no longer current: 409, nothing more.
      const again = await send(
        'POST',
        'STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater',
        asHospital(),
        { body: noAttachments() },
      );
      expect(again.status).toBe(409);
      expect(issueCode(again)).toBe('RESOURCE_VERSION_MISMATCH');
    });

    it('A027 refuses a malformed example through the gateway with 422 and the NHS code, changing nothing', async () => {
      const ubrn = await authorisedRequest();
      const body = noAttachments(`CommunicationRequest/${ubrn}/_history/1`);
      const without = (name: string): FhirResource => ({
        ...body,
        parameter: (body['parameter'] as { name: string }[]).filter((item) => item.name !== name),
      });
      const withPriority = (code: string): FhirResource => ({
        ...body,
        parameter: (body['parameter'] as { name: string }[]).map((item) =>
          item.name === 'newReferralPriority'
            ? { ...item, valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', code } }
            : item,
        ),
      });
      const refused: [FhirResource, string][] = [
        [without('createFrom'), 'MISSING_VALUE'],
        [without('guidance'), 'MISSING_VALUE'],
        [without('newReferralPriority'), 'MISSING_VALUE'],
        [without('reviewComments'), 'MISSING_VALUE'],
        [withPriority('SOMETIME'), 'INVALID_VALUE'],
        [noAttachments(`CommunicationRequest/${ubrn.slice(1)}/_history/1`), 'INVALID_VALUE'],
      ];
      for (const [refusedBody, code] of refused) {
        const answer = await send(
          'POST',
          'STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater',
          asHospital(),
          { body: refusedBody },
        );
        expect([answer.status, issueCode(answer)]).toEqual([422, code]);
      }
      const read = await send('GET', `STU3/CommunicationRequest/${ubrn}`, asHospital());
      expect(read.etag).toBe('W/"1"');
      expect(JSON.stringify(read.body)).toContain('"code":"AWAITING_RESPONSE"');
      const referrals = await under.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${under.schema}".referral WHERE ubrn = $1`,
        [ubrn],
      );
      expect(referrals.rows[0]?.n).toBe(0);
    });

    /** A request of the GP's, authorised for conversion, made from the A044 example; its UBRN. */
    async function authorisedRequest(): Promise<string> {
      const request = example('stu3/A044_createAandG_request.json');
      const parameters = (request['parameter'] as { name: string; valueCoding?: { code: string } }[]).map((item) =>
        item.name === 'providerConversionAuthorisation'
          ? { ...item, valueCoding: { ...item.valueCoding, code: 'AUTHORISED_TO_CONVERT' } }
          : item,
      );
      const created = await send('POST', 'STU3/CommunicationRequest/$ers.createAdviceAndGuidance', asGp(), {
        body: { ...request, parameter: parameters },
      });
      expect(created.status).toBe(201);
      return ((created.body['parameter'] as { resource: FhirResource }[])[0]?.resource['id'] as string) ?? '';
    }

    it("A027 as the NHS sends it, from 24 simultaneous callers (each its own X-Request-ID): one referral, under the request's UBRN, the rest refused", async () => {
      const ubrn = await authorisedRequest();
      const body = noAttachments(`CommunicationRequest/${ubrn}/_history/1`);
      const settled = await allAtOnce(24, 30_000, () =>
        send('POST', 'STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater', asHospital(), { body }),
      );
      const answers = settled.map((result) => (result.status === 'fulfilled' ? result.value : undefined));
      const counts = tally(answers, (answer) =>
        answer ? `${answer.status} ${issueCode(answer) ?? ''}`.trim() : 'hung',
      );
      expect(counts['201']).toBe(1);
      // The others were refused: the request converted (422 INVALID_REQUEST_STATE), locked (423), or stale (409).
      expect(
        Object.keys(counts).filter(
          (key) =>
            key !== '201' &&
            !/^(409 RESOURCE_VERSION_MISMATCH|422 INVALID_REQUEST_STATE|423 REFERRAL_LOCKED)$/.test(key),
        ),
      ).toEqual([]);
      const winner = answers.find((answer) => answer?.status === 201);
      expect(winner?.body).toMatchObject({ resourceType: 'ReferralRequest', id: ubrn, meta: { versionId: '2' } });
      const referrals = await under.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${under.schema}".referral WHERE patient_nhs_number = '9912003888'
            AND ubrn IN (SELECT converted_ubrn FROM "${under.schema}".advice_request WHERE ubrn = $1)`,
        [ubrn],
      );
      expect(referrals.rows[0]?.n).toBe(1);
      const read = await send('GET', `STU3/CommunicationRequest/${ubrn}`, asHospital());
      expect(JSON.stringify(read.body)).toContain('"code":"CONVERTED"');
    });
  });
});

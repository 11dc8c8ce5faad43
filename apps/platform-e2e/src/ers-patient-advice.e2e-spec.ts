import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { EReferralsClient, shortlistParameter } from '@platform/contracts-ers';
import { NatsRpcClient, natsEndpointOptions } from '@platform/shared-nats';
import { e2eState, gatewaySigner, passwordToken, platformUp, type E2eState } from './support/platform';

/** The demo realm's hospital clinician works for RR8; its GP for A83008. */
const PROVIDER = 'RR8';

/**
 * Advice and Guidance through the gateway, a GP asking and a hospital answering with their own tokens:
 * A044 create, A023 worklist, A024 read, A026 respond (If-Match), A025 the conversation, A027 convert (instead of
 * an answer).
 */
describe('e-RS Advice and Guidance through the gateway', () => {
  let state: E2eState;
  let nats: NatsConnection;
  let serviceId: string;

  const call = async (
    user: 'clinician' | 'provider-clinician',
    method: string,
    path: string,
    body?: object,
    ifMatch?: string,
  ): Promise<{ status: number; etag: string | null; location: string | null; body: Record<string, unknown> }> => {
    const answer = await fetch(`${state.gateway}/referrals/FHIR/${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await passwordToken(state.issuer, user)}`,
        'x-request-id': randomUUID(),
        'nhsd-ers-business-function': user === 'clinician' ? 'REFERRING_CLINICIAN' : 'SERVICE_PROVIDER_CLINICIAN',
        ...(body ? { 'content-type': 'application/fhir+json' } : {}),
        ...(ifMatch ? { 'if-match': ifMatch } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return {
      status: answer.status,
      etag: answer.headers.get('etag'),
      location: answer.headers.get('location'),
      body: (await answer.json()) as Record<string, unknown>,
    };
  };

  /** An A027 body as the NHS's NoAttachments example. */
  const conversion = (ubrn: string, version: number): object => ({
    resourceType: 'Parameters',
    parameter: [
      { name: 'createFrom', valueReference: { reference: `CommunicationRequest/${ubrn}/_history/${version}` } },
      { name: 'guidance', valueString: 'Start a statin; I have referred the patient.' },
      {
        name: 'newReferralPriority',
        valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', code: 'URGENT' },
      },
      { name: 'reviewComments', valueString: 'Please book into the heart failure clinic' },
    ],
  });

  /** A044 from the GP, authorised for conversion: the request's UBRN. */
  const ask = async (): Promise<string> => {
    const created = await call('clinician', 'POST', 'STU3/CommunicationRequest/$ers.createAdviceAndGuidance', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'patient', valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: '9000000114' } },
        {
          name: 'providerConversionAuthorisation',
          valueCoding: {
            system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ProviderConversionAuthorisation-1',
            code: 'AUTHORISED_TO_CONVERT',
          },
        },
        shortlistParameter([serviceId], { priority: 'ROUTINE', specialty: 'CARDIOLOGY' }),
        { name: 'request', valueString: 'Is this murmur worth an echo?' },
      ],
    });
    expect(created.status).toBe(201);
    const ubrn = (created.location ?? '').split('/').pop() ?? '';
    expect(ubrn).toMatch(/^[0-9]{12}$/);
    return ubrn;
  };

  beforeAll(async () => {
    state = e2eState();
    expect(await platformUp(state, 60_000)).toBe(true);
    nats = await connect(natsEndpointOptions(state.natsUrl));
    const ers = new EReferralsClient(new NatsRpcClient(nats, { timeoutMs: 10_000, signer: gatewaySigner(state) }));
    serviceId = String(8_000_000 + Math.floor(Math.random() * 900_000));
    await ers.publishService(
      {
        resource: {
          resourceType: 'HealthcareService',
          id: serviceId,
          active: true,
          providedBy: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: PROVIDER } },
          name: `E2E Advice ${serviceId}`,
          specialty: [{ coding: [{ system: '_baseUrl_/STU3/CodeSystem/SPECIALTY', code: 'CARDIOLOGY' }] }],
          type: [
            { coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ClinicType-1', code: 'HEART_FAILURE' }] },
          ],
          characteristic: [
            { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/eRS-RequestFlowType', code: 'BOOKABLE' }] },
            { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/eRS-BookableType', code: 'DIRECTLY_BOOKABLE' }] },
          ],
          extension: [
            { url: 'urn:nhs-platform:ers:location-postcode', valueString: 'LS1 2TW' },
            { url: 'urn:nhs-platform:ers:indicative-wait-days', valueUnsignedInt: 21 },
          ],
        },
      },
      {
        requestId: randomUUID(),
        caller: {
          id: 'e2e-hospital',
          username: 'provider-clinician',
          roles: ['provider-clinician'],
          organisation: PROVIDER,
        },
      },
    );
  }, 60_000);

  afterAll(async () => {
    await nats?.close();
  });

  it('a GP asks, the hospital answers (A026); answered, the request is not converted', async () => {
    const ubrn = await ask();

    const worklist = await call('provider-clinician', 'POST', 'STU3/CommunicationRequest/$ers.fetchworklist', {
      resourceType: 'Parameters',
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
      ],
    });
    expect(JSON.stringify(worklist.body)).toContain(`CommunicationRequest/${ubrn}`);
    const read = await call('provider-clinician', 'GET', `STU3/CommunicationRequest/${ubrn}`);
    expect(read).toMatchObject({
      status: 200,
      etag: 'W/"1"',
      body: { resourceType: 'CommunicationRequest', id: ubrn },
    });

    const respond = (ifMatch: string) =>
      call(
        'provider-clinician',
        'POST',
        `STU3/CommunicationRequest/${ubrn}/$ers.sendCommunicationToRequester`,
        {
          resourceType: 'Parameters',
          parameter: [
            { name: 'guidanceOutcome', valueCoding: { code: 'RETURN_TO_REFERRER_WITH_ADVICE' } },
            { name: 'guidance', valueString: 'Yes: request an echo.' },
          ],
        },
        ifMatch,
      );
    expect((await respond('W/"1"')).etag).toBe('W/"2"');
    expect((await respond('W/"1"')).status).toBe(409);
    const conversation = await call('clinician', 'GET', `STU3/Communication?based-on=CommunicationRequest/${ubrn}`);
    expect(conversation.body).toMatchObject({ resourceType: 'Bundle', total: 2 });

    // Answered, the request is no longer the provider's to convert (A027 is instead of an answer).
    const late = await call(
      'provider-clinician',
      'POST',
      'STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater',
      conversion(ubrn, 2),
    );
    expect(late.status).toBe(422);
    expect(JSON.stringify(late.body)).toContain('"code":"INVALID_REQUEST_STATE"');
  });

  it('a GP asks, the hospital converts the request to a referral (A027): the ReferralRequest under the same UBRN, the guidance to the GP', async () => {
    const ubrn = await ask();
    const converted = await call(
      'provider-clinician',
      'POST',
      'STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater',
      conversion(ubrn, 1),
    );
    expect(converted.status).toBe(201);
    expect(converted.etag).toBe('W/"2"');
    expect(converted.location).toMatch(new RegExp(`/referrals/FHIR/STU3/ReferralRequest/${ubrn}$`));
    expect(converted.body).toMatchObject({
      resourceType: 'ReferralRequest',
      id: ubrn,
      meta: { versionId: '2' },
      supportingInfo: [{ reference: `CommunicationRequest/${ubrn}` }],
    });
    expect(JSON.stringify(converted.body)).toContain('"code":"TRIAGED_PROVIDER_TO_ACTION"');
    expect(JSON.stringify(converted.body)).toContain('"code":"URGENT"');
    const referral = await call('clinician', 'GET', `STU3/ReferralRequest/${ubrn}`);
    expect(referral).toMatchObject({ status: 200, etag: 'W/"2"', body: { id: ubrn } });
    const conversation = await call('clinician', 'GET', `STU3/Communication?based-on=CommunicationRequest/${ubrn}`);
    expect(conversation.body).toMatchObject({ resourceType: 'Bundle', total: 2 });
    expect(JSON.stringify(conversation.body)).toContain('Start a statin; I have referred the patient.');
  });
});

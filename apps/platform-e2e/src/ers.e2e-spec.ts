import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { e2eState, passwordToken, type E2eState } from './support/platform';

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

const PATIENT = '9000000114';
const PRACTICE = 'A83008';
const TRUST = 'RR8';

/**
 * The e-Referral Service through the gateway on the NHS e-RS API's own paths, as a GP system and a hospital
 * system would call it: the hospital publishes a service and its slots, the GP searches, refers, lists slots
 * and books, reads the referral with its ETag, is refused a stale If-Match and a business function the GP
 * does not hold, and the hospital finds the referral on its worklist and accepts it.
 */
describe('e-RS through the gateway: publish, search, refer, book, review', () => {
  let state: E2eState;
  let gp: string;
  let hospital: string;
  const serviceId = String(10_000_000 + Math.floor(Math.random() * 80_000_000));

  async function call(
    method: string,
    path: string,
    token: string,
    options: { body?: unknown; organisation: string; businessFunction?: string; ifMatch?: string; requestId?: string },
  ): Promise<Answer> {
    const response = await fetch(`${state.gateway}/referrals/FHIR/${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'x-request-id': options.requestId ?? randomUUID(),
        'nhsd-end-user-organisation-ods': options.organisation,
        ...(options.businessFunction ? { 'nhsd-ers-business-function': options.businessFunction } : {}),
        ...(options.ifMatch ? { 'if-match': options.ifMatch } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  }
  const asGp = (
    method: string,
    path: string,
    options: { body?: unknown; ifMatch?: string; businessFunction?: string } = {},
  ): Promise<Answer> =>
    call(method, path, gp, { businessFunction: 'REFERRING_CLINICIAN', ...options, organisation: PRACTICE });
  const asHospital = (
    method: string,
    path: string,
    options: { body?: unknown; ifMatch?: string; businessFunction?: string } = {},
  ): Promise<Answer> =>
    call(method, path, hospital, { businessFunction: 'SERVICE_PROVIDER_CLINICIAN', ...options, organisation: TRUST });
  const codeOf = (answer: Answer): string | undefined =>
    (answer.body['issue'] as { details?: { coding?: { code?: string }[] } }[] | undefined)?.[0]?.details?.coding?.[0]
      ?.code;

  beforeAll(async () => {
    state = e2eState();
    [gp, hospital] = await Promise.all([
      passwordToken(state.issuer, 'clinician'),
      passwordToken(state.issuer, 'provider-clinician'),
    ]);
  });

  it('runs the referral journey on the NHS paths', async () => {
    const published = await asHospital('PUT', `R4/HealthcareService/${serviceId}`, {
      body: {
        resourceType: 'HealthcareService',
        id: serviceId,
        providedBy: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: TRUST } },
        name: 'E2E Dermatology Service',
        specialty: [{ coding: [{ code: 'DERMATOLOGY' }] }],
        type: [{ coding: [{ code: 'SKIN_LESION' }] }],
        extension: [
          { url: 'urn:nhs-platform:ers:location-postcode', valueString: 'LS1 2TW' },
          { url: 'urn:nhs-platform:ers:indicative-wait-days', valueUnsignedInt: 12 },
        ],
      },
    });
    expect(published.status).toBe(200);
    expect(published.headers.get('etag')).toBe('W/"1"');
    const start = Date.now() + 2 * 24 * 3600_000;
    const slots = await asHospital('POST', 'R4/Slot/$ers.publish', {
      body: {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          {
            resource: {
              resourceType: 'Schedule',
              id: `e2e-${serviceId}`,
              actor: [{ reference: `HealthcareService/${serviceId}` }],
            },
          },
          ...[0, 1, 2].map((n) => ({
            resource: {
              resourceType: 'Slot',
              schedule: { reference: `Schedule/e2e-${serviceId}` },
              start: new Date(start + n * 3600_000).toISOString(),
              end: new Date(start + n * 3600_000 + 900_000).toISOString(),
            },
          })),
        ],
      },
    });
    expect(slots.status).toBe(200);
    expect(slots.body['total']).toBe(3);

    const criteria = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'priority', valueCoding: { code: 'ROUTINE' } },
        { name: 'specialty', valueCoding: { code: 'DERMATOLOGY' } },
        { name: 'postcode', valueString: 'LS1 2TW' },
        { name: 'distanceLimit', valueUnsignedInt: 10 },
      ],
    };
    const search = await asGp('POST', 'STU3/HealthcareService/$ers.searchHealthcareServicesForPatient', {
      body: {
        resourceType: 'Parameters',
        parameter: [
          { name: 'patient', valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: PATIENT } },
          { name: 'searchCriteria', resource: criteria },
        ],
      },
    });
    expect(search.status).toBe(200);
    expect(JSON.stringify(search.body)).toContain(`"value":"${serviceId}"`);

    const referral = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'patient', valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: PATIENT } },
        {
          name: 'shortlist',
          resource: {
            resourceType: 'List',
            contained: [criteria],
            entry: [{ item: { identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value: serviceId } } }],
          },
        },
      ],
    };
    const created = await asGp('POST', 'STU3/ReferralRequest/$ers.createReferral', { body: referral });
    expect(created.status).toBe(201);
    const ubrn = created.body['id'] as string;
    expect(ubrn).toMatch(/^[0-9]{12}$/);
    expect(created.headers.get('etag')).toBe('W/"1"');
    expect(created.headers.get('location')).toMatch(new RegExp(`/referrals/FHIR/STU3/ReferralRequest/${ubrn}$`));

    const free = await asGp(
      'GET',
      `STU3/Slot?schedule.actor%3AHealthcareService=${serviceId}&status=free&_count=2&page=1`,
    );
    expect(free.status).toBe(200);
    expect(free.body['total']).toBe(3);
    const freeSlots = (free.body['entry'] as { resource: { resourceType: string; id: string } }[]).filter(
      (entry) => entry.resource.resourceType === 'Slot',
    );
    const slotId = freeSlots[0]?.resource.id ?? '';

    const booked = await asGp('POST', 'STU3/Appointment', {
      body: {
        resourceType: 'Appointment',
        status: 'booked',
        slot: [{ reference: `Slot/${slotId}` }],
        incomingReferral: [{ reference: `ReferralRequest/${ubrn}/_history/1` }],
        participant: [
          {
            actor: { identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value: serviceId } },
            status: 'accepted',
          },
        ],
      },
    });
    expect(booked.status).toBe(201);
    expect(booked.body).toMatchObject({ resourceType: 'Appointment', status: 'booked' });

    const read = await asGp('GET', `STU3/ReferralRequest/${ubrn}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('W/"2"');
    expect(read.headers.get('content-type')).toMatch(/application\/fhir\+json/);

    // A stale If-Match: 409 with an OperationOutcome, and nothing changes.
    const cancel = {
      resourceType: 'Parameters',
      parameter: [{ name: 'cancellationReason', valueCoding: { code: 'RAISED_IN_ERROR' } }],
    };
    const stale = await asGp('POST', `STU3/ReferralRequest/${ubrn}/$ers.cancelReferral`, {
      body: cancel,
      ifMatch: 'W/"1"',
    });
    expect(stale.status).toBe(409);
    expect(codeOf(stale)).toBe('RESOURCE_VERSION_MISMATCH');
    const missing = await asGp('POST', `STU3/ReferralRequest/${ubrn}/$ers.cancelReferral`, { body: cancel });
    expect(missing.status).toBe(412);
    // A business function the GP does not hold: 403 with the eRS FORBIDDEN code.
    const forbidden = await asGp('GET', `STU3/ReferralRequest/${ubrn}`, {
      businessFunction: 'SERVICE_PROVIDER_CLINICIAN',
    });
    expect(forbidden.status).toBe(403);
    expect(codeOf(forbidden)).toBe('FORBIDDEN');
    // The slot is taken: another booking of it is 422 SLOT_NOT_AVAILABLE.
    const second = await asGp('POST', 'STU3/ReferralRequest/$ers.createReferral', { body: referral });
    const taken = await asGp('POST', 'STU3/Appointment', {
      body: {
        resourceType: 'Appointment',
        status: 'booked',
        slot: [{ reference: `Slot/${slotId}` }],
        incomingReferral: [{ reference: `ReferralRequest/${second.body['id'] as string}/_history/1` }],
        participant: [
          {
            actor: { identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value: serviceId } },
            status: 'accepted',
          },
        ],
      },
    });
    expect(taken.status).toBe(422);
    expect(codeOf(taken)).toBe('SLOT_NOT_AVAILABLE');
    const secondUbrn = second.body['id'] as string;
    const secondBooked = await asGp('POST', 'STU3/Appointment', {
      body: {
        resourceType: 'Appointment',
        status: 'booked',
        slot: [{ reference: `Slot/${freeSlots[1]?.resource.id ?? ''}` }],
        incomingReferral: [{ reference: `ReferralRequest/${secondUbrn}/_history/1` }],
        participant: [
          {
            actor: { identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value: serviceId } },
            status: 'accepted',
          },
        ],
      },
    });
    expect(secondBooked.status).toBe(201);

    // The hospital's worklist has it; accepting it takes the version the GP's booking left.
    const worklist = await asHospital('POST', 'STU3/ReferralRequest/$ers.fetchworklist', {
      body: {
        resourceType: 'Parameters',
        parameter: [{ name: 'listType', valueCodeableConcept: { coding: [{ code: 'REFERRALS_FOR_REVIEW' }] } }],
      },
    });
    expect(worklist.status).toBe(200);
    expect(JSON.stringify(worklist.body)).toContain(`ReferralRequest/${ubrn}`);
    const accepted = await asHospital('POST', `STU3/ReferralRequest/${ubrn}/$ers.acceptReferral`, { ifMatch: 'W/"2"' });
    expect(accepted.status).toBe(200);
    expect(accepted.headers.get('etag')).toBe('W/"3"');
    const history = await asGp('GET', `STU3/ReferralRequest/${ubrn}/_history/1`);
    expect(JSON.stringify(history.body)).toContain('NOT_BOOKED');

    // A022: the hospital cancels the second booking and tasks its admin team (comments required; If-Match).
    const actionLater = (parameter: unknown[]): unknown => ({ resourceType: 'Parameters', parameter });
    const comments = { name: 'comments', valueString: 'Please contact patient to rebook' };
    const noComments = await asHospital(
      'POST',
      `STU3/ReferralRequest/${secondUbrn}/$ers.cancelAppointmentActionLater`,
      {
        body: actionLater([]),
        ifMatch: 'W/"2"',
      },
    );
    expect(noComments.status).toBe(422);
    expect(codeOf(noComments)).toBe('MISSING_VALUE');
    const staleLater = await asHospital(
      'POST',
      `STU3/ReferralRequest/${secondUbrn}/$ers.cancelAppointmentActionLater`,
      {
        body: actionLater([comments]),
        ifMatch: 'W/"1"',
      },
    );
    expect(staleLater.status).toBe(409);
    const byGp = await asGp('POST', `STU3/ReferralRequest/${secondUbrn}/$ers.cancelAppointmentActionLater`, {
      body: actionLater([comments]),
      ifMatch: 'W/"2"',
    });
    expect(byGp.status).toBe(403);
    const later = await asHospital('POST', `STU3/ReferralRequest/${secondUbrn}/$ers.cancelAppointmentActionLater`, {
      body: actionLater([comments]),
      ifMatch: 'W/"2"',
    });
    expect(later.status).toBe(200);
    expect(later.headers.get('etag')).toBe('W/"3"');
    expect(JSON.stringify(later.body)).toContain('TRIAGED_PROVIDER_TO_ACTION');
    expect(JSON.stringify(later.body)).toContain('CANCEL_APPOINTMENT_ACTION_LATER');
    const again = await asGp('GET', `STU3/Slot?schedule.actor%3AHealthcareService=${serviceId}&status=free&_count=5`);
    expect(JSON.stringify(again.body)).toContain(freeSlots[1]?.resource.id ?? 'missing');
  });

  it('A040: the clinician admin lists who it may act on behalf of; other functions 403, a missing _query 400', async () => {
    const admin = 'SERVICE_PROVIDER_CLINICIAN_ADMIN';
    const list = await asHospital('GET', 'R4/Practitioner?_query=onBehalfOf', { businessFunction: admin });
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toMatch(/application\/fhir\+json/);
    expect(list.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    for (const entry of (list.body['entry'] as { resource: { resourceType: string } }[]) ?? []) {
      expect(entry.resource.resourceType).toBe('Practitioner');
    }
    const noQuery = await asHospital('GET', 'R4/Practitioner', { businessFunction: admin });
    expect(noQuery.status).toBe(400);
    expect(codeOf(noQuery)).toBe('REC_BAD_REQUEST');
    const clinician = await asHospital('GET', 'R4/Practitioner?_query=onBehalfOf');
    expect(clinician.status).toBe(403);
    expect(codeOf(clinician)).toBe('FORBIDDEN');
    const gpList = await asGp('GET', 'R4/Practitioner?_query=onBehalfOf', { businessFunction: admin });
    expect(gpList.status).toBe(403);
  });

  it('answers the e-RS reference data and the caller business functions, and wants X-Request-ID', async () => {
    const priority = await asGp('GET', 'STU3/CodeSystem/PRIORITY');
    expect(priority.status).toBe(200);
    expect(JSON.stringify(priority.body)).toContain('TWO_WEEK_WAIT');
    const roles = await asGp('GET', 'R4/PractitionerRole');
    expect(JSON.stringify(roles.body)).toContain('REFERRING_CLINICIAN');
    const response = await fetch(`${state.gateway}/referrals/FHIR/STU3/CodeSystem/PRIORITY`, {
      headers: { authorization: `Bearer ${gp}`, 'nhsd-ers-business-function': 'REFERRING_CLINICIAN' },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
  });
});

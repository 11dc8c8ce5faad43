import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { type headers as natsHeaders, JSONCodec } from 'nats';
import type { Client } from 'pg';
import { ERS_SUBJECTS, type EReferralsClient, type FhirDocument, type FhirReply } from '@platform/contracts-ers';
import {
  CallerAssertionSigner,
  generateCallerKey,
  HEADER,
  privateKeyFrom,
  toNatsHeaders,
  type CallContext,
} from '@platform/shared-nats';
import { allAtOnce, outcomes, rejectionOf } from '@platform/shared-testing';
import { testGatewaySigner } from '@platform/testing-services';
import {
  ALIVE_PATIENT,
  booking,
  bookReferral,
  createReferralParameters,
  healthcareService,
  newServiceId,
  OTHER_PROVIDER,
  provider,
  referrer,
  slotIdsOf,
  slotsBundle,
  startEReferralsUnderTest,
  stateOf,
  type EReferralsUnderTest,
  worklistParameters,
} from '../e-referrals.test-harness';

const codec = JSONCodec<unknown>();

interface WorklistEntry {
  extension: { extension: { url: string; valueCodeableConcept?: { coding: { code: string }[] } }[] }[];
  item: { reference: string };
}

/** A008's answer, the FHIR List as e-referrals wrote it, gzipped: its JSON. */
function worklistJson(document: FhirDocument): string {
  expect(document.encoding).toBe('gzip');
  return gunzipSync(document.body).toString('utf8');
}

/** A008's answer: each entry's UBRN and referral type. */
function worklistEntries(document: FhirDocument): { ubrn: string; type?: string }[] {
  const list = JSON.parse(worklistJson(document)) as {
    resourceType: string;
    entry: WorklistEntry[];
  };
  expect(list.resourceType).toBe('List');
  return list.entry.map((entry) => ({
    ubrn: entry.item.reference.replace('ReferralRequest/', ''),
    type: entry.extension[0]?.extension.find((item) => item.url === 'referralType')?.valueCodeableConcept?.coding[0]
      ?.code,
  }));
}

describe('e-referrals: the directory and the provider journey', () => {
  let under: EReferralsUnderTest;
  let client: EReferralsClient;
  let db: Client;
  let schema: string;
  const gp = referrer();
  const hospital = provider();
  const rfn = { businessFunction: gp.businessFunction };
  const pfn = { businessFunction: hospital.businessFunction };

  const count = async (sql: string, values: unknown[] = []): Promise<number> =>
    (await db.query<{ n: number }>(sql.replace(/\$schema/g, `"${schema}"`), values)).rows[0]?.n ?? -1;

  async function publish(
    options: Parameters<typeof healthcareService>[1] = {},
    slots = 0,
  ): Promise<{ id: string; slots: string[] }> {
    const id = newServiceId();
    await client.publishService({ resource: healthcareService(id, options) }, hospital.context());
    if (slots === 0) return { id, slots: [] };
    return {
      id,
      slots: slotIdsOf((await client.publishSlots({ resource: slotsBundle(id, slots) }, hospital.context())).resource),
    };
  }

  const search = (criteria: Record<string, unknown>[], patient = ALIVE_PATIENT): Promise<FhirReply> =>
    client.searchServices(
      {
        ...rfn,
        resource: {
          resourceType: 'Parameters',
          parameter: [
            { name: 'patient', valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: patient } },
            { name: 'searchCriteria', resource: { resourceType: 'Parameters', parameter: criteria } },
          ],
        },
      },
      gp.context(),
    );
  const idsOf = (list: FhirReply): string[] =>
    ((list.resource['entry'] as { item: { identifier: { value: string } } }[]) ?? []).map(
      (entry) => entry.item.identifier.value,
    );

  beforeAll(async () => {
    under = await startEReferralsUnderTest({ schemaPrefix: 'ers_provider' });
    ({ client, db, schema } = under);
  });

  afterAll(async () => {
    await under?.stop();
  });

  describe('directory', () => {
    it('publishes a service as versions (A033 current, A037 a version) and refuses an organisation the registry does not know', async () => {
      const id = newServiceId();
      const first = await client.publishService(
        { resource: healthcareService(id, { waitDays: 10 }) },
        hospital.context(),
      );
      expect(first.versionId).toBe('1');
      await client.publishService({ resource: healthcareService(id, { waitDays: 30 }) }, hospital.context());
      const current = await client.getService({ ...rfn, id }, gp.context());
      expect(current.versionId).toBe('2');
      expect(JSON.stringify(current.resource)).toContain('"valueUnsignedInt":30');
      const v1 = await client.getService({ ...rfn, id, version: '1' }, gp.context());
      expect(JSON.stringify(v1.resource)).toContain('"valueUnsignedInt":10');
      const list = await client.listServices({ ...rfn, query: { _id: `${id},999999998` } }, gp.context());
      expect(list.resource['total']).toBe(1);
      const unknownOrg = provider('ZZZ99');
      expect(
        await rejectionOf(
          client.publishService(
            { resource: healthcareService(newServiceId(), { ods: 'ZZZ99' }) },
            unknownOrg.context(),
          ),
        ),
      ).toMatchObject({ code: 'REFERENCE_NOT_FOUND' });
      expect(
        await rejectionOf(
          client.publishService(
            { resource: healthcareService(newServiceId(), { postcode: 'ZZ9 9ZZ' }) },
            hospital.context(),
          ),
        ),
      ).toMatchObject({ code: 'REFERENCE_NOT_FOUND' });
      // The other trust cannot take the service over.
      const other = provider(OTHER_PROVIDER);
      expect(
        await rejectionOf(
          client.publishService({ resource: healthcareService(id, { ods: OTHER_PROVIDER }) }, other.context()),
        ),
      ).toMatchObject({
        code: 'FORBIDDEN',
      });
    });

    it('publishes 2,000 slots in one call, once per X-Request-ID however many retries arrive together', async () => {
      const id = newServiceId();
      await client.publishService({ resource: healthcareService(id) }, hospital.context());
      const requestId = randomUUID();
      const bundle = slotsBundle(id, 2000);
      const results = outcomes(
        await allAtOnce(6, 25_000, () => client.publishSlots({ resource: bundle }, hospital.context(requestId))),
      );
      expect(results.map((result) => (typeof result === 'string' ? result : result.resource['total']))).toEqual(
        Array.from({ length: 6 }, () => 2000),
      );
      expect(await count(`SELECT count(*)::int AS n FROM $schema.slot WHERE service_id = $1`, [id])).toBe(2000);
      expect(
        await rejectionOf(client.publishSlots({ resource: slotsBundle(id, 3001) }, hospital.context())),
      ).toMatchObject({
        code: 'TOO_MANY_ITEMS',
      });
    });

    it('A010 finds services within the distance of a postcode (nearest first) and respects age and sex', async () => {
      const leeds = await publish({ postcode: 'LS1 2TW', specialty: 'UROLOGY', clinicTypes: ['PROSTATE'] });
      const london = await publish({ postcode: 'SE1 2RT', specialty: 'UROLOGY', clinicTypes: ['PROSTATE'] });
      const children = await publish({
        postcode: 'LS1 2TW',
        specialty: 'UROLOGY',
        clinicTypes: ['PROSTATE'],
        ageRange: { high: 16 },
      });
      const women = await publish({
        postcode: 'LS1 2TW',
        specialty: 'UROLOGY',
        clinicTypes: ['PROSTATE'],
        gender: 'FEMALE',
      });
      const criteria = [
        { name: 'priority', valueCoding: { code: 'ROUTINE' } },
        { name: 'specialty', valueCoding: { code: 'UROLOGY' } },
        { name: 'postcode', valueString: 'LS1 2TW' },
        { name: 'distanceLimit', valueUnsignedInt: 30 },
      ];
      const near = idsOf(await search(criteria));
      expect(near).toEqual(expect.arrayContaining([leeds.id, children.id, women.id]));
      expect(near).not.toContain(london.id);
      const far = idsOf(await search([...criteria.slice(0, 3), { name: 'distanceLimit', valueUnsignedInt: 300 }]));
      expect(far).toContain(london.id);
      expect(far.indexOf(london.id)).toBeGreaterThan(far.indexOf(leeds.id));
      // The PDS patient 9000000114 is an adult; age- and sex-appropriate services only.
      const appropriate = idsOf(await search([...criteria, { name: 'ageAndGenderAppropriate', valueBoolean: true }]));
      expect(appropriate).toContain(leeds.id);
      expect(appropriate).not.toContain(children.id);
      expect(
        await rejectionOf(
          search([
            { name: 'priority', valueCoding: { code: 'ROUTINE' } },
            { name: 'postcode', valueString: 'ZZ9 9ZZ' },
          ]),
        ),
      ).toMatchObject({
        code: 'REFERENCE_NOT_FOUND',
      });
    });
  });

  describe('provider journey', () => {
    it('worklists, accepts a booked referral, and rejects another with a reason (the slot is free again)', async () => {
      const service = await publish({}, 2);
      const created = await Promise.all(
        [0, 1].map(() =>
          client.createReferral(
            { ...rfn, resource: createReferralParameters(ALIVE_PATIENT, [service.id]) },
            gp.context(),
          ),
        ),
      );
      const [a, b] = created.map((reply) => reply.resource['id'] as string);
      await client.createAppointment(
        { ...rfn, resource: booking(a ?? '', 1, service.id, service.slots[0] ?? '') },
        gp.context(),
      );
      await client.createAppointment(
        { ...rfn, resource: booking(b ?? '', 1, service.id, service.slots[1] ?? '') },
        gp.context(),
      );
      const worklist = await client.worklist(
        {
          ...pfn,
          resource: worklistParameters('REFERRALS_FOR_REVIEW'),
        },
        hospital.context(),
      );
      expect(worklistEntries(worklist).map((entry) => entry.ubrn)).toEqual(expect.arrayContaining([a, b]));
      expect(worklistJson(worklist)).toContain(`"reference":"ReferralRequest/${a}"`);
      // Another trust sees none of them.
      const other = await client.worklist(
        {
          ...pfn,
          resource: worklistParameters('REFERRALS_FOR_REVIEW'),
        },
        provider(OTHER_PROVIDER).context(),
      );
      expect(worklistEntries(other).map((entry) => entry.ubrn)).not.toContain(a);

      const accepted = await client.acceptReferral({ ...pfn, id: a ?? '', ifMatch: 'W/"2"' }, hospital.context());
      expect(stateOf(accepted.resource)).toBe('ACCEPTED');
      const reject = {
        resourceType: 'Parameters',
        parameter: [
          { name: 'rejectionReason', valueCoding: { code: 'SERVICE_INAPPROPRIATE' } },
          { name: 'rejectionComments', valueString: 'This is a short comment' },
        ],
      };
      const rejected = await client.rejectReferral(
        { ...pfn, id: b ?? '', ifMatch: 'W/"2"', resource: reject },
        hospital.context(),
      );
      expect(stateOf(rejected.resource)).toBe('REJECTED');
      expect(
        await count(`SELECT count(*)::int AS n FROM $schema.slot WHERE id = $1 AND status = 'free'`, [
          service.slots[1],
        ]),
      ).toBe(1);
      // A referrer cannot reject; a reason from the wrong code system is refused.
      expect(
        await rejectionOf(
          client.rejectReferral({ ...rfn, id: a ?? '', ifMatch: 'W/"3"', resource: reject }, gp.context()),
        ),
      ).toMatchObject({ code: 'ACCESS_DENIED' });
      const wrongReason = {
        ...reject,
        parameter: [{ name: 'rejectionReason', valueCoding: { code: 'RAISED_IN_ERROR' } }],
      };
      expect(
        await rejectionOf(
          client.rejectReferral({ ...pfn, id: a ?? '', ifMatch: 'W/"3"', resource: wrongReason }, hospital.context()),
        ),
      ).toMatchObject({ code: 'INVALID_CODE' });
      // The referral returned to the referrer can be booked again (A029 says so).
      const actions = await client.availableActions(
        { ...rfn, query: { focus: `ReferralRequest/${b}/_history/3` } },
        gp.context(),
      );
      expect(JSON.stringify(actions.resource)).toContain('CREATE_APPOINTMENT');
      const requests = await client.searchServiceRequests(
        { ...pfn, query: { identifier: `https://fhir.nhs.uk/Id/ers-ubrn|${a}` } },
        hospital.context(),
      );
      expect(requests.resource['total']).toBe(1);
    });

    it('triage: A021 sends to the triage service, A028 returns it to the referrer with advice', async () => {
      const triage = await publish({ triage: true });
      const created = await client.createReferralForTriage(
        { ...rfn, resource: createReferralParameters(ALIVE_PATIENT, [triage.id]) },
        gp.context(),
      );
      const ubrn = created.resource['id'] as string;
      expect(stateOf(created.resource)).toBe('AWAITING_TRIAGE');
      const outcome = {
        resourceType: 'Parameters',
        parameter: [
          { name: 'reviewOutcome', valueCoding: { code: 'RETURN_TO_REFERRER_WITH_ADVICE' } },
          { name: 'reviewComments', valueString: 'Condition not serious. No further action needed' },
        ],
      };
      const returned = await client.recordReviewOutcome(
        { ...pfn, id: ubrn, ifMatch: 'W/"1"', resource: outcome },
        hospital.context(),
      );
      expect(stateOf(returned.resource)).toBe('TRIAGE_RESPONSE');
      expect(
        await rejectionOf(
          client.recordReviewOutcome({ ...pfn, id: ubrn, ifMatch: 'W/"2"', resource: outcome }, hospital.context()),
        ),
      ).toMatchObject({
        code: 'INVALID_REQUEST_STATE',
      });
      expect(await count(`SELECT count(*)::int AS n FROM $schema.referral_version WHERE ubrn = $1`, [ubrn])).toBe(2);
    });
  });

  describe('worklists after A022', () => {
    it('a referral the provider cancelled to action later (TRIAGED_PROVIDER_TO_ACTION) is on its AWAITING_BOOKING worklist, not for review', async () => {
      const service = await publish({}, 1);
      const ubrn = await bookReferral(client, service.id, service.slots[0] ?? '', gp);
      const list = async (listType: string, caller = hospital): Promise<string[]> => {
        const reply = await client.worklist(
          {
            ...pfn,
            resource: worklistParameters(listType),
          },
          caller.context(),
        );
        return worklistEntries(reply)
          .filter((entry) => entry.ubrn === ubrn)
          .map((entry) => `${entry.ubrn} ${entry.type}`);
      };
      expect(await list('REFERRALS_FOR_REVIEW')).toEqual([`${ubrn} APPOINTMENT`]);
      expect(await list('AWAITING_BOOKING')).toEqual([]);
      const later = await client.cancelAppointmentActionLater(
        {
          ...pfn,
          id: ubrn,
          ifMatch: 'W/"2"',
          resource: {
            resourceType: 'Parameters',
            parameter: [{ name: 'comments', valueString: 'Please contact patient to rebook' }],
          },
        },
        hospital.context(),
      );
      expect(stateOf(later.resource)).toBe('TRIAGED_PROVIDER_TO_ACTION');
      expect(await list('REFERRALS_FOR_REVIEW')).toEqual([]);
      expect(await list('AWAITING_BOOKING')).toEqual([`${ubrn} BOOKING_DEFERRAL`]);
      // Another trust's worklist does not show it.
      expect(await list('AWAITING_BOOKING', provider(OTHER_PROVIDER))).toEqual([]);
    });
  });

  describe('worklist dates', () => {
    it("writes each referral's dates as the database holds them, to the millisecond (truncated, not rounded)", async () => {
      const service = await publish({}, 1);
      const ubrn = await bookReferral(client, service.id, service.slots[0] ?? '', gp);
      await db.query(
        `UPDATE "${schema}".referral SET created_at = '2026-03-04 05:06:07.123999+00',
           updated_at = '2026-03-04 05:06:07.999999+00', pathway_start = '1999-12-31 23:59:59.000500+00' WHERE ubrn = $1`,
        [ubrn],
      );
      const reply = await client.worklist(
        {
          ...pfn,
          resource: worklistParameters('REFERRALS_FOR_REVIEW'),
        },
        hospital.context(),
      );
      const list = JSON.parse(worklistJson(reply)) as {
        entry: { extension: { extension: { url: string; valueDateTime?: string }[] }[]; item: { reference: string } }[];
      };
      const entry = list.entry.find((item) => item.item.reference === `ReferralRequest/${ubrn}`);
      const dates = Object.fromEntries(
        (entry?.extension[0]?.extension ?? [])
          .filter((item) => item.valueDateTime !== undefined)
          .map((item) => [item.url, item.valueDateTime]),
      );
      expect(dates).toEqual({
        eReferralPathwayStart: '1999-12-31T23:59:59.000Z',
        referralCreated: '2026-03-04T05:06:07.123Z',
        referralLastUpdated: '2026-03-04T05:06:07.999Z',
      });
    });
  });

  describe('an attacker on the bus', () => {
    const data = { businessFunction: 'REFERRING_CLINICIAN', id: '000000070000' };
    const send = async (
      headers: ReturnType<typeof natsHeaders>,
    ): Promise<{ err?: { code: string; diagnostics?: string } }> => {
      const reply = await under.connection.request(
        ERS_SUBJECTS.referralGet,
        codec.encode({ pattern: ERS_SUBJECTS.referralGet, data, id: randomUUID() }),
        { timeout: 5000, headers },
      );
      return codec.decode(reply.data) as { err?: { code: string; diagnostics?: string } };
    };
    const clinician = (): CallContext => gp.context();

    it('refuses a caller claimed only in headers, and one signed with a key it does not trust, and audits nothing', async () => {
      const before = await count(`SELECT count(*)::int AS n FROM $schema.read_audit`);
      expect((await send(toNatsHeaders(clinician()))).err).toMatchObject({ code: 'ACCESS_DENIED' });
      const stranger = await generateCallerKey('gateway');
      const signer = new CallerAssertionSigner('gateway', privateKeyFrom(stranger.privateKey), stranger.kid);
      const context = clinician();
      const headers = toNatsHeaders(context);
      headers.set(HEADER.callerAssertion, await signer.sign(ERS_SUBJECTS.referralGet, data, context));
      expect((await send(headers)).err).toMatchObject({ code: 'ACCESS_DENIED' });
      expect(await count(`SELECT count(*)::int AS n FROM $schema.read_audit`)).toBe(before);
    });

    // The four subjects served without Nest (serveDirect): the same checks as the global guard, then the use cases'.
    const direct: [string, Record<string, unknown>, () => CallContext][] = [
      [
        ERS_SUBJECTS.appointmentCreate,
        { businessFunction: 'REFERRING_CLINICIAN', resource: booking('000000070000', 1, '1', '1') },
        clinician,
      ],
      [
        ERS_SUBJECTS.serviceSearch,
        { businessFunction: 'REFERRING_CLINICIAN', resource: { resourceType: 'Parameters', parameter: [] } },
        clinician,
      ],
      [ERS_SUBJECTS.slotSearch, { businessFunction: 'REFERRING_CLINICIAN', query: {} }, clinician],
      [
        ERS_SUBJECTS.worklistGet,
        { businessFunction: 'SERVICE_PROVIDER_CLINICIAN', resource: { resourceType: 'Parameters', parameter: [] } },
        () => hospital.context(),
      ],
    ];
    const ask = async (
      subject: string,
      payload: Record<string, unknown>,
      headers: ReturnType<typeof natsHeaders>,
    ): Promise<{ err?: { code: string } }> => {
      const reply = await under.connection.request(
        subject,
        codec.encode({ pattern: subject, data: payload, id: randomUUID() }),
        { timeout: 5000, headers },
      );
      return codec.decode(reply.data) as { err?: { code: string } };
    };

    it.each(direct)(
      '%s: refuses a caller claimed only in headers, one signed with an untrusted key, the wrong role, and a statement for other data',
      async (subject, payload, caller) => {
        const before = await count(`SELECT count(*)::int AS n FROM $schema.idempotent_request`);
        expect((await ask(subject, payload, toNatsHeaders(caller()))).err).toMatchObject({ code: 'ACCESS_DENIED' });
        const stranger = await generateCallerKey('gateway');
        const untrusted = new CallerAssertionSigner('gateway', privateKeyFrom(stranger.privateKey), stranger.kid);
        const context = caller();
        const headers = toNatsHeaders(context);
        headers.set(HEADER.callerAssertion, await untrusted.sign(subject, payload, context));
        expect((await ask(subject, payload, headers)).err).toMatchObject({ code: 'ACCESS_DENIED' });
        // Signed by the gateway's own key, but for a caller whose role the subject does not open to.
        const signer = await testGatewaySigner();
        const wrongRole: CallContext = { ...context, caller: { id: 'someone', roles: ['ops'] } };
        const roleHeaders = toNatsHeaders(wrongRole);
        roleHeaders.set(HEADER.callerAssertion, await signer.sign(subject, payload, wrongRole));
        expect((await ask(subject, payload, roleHeaders)).err).toMatchObject({ code: 'ACCESS_DENIED' });
        // A real statement, replayed with other data.
        const replayed = toNatsHeaders(context);
        replayed.set(HEADER.callerAssertion, await signer.sign(subject, payload, context));
        expect((await ask(subject, { ...payload, businessFunction: 'REFERRING_ADMIN' }, replayed)).err).toMatchObject({
          code: 'ACCESS_DENIED',
        });
        // A properly signed caller without the business function the subject needs: 403 from the use case.
        const other = subject === ERS_SUBJECTS.worklistGet ? 'REFERRING_CLINICIAN' : 'SERVICE_PROVIDER_CLINICIAN';
        const wrongFunction = { ...payload, businessFunction: other };
        const signed = toNatsHeaders(context);
        signed.set(HEADER.callerAssertion, await signer.sign(subject, wrongFunction, context));
        expect((await ask(subject, wrongFunction, signed)).err).toMatchObject({ code: 'FORBIDDEN' });
        // An unknown field: refused as the validation pipe refused it.
        const extra = { ...payload, extra: 1 };
        const extraHeaders = toNatsHeaders(context);
        extraHeaders.set(HEADER.callerAssertion, await signer.sign(subject, extra, context));
        expect((await ask(subject, extra, extraHeaders)).err).toMatchObject({ code: 'INVALID_VALUE' });
        expect(await count(`SELECT count(*)::int AS n FROM $schema.idempotent_request`)).toBe(before);
      },
    );
  });
});

import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import type { Client } from 'pg';
import { ERS_EVENT_STREAM, ERS_EVENTS, type EReferralsClient, type FhirReply } from '@platform/contracts-ers';
import { allAtOnce, outcomes, rejectionOf, tally } from '@platform/shared-testing';
import {
  ALIVE_PATIENT,
  booking,
  createReferralParameters,
  DECEASED_PATIENT,
  healthcareService,
  newServiceId,
  OTHER_PRACTICE,
  provider,
  referrer,
  slotIdsOf,
  slotsBundle,
  startEReferralsUnderTest,
  stateOf,
  type EReferralsUnderTest,
} from '../e-referrals.test-harness';

describe('e-referrals: the referrer journey over NATS against PostgreSQL, PDS and the N3 registry', () => {
  let under: EReferralsUnderTest;
  let client: EReferralsClient;
  let db: Client;
  let schema: string;
  let connection: NatsConnection;
  const gp = referrer();
  const hospital = provider();
  const fn = { businessFunction: gp.businessFunction };

  async function publish(
    options: Parameters<typeof healthcareService>[1] = {},
    slots = 0,
  ): Promise<{ id: string; slots: string[] }> {
    const id = newServiceId();
    await client.publishService({ resource: healthcareService(id, options) }, hospital.context());
    if (slots === 0) return { id, slots: [] };
    const published = await client.publishSlots({ resource: slotsBundle(id, slots) }, hospital.context());
    return { id, slots: slotIdsOf(published.resource) };
  }

  async function create(serviceIds: string[], patient = ALIVE_PATIENT): Promise<FhirReply> {
    return client.createReferral({ resource: createReferralParameters(patient, serviceIds), ...fn }, gp.context());
  }

  const count = async (sql: string, values: unknown[] = []): Promise<number> =>
    (await db.query<{ n: number }>(sql.replace(/\$schema/g, `"${schema}"`), values)).rows[0]?.n ?? -1;

  beforeAll(async () => {
    under = await startEReferralsUnderTest({ schemaPrefix: 'ers_journey' });
    ({ client, db, schema, connection } = under);
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('searches, creates a referral, lists slots, books one, and reads the referral current and versioned', async () => {
    const service = await publish({ clinicTypes: ['HEART_FAILURE'] }, 3);
    const search = await client.searchServices(
      {
        ...fn,
        resource: {
          resourceType: 'Parameters',
          parameter: [
            { name: 'patient', valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: ALIVE_PATIENT } },
            {
              name: 'searchCriteria',
              resource: {
                resourceType: 'Parameters',
                parameter: [
                  { name: 'priority', valueCoding: { code: 'ROUTINE' } },
                  { name: 'specialty', valueCoding: { code: 'CARDIOLOGY' } },
                  { name: 'clinicType', valueCoding: { code: 'HEART_FAILURE' } },
                  { name: 'postcode', valueString: 'LS1 2TW' },
                  { name: 'distanceLimit', valueUnsignedInt: 5 },
                ],
              },
            },
          ],
        },
      },
      gp.context(),
    );
    expect(JSON.stringify(search.resource)).toContain(`"value":"${service.id}"`);

    const created = await create([service.id]);
    const ubrn = created.resource['id'] as string;
    expect(ubrn).toMatch(/^[0-9]{12}$/);
    expect(created).toMatchObject({ versionId: '1', location: `STU3/ReferralRequest/${ubrn}` });
    expect(stateOf(created.resource)).toBe('NOT_BOOKED');
    expect(
      await count(`SELECT count(*)::int AS n FROM $schema.referral WHERE ubrn = $1 AND length(access_code) = 12`, [
        ubrn,
      ]),
    ).toBe(1);

    const slots = await client.searchSlots(
      { ...fn, query: { 'schedule.actor:HealthcareService': service.id, _count: '2', page: '1' } },
      gp.context(),
    );
    expect(slots.resource).toMatchObject({ resourceType: 'Bundle', total: 3 });
    expect((slots.resource['link'] as { relation: string }[]).map((link) => link.relation)).toEqual(['self', 'next']);

    const booked = await client.createAppointment(
      { ...fn, resource: booking(ubrn, 1, service.id, service.slots[0] ?? '') },
      gp.context(),
    );
    expect(booked.resource).toMatchObject({
      resourceType: 'Appointment',
      status: 'booked',
      slot: [{ reference: `Slot/${service.slots[0]}` }],
    });

    const now = await client.getReferral({ ...fn, id: ubrn }, gp.context());
    expect(now.versionId).toBe('2');
    expect(stateOf(now.resource)).toBe('BOOKED');
    const first = await client.getReferral({ ...fn, id: ubrn, version: '1' }, gp.context());
    expect(stateOf(first.resource)).toBe('NOT_BOOKED');
    const left = await client.searchSlots(
      { ...fn, query: { 'schedule.actor:HealthcareService': service.id } },
      gp.context(),
    );
    expect(left.resource['total']).toBe(2);
    // Every read of the referral is audited: who, for which organisation.
    expect(
      await count(`SELECT count(*)::int AS n FROM $schema.read_audit WHERE ubrn = $1 AND organisation = 'A83008'`, [
        ubrn,
      ]),
    ).toBe(2);
    // The events went through the outbox to JetStream.
    const jsm = await connection.jetstreamManager();
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const info = await jsm.streams.info(ERS_EVENT_STREAM);
      if ((info.state.subjects?.[ERS_EVENTS.referralBooked] ?? 0) >= 1) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const info = await jsm.streams.info(ERS_EVENT_STREAM, { subjects_filter: 'ers.>' } as never);
    expect(info.state.subjects?.[ERS_EVENTS.referralCreated]).toBeGreaterThanOrEqual(1);
    expect(info.state.subjects?.[ERS_EVENTS.referralBooked]).toBeGreaterThanOrEqual(1);
  });

  it('50 referrers racing for one slot: exactly one booking, SLOT_NOT_AVAILABLE for the rest, one booked row', async () => {
    const service = await publish({}, 1);
    const slot = service.slots[0] ?? '';
    const referrals = await Promise.all(Array.from({ length: 50 }, () => create([service.id])));
    const results = outcomes(
      await allAtOnce(50, 20_000, (index) =>
        client.createAppointment(
          { ...fn, resource: booking(referrals[index]?.resource['id'] as string, 1, service.id, slot) },
          gp.context(),
        ),
      ),
    );
    expect(tally(results, (result) => (typeof result === 'string' ? result : 'booked'))).toEqual({
      booked: 1,
      SLOT_NOT_AVAILABLE: 49,
    });
    expect(
      await count(`SELECT count(*)::int AS n FROM $schema.appointment WHERE slot_id = $1 AND status = 'booked'`, [
        slot,
      ]),
    ).toBe(1);
    expect(
      await count(`SELECT count(*)::int AS n FROM $schema.referral WHERE state = 'BOOKED' AND service_id = $1`, [
        service.id,
      ]),
    ).toBe(1);
  });

  it('the database itself refuses a second booked appointment of one slot', async () => {
    const service = await publish({}, 1);
    const created = await create([service.id]);
    await client.createAppointment(
      { ...fn, resource: booking(created.resource['id'] as string, 1, service.id, service.slots[0] ?? '') },
      gp.context(),
    );
    const other = await create([service.id]);
    const error = await db
      .query(
        `INSERT INTO "${schema}".appointment (ubrn, service_id, slot_id, status, resource) VALUES ($1, $2, $3, 'booked', '{}')`,
        [other.resource['id'], service.id, service.slots[0]],
      )
      .catch((caught: { code?: string }) => caught);
    expect(error).toMatchObject({ code: '23505' });
  });

  it('50 retries of one create with the same X-Request-ID apply once and all answer the same UBRN', async () => {
    const service = await publish();
    const requestId = randomUUID();
    const resource = createReferralParameters(ALIVE_PATIENT, [service.id]);
    const results = outcomes(
      await allAtOnce(50, 20_000, () => client.createReferral({ ...fn, resource }, gp.context(requestId))),
    );
    const ubrns = new Set(
      results.map((result) => (typeof result === 'string' ? result : (result.resource['id'] as string))),
    );
    expect(ubrns.size).toBe(1);
    expect([...ubrns][0]).toMatch(/^[0-9]{12}$/);
    expect(
      await count(`SELECT count(*)::int AS n FROM $schema.referral_shortlist WHERE service_id = $1`, [service.id]),
    ).toBe(1);
  });

  it('UBRNs are 12 digits from a sequence: never reused, even by a create that failed', async () => {
    const service = await publish();
    const a = (await create([service.id])).resource['id'] as string;
    const b = (await create([service.id])).resource['id'] as string;
    expect(Number(b)).toBeGreaterThan(Number(a));
  });

  it('a concurrent write to a referral gets 423 REFERRAL_LOCKED, unstored: the same X-Request-ID applies once the lock is gone', async () => {
    const service = await publish({}, 2);
    const ubrn = (await create([service.id])).resource['id'] as string;
    const holder = await db.query('SELECT 1'); // the test's own connection holds the row lock below
    void holder;
    await db.query('BEGIN');
    await db.query(`SELECT 1 FROM "${schema}".referral WHERE ubrn = $1 FOR UPDATE`, [ubrn]);
    const requestId = randomUUID();
    const attempt = (): Promise<FhirReply> =>
      client.createAppointment(
        { ...fn, resource: booking(ubrn, 1, service.id, service.slots[0] ?? '') },
        gp.context(requestId),
      );
    expect(await rejectionOf(attempt())).toMatchObject({ code: 'REFERRAL_LOCKED' });
    await db.query('ROLLBACK');
    await expect(attempt()).resolves.toMatchObject({ resource: { status: 'booked' } });
  });

  it('simultaneous writes to one referral: exactly one applies, the others are locked out or find the version stale', async () => {
    const service = await publish({}, 20);
    const ubrn = (await create([service.id])).resource['id'] as string;
    const results = outcomes(
      await allAtOnce(20, 20_000, (index) =>
        client.createAppointment(
          { ...fn, resource: booking(ubrn, 1, service.id, service.slots[index] ?? '') },
          gp.context(),
        ),
      ),
    );
    const counts = tally(results, (result) => (typeof result === 'string' ? result : 'booked'));
    expect(counts['booked']).toBe(1);
    expect((counts['REFERRAL_LOCKED'] ?? 0) + (counts['RESOURCE_VERSION_MISMATCH'] ?? 0)).toBe(19);
    expect(await count(`SELECT count(*)::int AS n FROM $schema.appointment WHERE ubrn = $1`, [ubrn])).toBe(1);
    expect(
      await count(`SELECT count(*)::int AS n FROM $schema.slot WHERE service_id = $1 AND status = 'busy'`, [
        service.id,
      ]),
    ).toBe(1);
  });

  it('a booking with a stale If-Match is 409 and writes nothing; the right one writes every row once, retried or not', async () => {
    const service = await publish({}, 2);
    const ubrn = (await create([service.id])).resource['id'] as string;
    const slot = service.slots[0] ?? '';
    const rows = async (): Promise<number[]> => [
      await count(`SELECT count(*)::int AS n FROM $schema.appointment WHERE ubrn = $1`, [ubrn]),
      await count(
        `SELECT count(*)::int AS n FROM $schema.appointment_version v JOIN $schema.appointment a ON a.id = v.appointment_id
          WHERE a.ubrn = $1`,
        [ubrn],
      ),
      await count(`SELECT count(*)::int AS n FROM $schema.referral_version WHERE ubrn = $1`, [ubrn]),
      await count(`SELECT count(*)::int AS n FROM $schema.outbox WHERE payload->>'ubrn' = $1`, [ubrn]),
      await count(`SELECT count(*)::int AS n FROM $schema.slot WHERE id = $1 AND status = 'busy'`, [slot]),
    ];
    const before = await rows();
    expect(
      await rejectionOf(
        client.createAppointment(
          { ...fn, ifMatch: 'W/"2"', resource: booking(ubrn, 1, service.id, slot) },
          gp.context(),
        ),
      ),
    ).toMatchObject({ code: 'RESOURCE_VERSION_MISMATCH' });
    expect(await rows()).toEqual(before);

    const requestId = randomUUID();
    const book = (): Promise<FhirReply> =>
      client.createAppointment(
        { ...fn, ifMatch: 'W/"1"', resource: booking(ubrn, 1, service.id, slot) },
        gp.context(requestId),
      );
    const answers = await Promise.all([book(), book(), book()]);
    expect(new Set(answers.map((answer) => answer.resource['id'])).size).toBe(1);
    expect(answers[0]).toMatchObject({ versionId: '1', resource: { status: 'booked', start: expect.any(String) } });
    const [appointments, versions, history, events, busy] = await rows();
    expect([appointments, versions, history - (before[2] ?? 0), events - (before[3] ?? 0), busy]).toEqual([
      1, 1, 1, 1, 1,
    ]);
    const saved = await db.query<{ state: string; action: string; resource: Record<string, unknown> }>(
      `SELECT state, action, resource FROM "${schema}".referral_version WHERE ubrn = $1 AND version = 2`,
      [ubrn],
    );
    expect(saved.rows[0]).toMatchObject({ state: 'BOOKED', action: 'BOOK' });
    expect(JSON.stringify(saved.rows[0]?.resource)).toContain(`Appointment/${String(answers[0]?.resource['id'])}`);
    const event = await db.query<{ subject: string; payload: Record<string, unknown> }>(
      `SELECT subject, payload FROM "${schema}".outbox WHERE payload->>'ubrn' = $1 ORDER BY id DESC LIMIT 1`,
      [ubrn],
    );
    expect(event.rows[0]).toMatchObject({
      subject: ERS_EVENTS.referralBooked,
      payload: { ubrn, versionId: 2, state: 'BOOKED', appointmentId: answers[0]?.resource['id'] },
    });
  });

  it('a stale If-Match is 409 and a missing one 412, and nothing changes', async () => {
    const service = await publish();
    const ubrn = (await create([service.id])).resource['id'] as string;
    const cancel = {
      resourceType: 'Parameters',
      parameter: [{ name: 'cancellationReason', valueCoding: { code: 'RAISED_IN_ERROR' } }],
    };
    expect(
      await rejectionOf(client.cancelReferral({ ...fn, id: ubrn, ifMatch: 'W/"7"', resource: cancel }, gp.context())),
    ).toMatchObject({
      code: 'RESOURCE_VERSION_MISMATCH',
    });
    expect(await rejectionOf(client.cancelReferral({ ...fn, id: ubrn, resource: cancel }, gp.context()))).toMatchObject(
      {
        code: 'PRECONDITION_FAILED',
      },
    );
    expect(stateOf((await client.getReferral({ ...fn, id: ubrn }, gp.context())).resource)).toBe('NOT_BOOKED');
    const cancelled = await client.cancelReferral(
      { ...fn, id: ubrn, ifMatch: 'W/"1"', resource: cancel },
      gp.context(),
    );
    expect(stateOf(cancelled.resource)).toBe('CANCELLED_REFERRAL');
    expect(
      await rejectionOf(client.cancelReferral({ ...fn, id: ubrn, ifMatch: 'W/"2"', resource: cancel }, gp.context())),
    ).toMatchObject({
      code: 'INVALID_REQUEST_STATE',
    });
  });

  it('transitions only from the states the NHS allows (INVALID_REQUEST_STATE), and A029 lists what is allowed', async () => {
    const service = await publish({}, 1);
    const ubrn = (await create([service.id])).resource['id'] as string;
    const hfn = { businessFunction: hospital.businessFunction };
    // Not yet with the provider: no relationship; booked, it can be accepted once.
    expect(
      await rejectionOf(client.acceptReferral({ ...hfn, id: ubrn, ifMatch: 'W/"1"' }, hospital.context())),
    ).toMatchObject({
      code: 'NO_RELATIONSHIP',
    });
    const actions = await client.availableActions(
      { ...fn, query: { focus: `ReferralRequest/${ubrn}/_history/1` } },
      gp.context(),
    );
    expect(JSON.stringify(actions.resource)).toContain('CREATE_APPOINTMENT');
    await client.createAppointment(
      { ...fn, resource: booking(ubrn, 1, service.id, service.slots[0] ?? '') },
      gp.context(),
    );
    const accepted = await client.acceptReferral({ ...hfn, id: ubrn, ifMatch: 'W/"2"' }, hospital.context());
    expect(stateOf(accepted.resource)).toBe('ACCEPTED');
    expect(
      await rejectionOf(client.acceptReferral({ ...hfn, id: ubrn, ifMatch: 'W/"3"' }, hospital.context())),
    ).toMatchObject({
      code: 'INVALID_REQUEST_STATE',
    });
  });

  it('refuses bad input with the NHS codes and changes nothing', async () => {
    const service = await publish();
    const ids = Array.from({ length: 21 }, (_, index) => String(Number(service.id) + 100000 + index));
    const before = await count(`SELECT count(*)::int AS n FROM $schema.referral`);
    const cases: [string, Promise<unknown>][] = [
      ['TOO_MANY_ITEMS', create(ids)],
      ['DUPLICATE_SERVICE', create([service.id, service.id])],
      ['REFERENCE_NOT_FOUND', create(['999999999'])],
      ['PATIENT_ERROR', create([service.id], DECEASED_PATIENT)],
      ['REFERENCE_NOT_FOUND', create([service.id], '9000000041')],
      ['INVALID_VALUE', create([service.id], '1234567890')],
      [
        'INVALID_CODE',
        client.createReferral(
          { ...fn, resource: createReferralParameters(ALIVE_PATIENT, [service.id], { priority: 'WHENEVER' }) },
          gp.context(),
        ),
      ],
      [
        'UNEXPECTED_FIELD',
        client.createReferral(
          {
            ...fn,
            resource: { resourceType: 'Parameters', parameter: [{ name: 'unknownParameter', valueString: 'x' }] },
          },
          gp.context(),
        ),
      ],
    ];
    for (const [code, attempt] of cases) expect(await rejectionOf(attempt)).toMatchObject({ code });
    expect(await count(`SELECT count(*)::int AS n FROM $schema.referral`)).toBe(before);
  });

  describe('attackers', () => {
    it('cannot book a slot another referral holds, a slot of a service not on the shortlist, or another practice’s referral', async () => {
      const service = await publish({}, 2);
      const elsewhere = await publish({}, 1);
      const mine = (await create([service.id])).resource['id'] as string;
      const theirs = (await create([service.id])).resource['id'] as string;
      await client.createAppointment(
        { ...fn, resource: booking(theirs, 1, service.id, service.slots[0] ?? '') },
        gp.context(),
      );
      expect(
        await rejectionOf(
          client.createAppointment(
            { ...fn, resource: booking(mine, 1, service.id, service.slots[0] ?? '') },
            gp.context(),
          ),
        ),
      ).toMatchObject({ code: 'SLOT_NOT_AVAILABLE' });
      expect(
        await rejectionOf(
          client.createAppointment(
            { ...fn, resource: booking(mine, 1, elsewhere.id, elsewhere.slots[0] ?? '') },
            gp.context(),
          ),
        ),
      ).toMatchObject({ code: 'INAPPROPRIATE_VALUE' });
      expect(
        await rejectionOf(
          client.createAppointment(
            { ...fn, resource: booking(mine, 1, service.id, elsewhere.slots[0] ?? '') },
            gp.context(),
          ),
        ),
      ).toMatchObject({ code: 'INAPPROPRIATE_SLOT' });
      const stranger = referrer(OTHER_PRACTICE);
      expect(
        await rejectionOf(
          client.createAppointment(
            { ...fn, resource: booking(mine, 1, service.id, service.slots[1] ?? '') },
            stranger.context(),
          ),
        ),
      ).toMatchObject({ code: 'NO_RELATIONSHIP' });
      expect(await rejectionOf(client.getReferral({ ...fn, id: mine }, stranger.context()))).toMatchObject({
        code: 'FORBIDDEN',
      });
      expect(stateOf((await client.getReferral({ ...fn, id: mine }, gp.context())).resource)).toBe('NOT_BOOKED');
      expect(
        await count(`SELECT count(*)::int AS n FROM $schema.slot WHERE id = $1 AND status = 'free'`, [
          service.slots[1],
        ]),
      ).toBe(1);
    });

    it('cannot act in a business function it does not hold, or without one', async () => {
      const service = await publish();
      const asProvider = client.createReferral(
        {
          businessFunction: 'SERVICE_PROVIDER_CLINICIAN',
          resource: createReferralParameters(ALIVE_PATIENT, [service.id]),
        },
        gp.context(),
      );
      expect(await rejectionOf(asProvider)).toMatchObject({
        code: 'FORBIDDEN',
        diagnostics: expect.stringMatching(/does not hold/),
      });
      const without = client.createReferral(
        { resource: createReferralParameters(ALIVE_PATIENT, [service.id]) },
        gp.context(),
      );
      expect(await rejectionOf(without)).toMatchObject({ code: 'FORBIDDEN' });
      const admin = {
        requestId: randomUUID(),
        caller: { id: 'admin-1', roles: ['practice-admin'], organisation: 'A83008' },
      };
      // An administrator holds REFERRING_ADMIN, which may read but not refer.
      expect(
        await rejectionOf(
          client.createReferral(
            { businessFunction: 'REFERRING_ADMIN', resource: createReferralParameters(ALIVE_PATIENT, [service.id]) },
            admin,
          ),
        ),
      ).toMatchObject({ code: 'FORBIDDEN', diagnostics: expect.stringMatching(/may not perform/) });
      // A provider may not publish services of another organisation.
      const foreign = client.publishService(
        { resource: healthcareService(newServiceId(), { ods: 'RR8' }) },
        hospital.context(),
      );
      expect(await rejectionOf(foreign)).toMatchObject({ code: 'FORBIDDEN' });
    });
  });
});

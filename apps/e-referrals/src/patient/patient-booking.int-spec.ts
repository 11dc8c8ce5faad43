import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import {
  ERS_EVENTS,
  ERS_SUBJECTS,
  PATIENT_WEB_CALLER,
  PatientBookingClient,
  type EReferralsClient,
  type FhirResource,
} from '@platform/contracts-ers';
import { NatsRpcClient, type CallContext } from '@platform/shared-nats';
import { allAtOnce, outcomes, tally } from '@platform/shared-testing';
import { testGatewaySigner } from '@platform/testing-services';
import {
  ALIVE_PATIENT,
  createReferralParameters,
  healthcareService,
  newServiceId,
  provider,
  referrer,
  slotIdsOf,
  slotsBundle,
  startEReferralsUnderTest,
  type EReferralsUnderTest,
} from '../e-referrals.test-harness';
import { PATIENT_ACCESS_LIMITS } from './patient-access.repository';

const BORN = 1969;
const FACTS = { birthYear: BORN, deceased: false, restricted: false };

describe('e-referrals: patients booking themselves (sign-in, lockout, booking, the attacker)', () => {
  let under: EReferralsUnderTest;
  let client: EReferralsClient;
  let patients: PatientBookingClient;
  let db: Client;
  let schema: string;
  const gp = referrer();
  const hospital = provider();
  const web = (): CallContext => ({ requestId: randomUUID(), caller: { ...PATIENT_WEB_CALLER, roles: ['patient'] } });

  const q = async <T extends object>(sql: string, values: unknown[] = []): Promise<T[]> =>
    (await db.query<T>(sql.replace(/\$schema/g, `"${schema}"`), values)).rows;

  async function service(slots: number, options: Parameters<typeof healthcareService>[1] = {}) {
    const id = newServiceId();
    await client.publishService({ resource: healthcareService(id, options) }, hospital.context());
    const published = await client.publishSlots({ resource: slotsBundle(id, slots) }, hospital.context());
    return { id, slots: slotIdsOf(published.resource) };
  }

  /** A referral searched from LS1 6FR, its UBRN and the access code on the letter. */
  async function referral(serviceIds: string[]): Promise<{ ubrn: string; code: string }> {
    const parameters = createReferralParameters(ALIVE_PATIENT, serviceIds);
    const shortlist = (parameters['parameter'] as { name: string; resource?: FhirResource }[])[1]?.resource;
    const criteria = (shortlist?.['contained'] as { parameter: object[] }[])[0];
    criteria?.parameter.push({ name: 'postcode', valueString: 'LS1 6FR' });
    const created = await client.createReferral(
      { resource: parameters, businessFunction: gp.businessFunction },
      gp.context(),
    );
    const ubrn = created.resource['id'] as string;
    const [row] = await q<{ access_code: string }>('SELECT access_code FROM $schema.referral WHERE ubrn = $1', [ubrn]);
    return { ubrn, code: row?.access_code ?? '' };
  }

  async function signIn(ubrn: string, code: string, facts = FACTS, year = String(BORN)): Promise<string> {
    const first = await patients.signIn({ ubrn, accessCode: code }, web());
    if (first.outcome !== 'continue') throw new Error(`sign-in refused: ${first.reason}`);
    expect(first.nhsNumber).toBe(ALIVE_PATIENT);
    const second = await patients.confirm({ pendingId: first.pendingId, birthYear: year, patient: facts }, web());
    if (second.outcome !== 'signed-in') throw new Error(`confirm refused: ${second.reason}`);
    return second.session;
  }

  const stateOf = async (ubrn: string): Promise<string | undefined> =>
    (await q<{ state: string }>('SELECT state FROM $schema.referral WHERE ubrn = $1', [ubrn]))[0]?.state;

  beforeAll(async () => {
    under = await startEReferralsUnderTest({ schemaPrefix: 'ers_patient' });
    ({ client, db, schema } = under);
    patients = new PatientBookingClient(
      new NatsRpcClient(under.connection, { timeoutMs: 10_000, signer: await testGatewaySigner() }),
    );
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('signs in with the letter codes and year of birth, sees the shortlist, books, cancels and books again', async () => {
    const near = await service(3, { postcode: 'LS1 2TW', waitDays: 21, name: 'Leeds heart clinic' });
    const { ubrn, code } = await referral([near.id]);
    // Typed as a patient might: spaces and capitals.
    const session = await signIn(` ${ubrn} `, `${code.slice(0, 4).toUpperCase()} ${code.slice(4)}`);

    const view = await patients.view({ session }, web());
    expect(view).toMatchObject({ ubrn, state: 'NOT_BOOKED', canBook: true, canCancel: false, restricted: false });
    expect(view.shortlist).toEqual([
      { id: near.id, name: 'Leeds heart clinic', waitDays: 21, bookable: true, distanceKm: expect.any(Number) },
    ]);
    expect(view.shortlist[0]?.distanceKm).toBeLessThan(5);

    const slots = await patients.slots({ session, serviceId: near.id, page: 1 }, web());
    expect(slots.total).toBe(3);
    const booked = await patients.book(
      { session, csrf: view.csrf, version: view.version, serviceId: near.id, slotId: slots.slots[0]?.id ?? '' },
      web(),
    );
    expect(booked).toMatchObject({ serviceId: near.id, start: slots.slots[0]?.start });
    expect(await stateOf(ubrn)).toBe('BOOKED');
    const [history] = await q<{ changed_by: string; action: string }>(
      'SELECT changed_by, action FROM $schema.referral_version WHERE ubrn = $1 ORDER BY version DESC LIMIT 1',
      [ubrn],
    );
    expect(history).toEqual({ changed_by: 'patient', action: 'BOOK' });
    const bookedView = await patients.view({ session }, web());
    expect(bookedView).toMatchObject({ canCancel: true, appointment: { id: booked.id, serviceId: near.id } });

    // A form from before the booking is stale: 409, nothing changed.
    await expect(
      patients.book(
        { session, csrf: view.csrf, version: view.version, serviceId: near.id, slotId: slots.slots[2]?.id ?? '' },
        web(),
      ),
    ).rejects.toMatchObject({ code: 'RESOURCE_VERSION_MISMATCH' });
    await patients.cancel(
      {
        session,
        csrf: view.csrf,
        appointmentId: booked.id,
        appointmentVersion: bookedView.appointment?.version ?? 0,
        reason: 'PATIENT_HOLIDAY',
      },
      web(),
    );
    expect(await stateOf(ubrn)).toBe('APPT_CANCELLED_BY_PATIENT');
    // The slot is free again; the patient books another one.
    const again = await patients.view({ session }, web());
    await patients.book(
      { session, csrf: view.csrf, version: again.version, serviceId: near.id, slotId: slots.slots[0]?.id ?? '' },
      web(),
    );
    expect(await stateOf(ubrn)).toBe('BOOKED');
    const events = await q<{ subject: string }>(
      `SELECT subject FROM $schema.outbox WHERE payload->>'ubrn' = $1 ORDER BY id`,
      [ubrn],
    );
    expect(events.map((event) => event.subject)).toEqual([
      ERS_EVENTS.referralCreated,
      ERS_EVENTS.referralBooked,
      ERS_EVENTS.appointmentCancelled,
      ERS_EVENTS.referralBooked,
    ]);
    const audit = await q<{ n: number }>(
      `SELECT count(*)::int AS n FROM $schema.read_audit WHERE ubrn = $1 AND actor_id = 'patient'`,
      [ubrn],
    );
    expect(audit[0]?.n).toBeGreaterThanOrEqual(3);
  });

  it('locks the UBRN after 5 attempts: of 40 concurrent wrong guesses 5 are checked, then even the right code is refused', async () => {
    const target = await service(1);
    const { ubrn, code } = await referral([target.id]);
    const results = outcomes(
      await allAtOnce(40, 20_000, (index) => patients.signIn({ ubrn, accessCode: `wrong${index}` }, web())),
    );
    expect(
      tally(results, (result) =>
        typeof result === 'string' ? result : result.outcome === 'refused' ? result.reason : 'continue',
      ),
    ).toEqual({
      WRONG_DETAILS: PATIENT_ACCESS_LIMITS.attempts,
      LOCKED: 40 - PATIENT_ACCESS_LIMITS.attempts,
    });
    const right = await patients.signIn({ ubrn, accessCode: code }, web());
    expect(right).toMatchObject({ outcome: 'refused', reason: 'LOCKED' });
    expect((right as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(25 * 60);
    const [row] = await q<{ locked: boolean }>(
      "SELECT locked_until > now() + interval '25 minutes' AS locked FROM $schema.patient_access_attempt WHERE ubrn = $1",
      [ubrn],
    );
    expect(row?.locked).toBe(true);
  });

  it('a wrong year of birth counts as a failed attempt; a deceased or unmatched patient gets no session', async () => {
    const target = await service(1);
    const { ubrn, code } = await referral([target.id]);
    await expect(signIn(ubrn, code, FACTS, '1970')).rejects.toThrow('confirm refused: WRONG_DETAILS');
    await expect(signIn(ubrn, code, { ...FACTS, deceased: true })).rejects.toThrow('confirm refused: WRONG_DETAILS');
    const [row] = await q<{ attempts: number }>('SELECT attempts FROM $schema.patient_access_attempt WHERE ubrn = $1', [
      ubrn,
    ]);
    expect(row?.attempts).toBe(2);
    // The right details reset the count.
    await signIn(ubrn, code);
    const [after] = await q<{ attempts: number }>(
      'SELECT attempts FROM $schema.patient_access_attempt WHERE ubrn = $1',
      [ubrn],
    );
    expect(after?.attempts).toBe(0);
  });

  it('a restricted patient sees no distances (they would tell where the patient lives)', async () => {
    const near = await service(1, { postcode: 'LS1 2TW' });
    const { ubrn, code } = await referral([near.id]);
    const session = await signIn(ubrn, code, { ...FACTS, restricted: true });
    const view = await patients.view({ session }, web());
    expect(view.restricted).toBe(true);
    expect(view.shortlist).toEqual([{ id: near.id, name: expect.any(String), waitDays: 14, bookable: true }]);
    const slots = await patients.slots({ session, serviceId: near.id, page: 1 }, web());
    expect(slots.service.distanceKm).toBeUndefined();
  });

  it('plays the attacker: another referral, forged and expired sessions, a foreign form, a reused sign-in, other callers', async () => {
    const mine = await service(2);
    const theirs = await service(2);
    const a = await referral([mine.id]);
    const b = await referral([theirs.id]);
    const session = await signIn(a.ubrn, a.code);
    const { csrf, version } = await patients.view({ session }, web());

    // A's session cannot book B's service or its slot, nor list its slots.
    await expect(
      patients.book({ session, csrf, version, serviceId: theirs.id, slotId: theirs.slots[0] ?? '' }, web()),
    ).rejects.toMatchObject({ code: 'INAPPROPRIATE_VALUE' });
    await expect(patients.slots({ session, serviceId: theirs.id, page: 1 }, web())).rejects.toMatchObject({
      code: 'INAPPROPRIATE_VALUE',
    });
    // A's own service with B's... slot of another service.
    await expect(
      patients.book({ session, csrf, version, serviceId: mine.id, slotId: theirs.slots[0] ?? '' }, web()),
    ).rejects.toMatchObject({ code: 'INAPPROPRIATE_SLOT' });
    expect(await stateOf(b.ubrn)).toBe('NOT_BOOKED');

    // A forged token, a wrong CSRF token, an expired session: refused, nothing changed.
    await expect(patients.view({ session: 'x'.repeat(43) }, web())).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    await expect(
      patients.book(
        { session, csrf: 'not-the-token', version, serviceId: mine.id, slotId: mine.slots[0] ?? '' },
        web(),
      ),
    ).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    expect(await stateOf(a.ubrn)).toBe('NOT_BOOKED');
    await db.query(`UPDATE "${schema}".patient_session SET expires_at = now() - interval '1 second' WHERE ubrn = $1`, [
      a.ubrn,
    ]);
    await expect(
      patients.book({ session, csrf, version, serviceId: mine.id, slotId: mine.slots[0] ?? '' }, web()),
    ).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    expect(await stateOf(a.ubrn)).toBe('NOT_BOOKED');

    // A pending sign-in is used once.
    const first = await patients.signIn({ ubrn: b.ubrn, accessCode: b.code }, web());
    if (first.outcome !== 'continue') throw new Error('expected to continue');
    await patients.confirm({ pendingId: first.pendingId, birthYear: String(BORN), patient: FACTS }, web());
    expect(
      await patients.confirm({ pendingId: first.pendingId, birthYear: String(BORN), patient: FACTS }, web()),
    ).toEqual({ outcome: 'refused', reason: 'WRONG_DETAILS' });

    // Only the gateway's patient-web caller reaches these subjects: not an unsigned message, not a clinician.
    const unsigned = new NatsRpcClient(under.connection, { timeoutMs: 5_000 });
    await expect(
      unsigned.request(ERS_SUBJECTS.patientSignIn, { ubrn: a.ubrn, accessCode: a.code }, web()),
    ).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    await expect(patients.signIn({ ubrn: a.ubrn, accessCode: a.code }, gp.context())).rejects.toMatchObject({
      code: 'ACCESS_DENIED',
    });
  });

  it('20 patients race for one slot: exactly one booking; a resubmitted form applies once', async () => {
    const clinic = await service(2);
    const referrals = await Promise.all(Array.from({ length: 20 }, () => referral([clinic.id])));
    const sessions = await Promise.all(referrals.map(async ({ ubrn, code }) => signIn(ubrn, code)));
    const views = await Promise.all(sessions.map((session) => patients.view({ session }, web())));
    const slotId = clinic.slots[0] ?? '';
    const results = outcomes(
      await allAtOnce(20, 25_000, (index) =>
        patients.book(
          { session: sessions[index] ?? '', csrf: views[index]?.csrf ?? '', version: 1, serviceId: clinic.id, slotId },
          web(),
        ),
      ),
    );
    expect(tally(results, (result) => (typeof result === 'string' ? result : 'BOOKED'))).toEqual({
      BOOKED: 1,
      SLOT_NOT_AVAILABLE: 19,
    });
    const [booked] = await q<{ n: number }>(
      `SELECT count(*)::int AS n FROM $schema.appointment WHERE slot_id = $1 AND status = 'booked'`,
      [slotId],
    );
    expect(booked?.n).toBe(1);

    // The same form posted three times (one request ID): one booking, the same answer.
    const loser = results.findIndex((result) => typeof result === 'string');
    const context = web();
    const form = {
      session: sessions[loser] ?? '',
      csrf: views[loser]?.csrf ?? '',
      version: 1,
      serviceId: clinic.id,
      slotId: clinic.slots[1] ?? '',
    };
    const replies = [];
    for (let i = 0; i < 3; i += 1) replies.push(await patients.book(form, context));
    expect(new Set(replies.map((reply) => reply.id)).size).toBe(1);
    const [versions] = await q<{ n: number }>(
      `SELECT count(*)::int AS n FROM $schema.referral_version WHERE ubrn = $1 AND action = 'BOOK'`,
      [referrals[loser]?.ubrn],
    );
    expect(versions?.n).toBe(1);
  });
});

import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import type { EReferralsClient, FhirResource } from '@platform/contracts-ers';
import { allAtOnce, outcomes, rejectionOf, tally } from '@platform/shared-testing';
import {
  ALIVE_PATIENT,
  bookReferral,
  newSdsUserId,
  newServiceId,
  OTHER_PROVIDER,
  provider,
  referrer,
  serviceNaming,
  slotIdsOf,
  slotsBundle,
  startEReferralsUnderTest,
  stateOf,
  type EReferralsUnderTest,
} from '../e-referrals.test-harness';

function stateExtension(
  referral: FhirResource,
): { url: string; valueCoding?: { code?: string }; valueString?: string }[] {
  return ((referral['extension'] as { url: string; extension?: { url: string }[] }[]).find((item) =>
    item.url.endsWith('Extension-eRS-ReferralState-1'),
  )?.extension ?? []) as { url: string; valueCoding?: { code?: string }; valueString?: string }[];
}

function priorityOf(referral: FhirResource): string | undefined {
  return (referral['extension'] as { url: string; valueCodeableConcept?: { coding?: { code?: string }[] } }[]).find(
    (item) => item.url.endsWith('Extension-eRS-ReferralPriority-1'),
  )?.valueCodeableConcept?.coding?.[0]?.code;
}

describe('e-referrals: provider actions A040 (on behalf of) and A022 (cancel appointment, action later)', () => {
  let under: EReferralsUnderTest;
  let client: EReferralsClient;
  let db: Client;
  let schema: string;
  const gp = referrer();
  const hospital = provider();
  const rfn = { businessFunction: gp.businessFunction };
  const pfn = { businessFunction: hospital.businessFunction };
  const admin = { businessFunction: 'SERVICE_PROVIDER_CLINICIAN_ADMIN' as const };

  const count = async (sql: string, values: unknown[] = []): Promise<number> =>
    (await db.query<{ n: number }>(sql.replace(/\$schema/g, `"${schema}"`), values)).rows[0]?.n ?? -1;

  /** A booked referral to a new service of the hospital: its UBRN, the service and the booked slot. */
  async function bookedReferral(
    options: { indirect?: boolean } = {},
  ): Promise<{ ubrn: string; serviceId: string; slot: string }> {
    const serviceId = newServiceId();
    const clinician = newSdsUserId();
    await client.publishService({ resource: serviceNaming(serviceId, clinician) }, hospital.context());
    const [slot] = slotIdsOf(
      (await client.publishSlots({ resource: slotsBundle(serviceId, 1) }, hospital.context())).resource,
    );
    const ubrn = await bookReferral(client, serviceId, slot ?? '', gp);
    // A service the trust then makes indirectly bookable (its PAS books it): its booked referrals stay booked.
    if (options.indirect) {
      await client.publishService(
        { resource: serviceNaming(serviceId, clinician, { indirect: true }) },
        hospital.context(),
      );
    }
    return { ubrn, serviceId, slot: slot ?? '' };
  }

  const actionLater = (parameter: Record<string, unknown>[]): FhirResource => ({
    resourceType: 'Parameters',
    meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-cancelAppointmentActionLater-Parameters-1'] },
    parameter,
  });
  const comments = { name: 'comments', valueString: 'Please contact patient to rebook' };

  async function unchanged(ubrn: string, slot: string): Promise<void> {
    const referral = await client.getReferral({ ...pfn, id: ubrn }, hospital.context());
    expect(referral.versionId).toBe('2');
    expect(stateOf(referral.resource)).toBe('BOOKED');
    expect(await count(`SELECT count(*)::int AS n FROM $schema.slot WHERE id = $1 AND status = 'busy'`, [slot])).toBe(
      1,
    );
  }

  beforeAll(async () => {
    under = await startEReferralsUnderTest({ schemaPrefix: 'ers_provider_actions' });
    ({ client, db, schema } = under);
  });

  afterAll(async () => {
    await under?.stop();
  });

  describe('A040 practitioners on behalf of', () => {
    it('lists the clinicians the admin organisation names on its services, and no other organisation’s', async () => {
      const ours = newSdsUserId();
      const theirs = newSdsUserId();
      await client.publishService({ resource: serviceNaming(newServiceId(), ours) }, hospital.context());
      await client.publishService(
        { resource: serviceNaming(newServiceId(), theirs, { ods: OTHER_PROVIDER }) },
        provider(OTHER_PROVIDER).context(),
      );
      const reply = await client.practitionersOnBehalfOf(
        { ...admin, query: { _query: 'onBehalfOf' } },
        hospital.context(),
      );
      const bundle = reply.resource;
      expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
      const entries = bundle['entry'] as { fullUrl: string; resource: Record<string, unknown>; search: unknown }[];
      expect(bundle['total']).toBe(entries.length);
      const mine = entries.find((entry) => entry.resource['id'] === ours);
      expect(mine).toEqual({
        fullUrl: `Practitioner/${ours}`,
        resource: {
          id: ours,
          resourceType: 'Practitioner',
          identifier: { system: 'https://fhir.nhs.uk/Id/sds-user-id', value: ours },
          name: [{ text: 'Dr On Behalf' }],
        },
        search: { mode: 'match' },
      });
      expect(entries.some((entry) => entry.resource['id'] === theirs)).toBe(false);
      // Each clinician once, however many services name them.
      expect(new Set(entries.map((entry) => entry.resource['id'])).size).toBe(entries.length);
    });

    it('refuses another business function (403), a missing or other _query (400) and a referrer', async () => {
      expect(
        await rejectionOf(
          client.practitionersOnBehalfOf({ ...pfn, query: { _query: 'onBehalfOf' } }, hospital.context()),
        ),
      ).toMatchObject({ code: 'FORBIDDEN' });
      expect(
        await rejectionOf(client.practitionersOnBehalfOf({ ...admin, query: {} }, hospital.context())),
      ).toMatchObject({ code: 'REC_BAD_REQUEST' });
      expect(
        await rejectionOf(
          client.practitionersOnBehalfOf({ ...admin, query: { _query: 'everyone' } }, hospital.context()),
        ),
      ).toMatchObject({ code: 'REC_BAD_REQUEST' });
      expect(
        await rejectionOf(
          client.practitionersOnBehalfOf({ ...admin, query: { _query: 'onBehalfOf', name: 'x' } }, hospital.context()),
        ),
      ).toMatchObject({ code: 'REC_BAD_REQUEST' });
      expect(
        await rejectionOf(client.practitionersOnBehalfOf({ ...rfn, query: { _query: 'onBehalfOf' } }, gp.context())),
      ).toMatchObject({ code: 'ACCESS_DENIED' });
    });
  });

  describe('A022 cancel appointment, action later', () => {
    it('cancels the booked appointment, frees its slot and tasks the provider: TRIAGED_PROVIDER_TO_ACTION', async () => {
      const { ubrn, slot, serviceId } = await bookedReferral();
      const reply = await client.cancelAppointmentActionLater(
        {
          ...pfn,
          id: ubrn,
          ifMatch: 'W/"2"',
          resource: actionLater([
            comments,
            {
              name: 'priority',
              valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', code: 'URGENT' },
            },
          ]),
        },
        hospital.context(),
      );
      expect(reply.versionId).toBe('3');
      expect(stateOf(reply.resource)).toBe('TRIAGED_PROVIDER_TO_ACTION');
      expect(stateExtension(reply.resource)).toEqual([
        expect.objectContaining({ url: 'state' }),
        {
          url: 'reason',
          valueCoding: {
            system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReviewOutcome-1',
            code: 'CANCEL_APPOINTMENT_ACTION_LATER',
            display: 'Cancel Appointment Action Later',
          },
        },
        { url: 'comments', valueString: 'Please contact patient to rebook' },
      ]);
      expect(priorityOf(reply.resource)).toBe('URGENT');
      // The proposed appointment of the NHS example: contained as #appointment and referenced by its own id.
      const extensions = reply.resource['extension'] as { url: string; valueReference?: { reference: string } }[];
      const proposedRef = extensions.find((item) => item.url.endsWith('Extension-eRS-Appointment-Reference-1'));
      expect(extensions.find((item) => item.url.endsWith('Extension-eRS-Appointment-1'))?.valueReference).toEqual({
        reference: '#appointment',
      });
      const proposedId = proposedRef?.valueReference?.reference.replace('Appointment/', '') ?? '';
      const contained = (reply.resource['contained'] as Record<string, unknown>[]).find(
        (item) => item['id'] === 'appointment',
      );
      expect(contained).toMatchObject({
        resourceType: 'Appointment',
        meta: { versionId: '1' },
        status: 'proposed',
        reason: [
          {
            coding: [
              {
                system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReviewOutcome-1',
                code: 'CANCEL_APPOINTMENT_ACTION_LATER',
                display: 'Cancel Appointment Action Later',
              },
            ],
          },
        ],
        description: 'e-Referral Appointment',
        comment: 'Please contact patient to rebook',
        incomingReferral: [{ reference: `ReferralRequest/${ubrn}/_history/3` }],
        participant: [
          {
            actor: { identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value: serviceId } },
            status: 'accepted',
          },
          { actor: { identifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: ALIVE_PATIENT } } },
        ],
      });
      expect(contained?.['slot']).toBeUndefined();
      const booked = await count(
        `SELECT id::int AS n FROM $schema.appointment WHERE ubrn = $1 AND status = 'cancelled'`,
        [ubrn],
      );
      expect(proposedId).toMatch(/^\d+$/);
      expect(proposedId).not.toBe(String(booked));
      const proposed = await client.getAppointment({ ...pfn, id: proposedId }, hospital.context());
      expect(proposed.resource).toMatchObject({ id: proposedId, status: 'proposed' });
      expect(await count(`SELECT count(*)::int AS n FROM $schema.slot WHERE id = $1 AND status = 'free'`, [slot])).toBe(
        1,
      );
      expect(
        await count(`SELECT count(*)::int AS n FROM $schema.appointment WHERE ubrn = $1 AND status = 'cancelled'`, [
          ubrn,
        ]),
      ).toBe(1);
      // A005 reads the same version; the referral can be cancelled from here, not acted on again.
      const read = await client.getReferral({ ...pfn, id: ubrn }, hospital.context());
      expect(read.versionId).toBe('3');
      expect(stateOf(read.resource)).toBe('TRIAGED_PROVIDER_TO_ACTION');
      expect(
        await rejectionOf(
          client.cancelAppointmentActionLater(
            { ...pfn, id: ubrn, ifMatch: 'W/"3"', resource: actionLater([comments]) },
            hospital.context(),
          ),
        ),
      ).toMatchObject({ code: 'INVALID_REQUEST_STATE' });
    });

    it('refuses bad input, strangers and a stale version, changing nothing', async () => {
      const { ubrn, slot } = await bookedReferral();
      const attempt = (resource: FhirResource, options: { ifMatch?: string } = {}): Promise<unknown> =>
        client.cancelAppointmentActionLater(
          { ...pfn, id: ubrn, ifMatch: options.ifMatch ?? 'W/"2"', resource },
          hospital.context(),
        );
      expect(await rejectionOf(attempt(actionLater([])))).toMatchObject({ code: 'MISSING_VALUE' });
      expect(await rejectionOf(attempt(actionLater([{ name: 'comments', valueString: '  ' }])))).toMatchObject({
        code: 'MISSING_VALUE',
      });
      expect(
        await rejectionOf(attempt(actionLater([comments, { name: 'priority', valueCoding: { code: 'WHENEVER' } }]))),
      ).toMatchObject({ code: 'INVALID_CODE' });
      expect(
        await rejectionOf(attempt(actionLater([comments, { name: 'appointmentCancelledInPAS', valueBoolean: true }]))),
      ).toMatchObject({ code: 'FIELD_NOT_PERMITTED' });
      expect(
        await rejectionOf(attempt(actionLater([comments, { name: 'appointmentCancelledInPAS', valueString: 'yes' }]))),
      ).toMatchObject({ code: 'INVALID_VALUE' });
      expect(
        await rejectionOf(
          attempt(
            actionLater([
              comments,
              { name: 'providerAttachmentFile', resource: { resourceType: 'DocumentReference', content: [] } },
            ]),
          ),
        ),
      ).toMatchObject({ code: 'FIELD_NOT_PERMITTED' });
      expect(await rejectionOf(attempt(actionLater([comments, { name: 'surprise', valueString: 'x' }])))).toMatchObject(
        {
          code: 'UNEXPECTED_FIELD',
        },
      );
      expect(await rejectionOf(attempt(actionLater([comments]), { ifMatch: 'W/"1"' }))).toMatchObject({
        code: 'RESOURCE_VERSION_MISMATCH',
      });
      expect(
        await rejectionOf(
          client.cancelAppointmentActionLater(
            { ...pfn, id: ubrn, resource: actionLater([comments]) },
            hospital.context(),
          ),
        ),
      ).toMatchObject({ code: 'PRECONDITION_FAILED' });
      expect(
        await rejectionOf(
          client.cancelAppointmentActionLater(
            { ...pfn, id: ubrn, ifMatch: 'W/"2"', resource: actionLater([comments]) },
            provider(OTHER_PROVIDER).context(),
          ),
        ),
      ).toMatchObject({ code: 'NO_RELATIONSHIP' });
      expect(
        await rejectionOf(
          client.cancelAppointmentActionLater(
            { ...rfn, id: ubrn, ifMatch: 'W/"2"', resource: actionLater([comments]) },
            gp.context(),
          ),
        ),
      ).toMatchObject({ code: 'ACCESS_DENIED' });
      expect(
        await rejectionOf(
          client.cancelAppointmentActionLater(
            { ...pfn, id: '999999999999', ifMatch: 'W/"2"', resource: actionLater([comments]) },
            hospital.context(),
          ),
        ),
      ).toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
      await unchanged(ubrn, slot);
    });

    it('an indirectly bookable service needs appointmentCancelledInPAS (VALUE_IS_REQUIRED), then applies', async () => {
      const { ubrn, slot } = await bookedReferral({ indirect: true });
      expect(
        await rejectionOf(
          client.cancelAppointmentActionLater(
            { ...pfn, id: ubrn, ifMatch: 'W/"2"', resource: actionLater([comments]) },
            hospital.context(),
          ),
        ),
      ).toMatchObject({ code: 'VALUE_IS_REQUIRED' });
      await unchanged(ubrn, slot);
      const done = await client.cancelAppointmentActionLater(
        {
          ...pfn,
          id: ubrn,
          ifMatch: 'W/"2"',
          resource: actionLater([comments, { name: 'appointmentCancelledInPAS', valueBoolean: false }]),
        },
        hospital.context(),
      );
      expect(stateOf(done.resource)).toBe('TRIAGED_PROVIDER_TO_ACTION');
    });

    it('20 simultaneous callers: one applies, the rest are locked out or stale; 20 retries of one request apply once', async () => {
      const { ubrn, slot } = await bookedReferral();
      const results = outcomes(
        await allAtOnce(20, 20_000, () =>
          client.cancelAppointmentActionLater(
            { ...pfn, id: ubrn, ifMatch: 'W/"2"', resource: actionLater([comments]) },
            hospital.context(),
          ),
        ),
      );
      const counts = tally(results, (result) => (typeof result === 'string' ? result : 'applied'));
      expect(counts['applied']).toBe(1);
      expect((counts['REFERRAL_LOCKED'] ?? 0) + (counts['RESOURCE_VERSION_MISMATCH'] ?? 0)).toBe(19);
      expect(await count(`SELECT count(*)::int AS n FROM $schema.slot WHERE id = $1 AND status = 'free'`, [slot])).toBe(
        1,
      );
      expect(
        await count(
          `SELECT count(*)::int AS n FROM $schema.referral_version WHERE ubrn = $1 AND action = 'CANCEL_APPOINTMENT_ACTION_LATER'`,
          [ubrn],
        ),
      ).toBe(1);
      const proposedCount = `SELECT count(*)::int AS n FROM $schema.appointment WHERE ubrn = $1 AND status = 'proposed'`;
      expect(await count(proposedCount, [ubrn])).toBe(1);

      const second = await bookedReferral();
      const requestId = randomUUID();
      const retried = outcomes(
        await allAtOnce(20, 20_000, () =>
          client.cancelAppointmentActionLater(
            { ...pfn, id: second.ubrn, ifMatch: 'W/"2"', resource: actionLater([comments]) },
            hospital.context(requestId),
          ),
        ),
      );
      const applied = retried.filter((result) => typeof result !== 'string');
      // Retries that arrive while the first holds the lock may be told so; none applies a second time.
      expect(applied.length).toBeGreaterThanOrEqual(1);
      expect(new Set(applied.map((result) => typeof result !== 'string' && result.versionId))).toEqual(new Set(['3']));
      expect(retried.filter((result) => typeof result === 'string' && result !== 'REFERRAL_LOCKED')).toEqual([]);
      expect(
        await count(
          `SELECT count(*)::int AS n FROM $schema.referral_version WHERE ubrn = $1 AND action = 'CANCEL_APPOINTMENT_ACTION_LATER'`,
          [second.ubrn],
        ),
      ).toBe(1);
      expect(await count(proposedCount, [second.ubrn])).toBe(1);
    });
  });
});

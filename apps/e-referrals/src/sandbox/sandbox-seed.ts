import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import { withTransaction } from '@platform/shared-persistence';
import type { EReferralsDatabase } from '../database/database.provider';
import { DirectoryRepository } from '../directory/directory.repository';
import { readPostcodeFile } from '../directory/postcode-file';
import { serviceResource, type ServiceRecord } from '../directory/service-resource';
import { appointmentResource, referralResource } from '../referrals/referral-resource';
import { ReferralRepository, type Referral } from '../referrals/referral.repository';
import type { ReferralState } from '../shared/states';
import { SAMPLE_POSTCODES_CSV } from './sample-postcodes';

/** The provider of the NHS examples' services (CICERO-CLINIC in the registry's sandbox) and a referring practice. */
export const SANDBOX_PROVIDER = 'R69';
export const SANDBOX_PRACTICE = 'A83008';
const PATIENT = '9912003888';

function service(id: string, name: string, extra: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    id,
    version: 1,
    odsCode: SANDBOX_PROVIDER,
    name,
    specialty: 'CARDIOLOGY',
    clinicTypes: ['HEART_FAILURE', 'LIPID_MANAGEMENT'],
    priorities: ['ROUTINE', 'URGENT', 'TWO_WEEK_WAIT'],
    bookableType: 'DIRECTLY_BOOKABLE',
    triage: false,
    postcode: 'LS1 2TW',
    indicativeWaitDays: 10,
    minAgeYears: null,
    maxAgeYears: null,
    genderTreated: 'MALE_AND_FEMALE',
    clinicians: [{ sdsUserId: '021600556514', name: 'Dr Example' }],
    active: true,
    ...extra,
  };
}

/** The services the NHS e-RS examples name (A010, A011, A015, A016, A033, A035, A008, A044, A023). */
export const SANDBOX_SERVICES: ServiceRecord[] = [
  service('11000', 'Forthright Cardiology Business Service'),
  service('11002', 'Good Cardiology Business Service'),
  service('11012', 'Excellent Cardiology Business Service 12', { triage: true, bookableType: 'INDIRECTLY_BOOKABLE' }),
  service('11021', 'Cardiology Business Service'),
  service('12000', 'Cardiology Service 12000'),
  service('10000', 'Cardiology Service 10000'),
  service('50001', 'Cardiology Triage Service', { triage: true, bookableType: 'INDIRECTLY_BOOKABLE' }),
  // The Advice and Guidance examples' service (A044, A023, A024).
  service('11014', 'Cardiology Advice Service'),
  service('1', 'Direct SVC 1', { specialty: 'DERMATOLOGY', clinicTypes: ['ACNE'] }),
  service('2', 'Direct SVC 2', { specialty: 'DERMATOLOGY', clinicTypes: ['ACNE'] }),
];

/** Free slots by service: A015's examples (11000: 12 slots, 12000: 3, 10000 and 11021: none), 11000021 for A016. */
const SANDBOX_SLOTS: Record<string, string[]> = {
  '11000': [
    '11000001',
    '11000002',
    '11000003',
    '11000004',
    '11000005',
    '11000006',
    '11000007',
    '11000008',
    '11000009',
    '11000010',
    '11000011',
    '11000021',
  ],
  '12000': ['12000001', '12000003', '12000004'],
  '11002': ['11002001', '11002002'],
};

async function seedReferral(
  transaction: PoolClient,
  referrals: ReferralRepository,
  directory: DirectoryRepository,
  spec: {
    ubrn: string;
    version: number;
    state: ReferralState;
    shortlist: string[];
    booked?: { slotId: string; appointmentId: string };
  },
): Promise<boolean> {
  if (await referrals.exists(transaction, spec.ubrn)) return false;
  const services = await directory.services(spec.shortlist, transaction);
  const target = spec.booked
    ? services.find((item) => item.id === spec.shortlist[0])
    : spec.state === 'AWAITING_TRIAGE'
      ? services[0]
      : undefined;
  const referral: Referral = {
    ubrn: spec.ubrn,
    version: spec.version,
    state: spec.state,
    patientNhsNumber: PATIENT,
    priority: 'ROUTINE',
    specialty: 'CARDIOLOGY',
    clinicType: 'HEART_FAILURE',
    referrerOds: SANDBOX_PRACTICE,
    referrerUser: 'sandbox',
    accessCode: 'sandboxaccess',
    serviceId: target?.id ?? null,
    providerOds: target?.odsCode ?? null,
    appointmentId: null,
    searchCriteria: {
      priority: 'ROUTINE',
      specialty: 'CARDIOLOGY',
      clinicType: 'HEART_FAILURE',
      postcode: 'LS1 2TW',
      distanceLimit: 123,
      ageAndGenderAppropriate: true,
    },
    pathwayStart: '2024-05-08T09:54:23.167Z',
    createdAt: new Date().toISOString(),
  };
  await referrals.insert(transaction, referral);
  await referrals.replaceShortlist(transaction, spec.ubrn, spec.shortlist);
  let appointment;
  if (spec.booked && target) {
    await referrals.insertAppointment(transaction, {
      id: spec.booked.appointmentId,
      ubrn: spec.ubrn,
      serviceId: target.id,
      slotId: spec.booked.slotId,
      status: 'booked',
    });
    await directory.takeSlot(transaction, spec.booked.slotId);
    const slot = await directory.slot(transaction, spec.booked.slotId);
    appointment = appointmentResource({
      id: spec.booked.appointmentId,
      version: 1,
      status: 'booked',
      service: target,
      patientNhsNumber: PATIENT,
      ubrn: spec.ubrn,
      referralVersion: spec.version,
      ...(slot ? { slot } : {}),
      clinician: '021600556514',
      created: new Date().toISOString(),
    });
    await referrals.saveAppointmentVersion(transaction, {
      id: spec.booked.appointmentId,
      ubrn: spec.ubrn,
      version: 1,
      serviceId: target.id,
      slotId: spec.booked.slotId,
      status: 'booked',
      resource: appointment,
    });
    referral.appointmentId = spec.booked.appointmentId;
    await referrals.update(transaction, referral);
  }
  const resource = referralResource(referral, services, appointment);
  await referrals.saveVersion(transaction, { referral, action: 'SANDBOX_SEED', resource, changedBy: 'sandbox' });
  return true;
}

/** A seeded Advice and Guidance request of the NHS examples, with its conversation (oldest first). */
interface SandboxAdvice {
  ubrn: string;
  version: number;
  state: 'AWAITING_RESPONSE' | 'RESPONDED';
  patient: string;
  priority: string;
  conversionAuthorised: boolean;
  messages: { role: 'REQUESTER' | 'RESPONDER'; text: string; outcome?: string }[];
}

/**
 * The NHS Advice and Guidance examples' requests, all to 11014 (R69) from the sandbox practice:
 * - 000000070000 (A023 worklist, A024 Minimal, A027 NoAttachments and WithAttachments): awaiting the provider's
 *   response at version 3 (the version A027's `createFrom` names), ROUTINE, the referrer authorised conversion,
 *   one question, and the two files of SANDBOX_ADVICE_FILES uploaded for it;
 * - 000000070001 (A025 OneMessageEachWay): responded, the question and the provider's answer, version 2;
 * - 000000070002 (A023 worklist, and the request A026's ReturnToReferrer example answers): awaiting the
 *   provider's response, TWO_WEEK_WAIT, at version 1.
 * The NHS sandbox answers each example from its own file; one store cannot give every file's version and
 * conversation to the same number, so the examples share these three as above.
 */
export const SANDBOX_ADVICE: SandboxAdvice[] = [
  {
    ubrn: '000000070000',
    version: 3,
    state: 'AWAITING_RESPONSE',
    patient: PATIENT,
    priority: 'ROUTINE',
    conversionAuthorised: true,
    messages: [{ role: 'REQUESTER', text: 'Please advise me on this patient who ...(information about patient)' }],
  },
  {
    ubrn: '000000070001',
    version: 2,
    state: 'RESPONDED',
    patient: PATIENT,
    priority: 'ROUTINE',
    conversionAuthorised: false,
    messages: [
      { role: 'REQUESTER', text: 'Please advise me on this patient who ...(information about patient)' },
      {
        role: 'RESPONDER',
        text: 'Please perform xxx test and send me the results',
        outcome: 'REQUEST_FURTHER_INFORMATION',
      },
    ],
  },
  {
    ubrn: '000000070002',
    version: 1,
    state: 'AWAITING_RESPONSE',
    patient: '9462979626',
    priority: 'TWO_WEEK_WAIT',
    conversionAuthorised: false,
    messages: [{ role: 'REQUESTER', text: 'Please advise on this patient (sandbox example).' }],
  },
];

async function seedAdvice(transaction: PoolClient, schema: string, advice: SandboxAdvice): Promise<boolean> {
  const s = `"${schema}"`;
  const criteria = {
    priority: advice.priority,
    specialty: 'CARDIOLOGY',
    clinicType: 'HEART_FAILURE',
    ageAndGenderAppropriate: false,
  };
  const inserted = await transaction.query(
    `INSERT INTO ${s}.advice_request (ubrn, version, state, patient_nhs_number, priority, specialty, search_criteria,
       referrer_ods, referrer_user, service_id, provider_ods, conversion_authorised)
     VALUES ($1, $2, $3, $4, $5, 'CARDIOLOGY', $6, $7, 'sandbox', 11014, $8, $9)
     ON CONFLICT (ubrn) DO NOTHING`,
    [
      advice.ubrn,
      advice.version,
      advice.state,
      advice.patient,
      advice.priority,
      JSON.stringify(criteria),
      SANDBOX_PRACTICE,
      SANDBOX_PROVIDER,
      advice.conversionAuthorised,
    ],
  );
  if ((inserted.rowCount ?? 0) === 0) return false;
  for (const [index, message] of advice.messages.entries()) {
    const requester = message.role === 'REQUESTER';
    await transaction.query(
      `INSERT INTO ${s}.advice_message (ubrn, position, sent_by_role, sender, sender_ods, text, outcome)
       VALUES ($1, $2, $3, 'sandbox', $4, $5, $6)`,
      [
        advice.ubrn,
        index + 1,
        message.role,
        requester ? SANDBOX_PRACTICE : SANDBOX_PROVIDER,
        message.text,
        message.outcome ?? null,
      ],
    );
  }
  return true;
}

/**
 * The files the NHS's A027 WithAttachments example attaches (convertAdviceAndGuidanceToReferral/requests/
 * WithAttachments.json), uploaded by the provider (A020) for request 000000070000, with the titles of the NHS's
 * response example: its guidanceAttachmentFile and its reviewAttachmentFile.
 */
export const SANDBOX_ADVICE_FILES = [
  { id: 'badaf6fc-90f4-411d-999f-04ccd79fa166', adviceUbrn: '000000070000', fileName: 'InitialMedication.pdf' },
  { id: '38dc19ab-893f-47ca-8db0-2d0a07c0e387', adviceUbrn: '000000070000', fileName: 'ReferralLetter.pdf' },
] as const;

async function seedAdviceFiles(transaction: PoolClient, schema: string): Promise<number> {
  let seeded = 0;
  for (const file of SANDBOX_ADVICE_FILES) {
    const content = Buffer.from(`%PDF-1.4\n% ${file.fileName}\n%%EOF\n`, 'latin1');
    const inserted = await transaction.query(
      `INSERT INTO "${schema}".attachment (id, advice_ubrn, file_name, content_type, size, sha256, content, uploaded_by,
         uploaded_by_ods)
       VALUES ($1, $2, $3, 'application/pdf', $4, $5, $6, 'sandbox', $7) ON CONFLICT (id) DO NOTHING`,
      [
        file.id,
        file.adviceUbrn,
        file.fileName,
        content.length,
        createHash('sha256').update(content).digest(),
        content,
        SANDBOX_PROVIDER,
      ],
    );
    seeded += inserted.rowCount ?? 0;
  }
  return seeded;
}

/**
 * Loads what the NHS e-RS examples refer to, where missing: the sample postcodes, the services (R69), their
 * schedules and slots (starting tomorrow, so they can be booked), and the example referrals 000000070000
 * (NOT_BOOKED at version 6, as A016's request expects), 000000070001 (BOOKED at version 5 into slot 11002001,
 * appointment 70009) and 000000070002 (AWAITING_TRIAGE at 11012, version 7); and the Advice and Guidance
 * requests of SANDBOX_ADVICE (their own table: the examples number them as the referrals) and the files of
 * SANDBOX_ADVICE_FILES.
 */
export async function seedSandbox(database: EReferralsDatabase): Promise<Record<string, number>> {
  const directory = new DirectoryRepository(database);
  const referrals = new ReferralRepository(database);
  const s = `"${database.schema}"`;
  const postcodes = await directory.loadPostcodes(readPostcodeFile(SAMPLE_POSTCODES_CSV).positions);
  return withTransaction(database.pool, async (transaction) => {
    let services = 0;
    let slots = 0;
    for (const record of SANDBOX_SERVICES) {
      if (await directory.service(record.id, transaction)) continue;
      await directory.saveService(transaction, record, serviceResource(record), 'sandbox');
      services += 1;
    }
    const tomorrow = new Date(Date.now() + 24 * 3600_000);
    tomorrow.setUTCHours(8, 0, 0, 0);
    for (const [serviceId, ids] of Object.entries(SANDBOX_SLOTS)) {
      const scheduleId = `${serviceId}-921600556514`;
      await directory.saveSchedule(transaction, {
        id: scheduleId,
        serviceId,
        clinician: null,
        resource: {
          resourceType: 'Schedule',
          id: scheduleId,
          actor: [{ identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value: serviceId } }],
        },
      });
      const known = await transaction.query<{ id: string }>(
        `SELECT id::text AS id FROM ${s}.slot WHERE id = ANY($1::bigint[])`,
        [ids],
      );
      const missing = ids.filter((id) => !known.rows.some((row) => row.id === id));
      if (missing.length === 0) continue;
      await directory.insertSlots(
        transaction,
        scheduleId,
        serviceId,
        missing.map((id) => {
          const start = new Date(tomorrow.getTime() + (Number(id) % 1000) * 3600_000);
          return {
            id,
            start: start.toISOString(),
            end: new Date(start.getTime() + 3600_000).toISOString(),
            appointmentType: 'ROUTINE',
          };
        }),
      );
      slots += missing.length;
    }
    let seededReferrals = 0;
    const specs = [
      {
        ubrn: '000000070000',
        version: 6,
        state: 'NOT_BOOKED' as const,
        shortlist: ['11000', '11002', '11021', '50001'],
      },
      {
        ubrn: '000000070001',
        version: 5,
        state: 'BOOKED' as const,
        shortlist: ['11002'],
        booked: { slotId: '11002001', appointmentId: '70009' },
      },
      { ubrn: '000000070002', version: 7, state: 'AWAITING_TRIAGE' as const, shortlist: ['11012'] },
    ];
    for (const spec of specs) if (await seedReferral(transaction, referrals, directory, spec)) seededReferrals += 1;
    let advice = 0;
    for (const item of SANDBOX_ADVICE) if (await seedAdvice(transaction, database.schema, item)) advice += 1;
    const files = await seedAdviceFiles(transaction, database.schema);
    return { postcodes, services, slots, referrals: seededReferrals, advice, files };
  });
}

import { generateNhsNumber, seededRandom } from '@platform/shared-identifiers';
import { withTransaction } from '@platform/shared-persistence';
import type { EReferralsDatabase } from '../database/database.provider';
import { DirectoryRepository } from '../directory/directory.repository';
import { readPostcodeFile } from '../directory/postcode-file';
import { CLINIC_TYPES, SPECIALTIES } from '../reference/code-systems';
import { SAMPLE_POSTCODES_CSV } from '../sandbox/sample-postcodes';

export interface NationalScale {
  services: number;
  slots: number;
  referrals: number;
  seed: number;
  /** The trust whose worklist gets `worklistReferrals` open referrals awaiting triage (the A008 benchmark's). */
  worklistProvider: string;
  worklistReferrals: number;
}

export type Progress = (stage: 'services' | 'slots' | 'referrals', done: number, total: number) => void;

/** Service ids of generated services start here, clear of the sandbox's and of ones providers publish. */
export const GENERATED_SERVICE_BASE = 50_000_000;
const BATCH = 10_000;

/**
 * A national-scale directory and referral store, generated in PostgreSQL for benchmarks: services spread over
 * synthetic positions across England (real sample postcodes plus generated ones), their slots from tomorrow
 * (hourly, eight a day), and referrals NOT_BOOKED with a one-service shortlist, except `worklistReferrals` of
 * them AWAITING_TRIAGE at the worklist provider's triage service. Each referral's first version holds a
 * compact ReferralRequest. Rows are made by INSERT ... SELECT in batches, so the data never crosses the wire.
 */
export async function loadNational(
  database: EReferralsDatabase,
  scale: NationalScale,
  progress: Progress,
): Promise<void> {
  const s = `"${database.schema}"`;
  const random = seededRandom(scale.seed);
  const directory = new DirectoryRepository(database);
  // Positions: the sample postcodes and generated ones (outward codes QA1..QZ9, which no real postcode uses).
  const sample = readPostcodeFile(SAMPLE_POSTCODES_CSV).positions;
  const letters = 'ABDEFGHJLNPQRSTUWXYZ';
  const generated = Array.from({ length: 2000 }, (_, index) => ({
    postcode: `Q${letters.charAt(index % 20)}${Math.floor(index / 20) % 10} ${Math.floor(index / 200)}${letters.charAt(Math.floor(random() * 20))}${letters.charAt(Math.floor(random() * 20))}`,
    latitude: 50.6 + random() * 4.4,
    longitude: -3.6 + random() * 5.3,
  }));
  await directory.loadPostcodes([...sample, ...generated]);
  const postcodes = [...sample, ...generated].map((item) => item.postcode);

  const specialties = SPECIALTIES.map((item) => item.code);
  for (let start = 0; start < scale.services; start += BATCH) {
    const count = Math.min(BATCH, scale.services - start);
    const ids: number[] = [];
    const specialty: string[] = [];
    const clinic: string[] = [];
    const postcode: string[] = [];
    const wait: number[] = [];
    const ods: string[] = [];
    const triage: boolean[] = [];
    for (let i = 0; i < count; i += 1) {
      const n = start + i;
      ids.push(GENERATED_SERVICE_BASE + n);
      const code = specialties[n % specialties.length] ?? 'CARDIOLOGY';
      specialty.push(code);
      clinic.push(CLINIC_TYPES.find((item) => item.specialty === code)?.code ?? '');
      postcode.push(postcodes[Math.floor(random() * postcodes.length)] ?? 'LS1 2TW');
      wait.push(1 + Math.floor(random() * 120));
      // The worklist provider owns the first services, the first of them a triage service.
      ods.push(n < 10 ? scale.worklistProvider : `RG${String(n % 500).padStart(3, '0')}`);
      triage.push(n === 0);
    }
    await database.pool.query(
      `INSERT INTO ${s}.healthcare_service (id, ods_code, name, specialty, clinic_types, priorities, bookable_type, triage,
         postcode, latitude, longitude, position, indicative_wait_days, gender_treated, resource)
       SELECT t.id, t.ods, t.specialty || ' service ' || t.id, t.specialty,
              CASE WHEN t.clinic = '' THEN '{}'::text[] ELSE ARRAY[t.clinic] END,
              ARRAY['ROUTINE', 'URGENT', 'TWO_WEEK_WAIT'],
              CASE WHEN t.triage THEN 'INDIRECTLY_BOOKABLE' ELSE 'DIRECTLY_BOOKABLE' END, t.triage,
              p.postcode, p.latitude, p.longitude, p.position, t.wait, 'MALE_AND_FEMALE',
              jsonb_build_object('resourceType', 'HealthcareService', 'id', t.id::text, 'name', t.specialty || ' service ' || t.id)
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::boolean[])
           AS t(id, specialty, clinic, postcode, wait, ods, triage)
         JOIN ${s}.postcode p ON p.postcode = t.postcode
       ON CONFLICT (id) DO NOTHING`,
      [ids, specialty, clinic, postcode, wait, ods, triage],
    );
    await database.pool.query(
      `INSERT INTO ${s}.healthcare_service_version (service_id, version, resource, published_by)
       SELECT id, 1, resource, 'ers-cli' FROM ${s}.healthcare_service WHERE id = ANY($1::bigint[]) ON CONFLICT DO NOTHING`,
      [ids],
    );
    await database.pool.query(
      `INSERT INTO ${s}.schedule (id, service_id, resource)
       SELECT 'G' || id, id, jsonb_build_object('resourceType', 'Schedule', 'id', 'G' || id)
         FROM ${s}.healthcare_service WHERE id = ANY($1::bigint[]) ON CONFLICT DO NOTHING`,
      [ids],
    );
    progress('services', start + count, scale.services);
  }

  // Slots: spread evenly, hourly from 08:00 tomorrow, eight a day; a service's slots stored together, as a
  // publish of a schedule stores them.
  const perService = Math.max(1, Math.floor(scale.slots / Math.max(1, scale.services)));
  const servicesPerBatch = Math.max(1, Math.floor(100_000 / perService));
  let slotsDone = 0;
  for (let start = 0; start < scale.services && slotsDone < scale.slots; start += servicesPerBatch) {
    const end = Math.min(scale.services, start + servicesPerBatch);
    const result = await database.pool.query(
      `INSERT INTO ${s}.slot (schedule_id, service_id, start_at, end_at)
       SELECT 'G' || h.id, h.id,
              date_trunc('day', now()) + interval '1 day 8 hours' + ((g / 8) * interval '1 day') + ((g % 8) * interval '1 hour'),
              date_trunc('day', now()) + interval '1 day 8 hours 30 minutes' + ((g / 8) * interval '1 day') + ((g % 8) * interval '1 hour')
         FROM ${s}.healthcare_service h, generate_series(0, $3::int - 1) g
        WHERE h.id >= $1 AND h.id < $2
        ORDER BY h.id, g`,
      [GENERATED_SERVICE_BASE + start, GENERATED_SERVICE_BASE + end, perService],
    );
    slotsDone += result.rowCount ?? 0;
    progress('slots', Math.min(slotsDone, scale.slots), scale.slots);
  }

  // Referrals: patients drawn from a pool of valid NHS numbers.
  const patients = Array.from({ length: 1000 }, () => generateNhsNumber(random));
  const worklist = Math.min(scale.worklistReferrals, scale.referrals);
  for (let start = 0; start < scale.referrals; start += BATCH) {
    const count = Math.min(BATCH, scale.referrals - start);
    await withTransaction(database.pool, async (client) => {
      const made = await client.query<{ ubrn: string }>(
        `WITH made AS (
           SELECT lpad(nextval('${s}.ubrn')::text, 12, '0') AS ubrn, n,
                  CASE WHEN n < $3 THEN ${GENERATED_SERVICE_BASE} ELSE ${GENERATED_SERVICE_BASE} + (n::bigint * 7919) % $4 END AS service_id
             FROM generate_series($1::int, $2::int - 1) n
         )
         INSERT INTO ${s}.referral (ubrn, state, patient_nhs_number, priority, specialty, referrer_ods, referrer_user,
            access_code, service_id, provider_ods, search_criteria)
         SELECT m.ubrn, CASE WHEN m.n < $3 THEN 'AWAITING_TRIAGE' ELSE 'NOT_BOOKED' END,
                ($5::text[])[1 + m.n % array_length($5::text[], 1)], 'ROUTINE', h.specialty, 'A83008', 'ers-cli',
                substr(md5(m.ubrn), 1, 12),
                CASE WHEN m.n < $3 THEN h.id END, CASE WHEN m.n < $3 THEN h.ods_code END,
                jsonb_build_object('priority', 'ROUTINE', 'specialty', h.specialty)
           FROM made m JOIN ${s}.healthcare_service h ON h.id = m.service_id
         RETURNING ubrn`,
        [start, start + count, worklist, scale.services, patients],
      );
      const ubrns = made.rows.map((row) => row.ubrn);
      await client.query(
        `INSERT INTO ${s}.referral_shortlist (ubrn, position, service_id)
         SELECT r.ubrn, 1, coalesce(r.service_id, ${GENERATED_SERVICE_BASE} + (abs(hashtext(r.ubrn)) % $2))
           FROM ${s}.referral r WHERE r.ubrn = ANY($1::bpchar[])`,
        [ubrns, scale.services],
      );
      await client.query(
        `INSERT INTO ${s}.referral_version (ubrn, version, state, action, resource, changed_by)
         SELECT r.ubrn, 1, r.state, 'GENERATED',
                jsonb_build_object(
                  'id', r.ubrn, 'resourceType', 'ReferralRequest',
                  'meta', jsonb_build_object('versionId', '1'),
                  'extension', jsonb_build_array(jsonb_build_object(
                    'url', 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-ReferralState-1',
                    'extension', jsonb_build_array(jsonb_build_object('url', 'state', 'valueCoding',
                      jsonb_build_object('system', 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralState-1', 'code', r.state))))),
                  'contained', jsonb_build_array(jsonb_build_object('id', 'shortlist', 'resourceType', 'List', 'entry',
                    jsonb_build_array(jsonb_build_object('item', jsonb_build_object('identifier',
                      jsonb_build_object('system', 'http://fhir.nhs.net/Id/ers-service', 'value', l.service_id::text)))))),
                  'status', 'active', 'intent', 'plan',
                  'subject', jsonb_build_object('identifier',
                    jsonb_build_object('system', 'http://fhir.nhs.net/Id/nhs-number', 'value', r.patient_nhs_number))),
                'ers-cli'
           FROM ${s}.referral r JOIN ${s}.referral_shortlist l ON l.ubrn = r.ubrn
          WHERE r.ubrn = ANY($1::bpchar[])`,
        [ubrns],
      );
    });
    progress('referrals', start + count, scale.referrals);
  }
  // VACUUM too: it marks the pages all-visible, so counting a service's free slots reads the index alone.
  await database.pool.query(
    `VACUUM (ANALYZE) ${s}.healthcare_service, ${s}.slot, ${s}.referral, ${s}.referral_shortlist, ${s}.referral_version`,
  );
}

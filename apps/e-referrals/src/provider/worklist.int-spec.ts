import { createHash } from 'node:crypto';
import { worklistBody } from '@platform/contracts-ers';
import { dropSchema, testDatabaseUrl, uniqueName } from '@platform/shared-testing';
import { openEReferralsDatabase } from '../database/database';
import type { EReferralsDatabase } from '../database/database.provider';
import { ReferralRepository, worklistStatement } from '../referrals/referral.repository';
import { WORKLISTS } from './worklist.usecase';

/**
 * The A008 List, byte for byte, over a fixed store: 1,200 referrals of one trust (and 300 of another) in every
 * state, with ties on their last change, dates before 1970 and to the microsecond, no specialty or service on
 * some, names and specialties that JSON escapes or that are not ASCII. The hashes are those of the Lists the
 * worklist statement wrote before it was rewritten for speed (json_agg of epoch milliseconds): a faster
 * statement, index or writer must not change one byte of the answer.
 */
describe('A008 worklist answer (byte for byte)', () => {
  const url = testDatabaseUrl();
  const schema = uniqueName('ers_worklist');
  let database: EReferralsDatabase;
  let referrals: ReferralRepository;

  beforeAll(async () => {
    database = await openEReferralsDatabase({ url, schema, poolSize: 2 });
    referrals = new ReferralRepository(database);
    const s = `"${schema}"`;
    await database.pool.query(
      `INSERT INTO ${s}.healthcare_service (id, ods_code, name, specialty, priorities, bookable_type, postcode, latitude,
         longitude, position, indicative_wait_days, gender_treated, resource)
       SELECT t.id, t.ods, t.name, 'CARDIOLOGY', ARRAY['ROUTINE'], 'DIRECTLY_BOOKABLE', 'LS1 2TW', 53.8, -1.5,
              public.ll_to_earth(53.8, -1.5), 10, 'MALE_AND_FEMALE', '{}'
         FROM unnest($1::bigint[], $2::text[], $3::text[]) AS t(id, ods, name)`,
      [
        [901, 902, 903, 904],
        ['RW1', 'RW1', 'RW1', 'RW2'],
        ['Plain clinic', 'Clínica "Ünïcode" \\ ✓', 'Tab\there, new\nline', 'Other trust'],
      ],
    );
    await database.pool.query(
      `INSERT INTO ${s}.referral (ubrn, version, state, patient_nhs_number, priority, specialty, referrer_ods,
         referrer_user, access_code, service_id, provider_ods, search_criteria, pathway_start, created_at, updated_at)
       SELECT lpad((500000000000 + (n * 7919) % 1500)::text, 12, '0'),
              1 + n % 9,
              (ARRAY['BOOKED', 'AWAITING_TRIAGE', 'DEFERRED_TO_PROVIDER', 'ACCEPTED', 'TRIAGED_PROVIDER_TO_ACTION',
                     'NOT_BOOKED', 'REJECTED'])[1 + n % 7],
              (ARRAY['9000000009', '9000000017', '9000000025', '9000000033', '9000000041'])[1 + n % 5],
              (ARRAY['ROUTINE', 'URGENT', 'TWO_WEEK_WAIT'])[1 + n % 3],
              (ARRAY['CARDIOLOGY', NULL, 'ENT "quoted" \\ é'])[1 + n % 3],
              'A83008', 'user', 'code',
              CASE WHEN n >= 1200 THEN 904 WHEN n % 11 = 0 THEN NULL ELSE 901 + n % 3 END,
              CASE WHEN n >= 1200 THEN 'RW2' ELSE 'RW1' END,
              '{"priority":"ROUTINE"}',
              CASE n % 4 WHEN 0 THEN NULL
                         WHEN 1 THEN timestamptz '1969-12-31 23:59:59.999500+00' - n * interval '1 day 1 microsecond'
                         ELSE timestamptz '2024-02-29 12:00:00.000999+00' + n * interval '1 hour 7 microseconds' END,
              timestamptz '2025-01-01 00:00:00+00' + n * interval '3 minutes 1.000333 seconds',
              -- Ties: every group of five shares its last change, ordered then by UBRN.
              timestamptz '2026-03-04 05:06:07.123999+00' - (n / 5) * interval '17 minutes 0.000777 seconds'
         FROM generate_series(0, 1499) n`,
    );
  });

  afterAll(async () => {
    await database?.dataSource.destroy();
    await dropSchema(url, schema);
  });

  const list = async (
    listType: string,
    filters: { priority?: string; serviceIds?: string[]; limit: number },
    organisation = 'RW1',
  ): Promise<{ total: number; entries: number; sha256: string }> => {
    const reply = await referrals.worklist(organisation, WORKLISTS[listType] ?? [], filters);
    const body = worklistBody({ listType, ...reply });
    return { total: reply.total, entries: reply.rows.length, sha256: createHash('sha256').update(body).digest('hex') };
  };

  it('lists for review and awaiting booking, all of them', async () => {
    expect(await list('REFERRALS_FOR_REVIEW', { limit: 5000 })).toEqual({
      total: 344,
      entries: 344,
      sha256: 'cf1865cd48beb84322c1bc1ad3571a6d80cee9db8c75c2af3f04655fe134f9d2',
    });
    expect(await list('AWAITING_BOOKING', { limit: 5000 })).toEqual({
      total: 514,
      entries: 514,
      sha256: '2defb16169aaf92e6ac531425de356d53aa974efc04a1fa6aef35440988b62cf',
    });
  });

  it('stops at the limit and counts them all', async () => {
    expect(await list('REFERRALS_FOR_REVIEW', { limit: 100 })).toEqual({
      total: 344,
      entries: 100,
      sha256: '25ba432cdaf2e7889a8566a8dca0dee28ebcf6f5af86335ac94dada9f30c4758',
    });
    expect(await list('AWAITING_BOOKING', { limit: 514 })).toEqual({
      total: 514,
      entries: 514,
      sha256: '2defb16169aaf92e6ac531425de356d53aa974efc04a1fa6aef35440988b62cf',
    });
  });

  it('filters by priority and by service', async () => {
    expect(await list('REFERRALS_FOR_REVIEW', { priority: 'URGENT', limit: 5000 })).toEqual({
      total: 115,
      entries: 115,
      sha256: 'a8b712c2293d23206343bc5651de69b381f216f1b0c0452310f9c28ceae51032',
    });
    expect(await list('AWAITING_BOOKING', { serviceIds: ['902', '903'], limit: 5000 })).toEqual({
      total: 311,
      entries: 311,
      sha256: '6d28a578c29e1efe6be029c60b5a5679560d897ac7b567e8149bc25f3fb9eaf8',
    });
    expect(
      await list('REFERRALS_FOR_REVIEW', { priority: 'TWO_WEEK_WAIT', serviceIds: ['901', '903'], limit: 40 }),
    ).toEqual({ total: 104, entries: 40, sha256: '50bd88f0e105f25087ff702754adc03c349f4ba4932e9e0b38057d14bfb534b7' });
  });

  it("lists only the caller's own referrals, and none for a trust with none", async () => {
    expect(await list('REFERRALS_FOR_REVIEW', { limit: 5000 }, 'RW2')).toEqual({
      total: 86,
      entries: 86,
      sha256: 'b718d572e162d08dfbe50271c9a32e71aa0aaba773aa7719f8d71899c5e83602',
    });
    expect(await list('AWAITING_BOOKING', { limit: 5000 }, 'RW9')).toEqual({
      total: 0,
      entries: 0,
      sha256: '6e6eb716a48a0fd7c2b172c985e1fb086dee16a2f948fb534c3823a556597064',
    });
  });

  it.each([
    ['REFERRALS_FOR_REVIEW', 'referral_for_review'],
    ['AWAITING_BOOKING', 'referral_awaiting_booking'],
  ])('reads %s in its order from %s, without sorting, whatever the filters', async (listType, index) => {
    for (const filters of [{ limit: 5000 }, { priority: 'URGENT', serviceIds: ['901', '902'], limit: 40 }]) {
      const { text, values } = worklistStatement(`"${schema}"`, 'RW1', WORKLISTS[listType] ?? [], filters);
      const client = await database.pool.connect();
      try {
        // The table is small enough for a sequential scan and a sort: taken off the menu, the index must serve.
        await client.query('BEGIN');
        await client.query('SET LOCAL enable_seqscan = off');
        await client.query('SET LOCAL enable_bitmapscan = off');
        await client.query('SET LOCAL enable_sort = off');
        const plan = JSON.stringify(
          (await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, values)).rows[0],
        );
        expect(plan).toContain(`"Index Name":"${index}"`);
        expect(plan).not.toContain('"Node Type":"Sort"');
        expect(plan).not.toContain('"Node Type":"Incremental Sort"');
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    }
  });
});

import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { intOption, type BenchCommand, type BenchContext, type OptionValues } from '../command';
import { BenchDatabase } from '../support/bench-database';
import { formatSummary, summariseProfile, type CpuProfile } from '../profile/profile-summary';
import { runToCompletion, signal } from '../support/children';
import { writeSection } from '../support/docs-section';
import { runLoad, type LoadRequest } from '../support/load';
import { sourceRevision } from '../support/machine';
import { PORTS, startPlatform } from '../support/platform';
import { setUpRun } from '../support/run-setup';
import { percentileOfSorted } from '../support/stats';
import { ERS_SECTION_ID, renderErsSection, type ErsReport } from './ers-report';

const PDS_SCHEMA = 'pds_bench_ers';
const ERS_SCHEMA = `${PDS_SCHEMA}_ers`;
const CLI = 'dist/apps/e-referrals/src/cli/ers.cli.js';
/** The processes `--profile` samples. */
const PROFILED = ['gateway', 'e-referrals'];
const PRACTICE = 'A83008'; // the clinician demo user's organisation
const TRUST = 'RR8'; // the provider-clinician demo user's organisation
/** Worklist calls before the measured ones (each phase above has its warm-up seconds). */
const WORKLIST_WARM_UP_CALLS = 3;

class ErsBenchDatabase extends BenchDatabase {
  static async open(url: string): Promise<ErsBenchDatabase> {
    return new ErsBenchDatabase(await BenchDatabase.connect(url), PDS_SCHEMA);
  }

  async dropAll(): Promise<void> {
    for (const schema of [
      PDS_SCHEMA,
      ERS_SCHEMA,
      `${PDS_SCHEMA}_n3`,
      `${PDS_SCHEMA}_eps`,
      `${PDS_SCHEMA}_gp2gp`,
      `${PDS_SCHEMA}_nhsmail`,
    ]) {
      await this.client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  }

  /**
   * `count` NOT_BOOKED referrals of the practice, each with a free slot of its shortlisted service no other has
   * (directly bookable services only: a triage service's referral is sent for triage, not booked), at its current
   * version (the sandbox's own referrals are among them, some changed several times), once each (the first
   * service of its shortlist: a sandbox referral shortlists several, and a second booking of it would be 409).
   */
  async bookable(count: number): Promise<{ ubrn: string; version: number; serviceId: string; slotId: string }[]> {
    const s = `"${ERS_SCHEMA}"`;
    const result = await this.client.query<{ ubrn: string; version: number; service_id: string; slot_id: string }>(
      `WITH picked AS (
         SELECT r.ubrn, r.version, l.service_id, row_number() OVER (PARTITION BY l.service_id ORDER BY r.ubrn) AS k
           FROM (SELECT ubrn, version FROM ${s}.referral WHERE state = 'NOT_BOOKED' AND referrer_ods = $2 ORDER BY ubrn LIMIT $1 * 2) r
           JOIN ${s}.referral_shortlist l ON l.ubrn = r.ubrn AND l.position = 1
           JOIN ${s}.healthcare_service h ON h.id = l.service_id
                AND h.active AND NOT h.triage AND h.bookable_type = 'DIRECTLY_BOOKABLE'
       ), free AS (
         SELECT id, service_id, row_number() OVER (PARTITION BY service_id ORDER BY start_at, id) AS k
           FROM ${s}.slot WHERE status = 'free' AND start_at > now() AND service_id IN (SELECT service_id FROM picked)
       )
       SELECT p.ubrn, p.version, p.service_id::text AS service_id, f.id::text AS slot_id
         FROM picked p JOIN free f ON f.service_id = p.service_id AND f.k = p.k LIMIT $1`,
      [count, PRACTICE],
    );
    return result.rows.map((row) => ({
      ubrn: row.ubrn,
      version: row.version,
      serviceId: row.service_id,
      slotId: row.slot_id,
    }));
  }

  /** Random generated services with free slots, and a specialty of each. */
  async services(count: number): Promise<{ id: string; specialty: string }[]> {
    const result = await this.client.query<{ id: string; specialty: string }>(
      `SELECT id::text AS id, specialty FROM "${ERS_SCHEMA}".healthcare_service WHERE NOT triage ORDER BY random() LIMIT $1`,
      [count],
    );
    return result.rows;
  }

  /** Postcodes of the postcode table (the sample file's and the generated ones). */
  async postcodes(count: number): Promise<string[]> {
    const result = await this.client.query<{ postcode: string }>(
      `SELECT postcode FROM "${ERS_SCHEMA}".postcode ORDER BY random() LIMIT $1`,
      [count],
    );
    return result.rows.map((row) => row.postcode);
  }

  async doublyBookedSlots(): Promise<number> {
    const result = await this.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT slot_id FROM "${ERS_SCHEMA}".appointment WHERE status = 'booked'
         GROUP BY slot_id HAVING count(*) > 1) twice`,
    );
    return result.rows[0]?.n ?? -1;
  }

  /**
   * Writes out what the seed left for PostgreSQL's next checkpoint. Loading 3 million rows fills WAL segment after
   * segment; the last checkpoint it triggers is spread over most of checkpoint_timeout and ends by syncing every
   * file the load touched, which put the measured phases beside minutes of background writes and a stall of
   * some 2,000 fsyncs (the server log: a 269 s checkpoint through a whole run). A deployment does not serve
   * right after a bulk load with its checkpoint pending (an operator checkpoints after one), so neither does
   * the benchmark. Needs a superuser or pg_checkpoint (PostgreSQL 15): without either it says so and goes on.
   */
  async checkpoint(): Promise<boolean> {
    try {
      await this.client.query('CHECKPOINT');
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === '42501') return false;
      throw error;
    }
  }

  async openOnWorklist(): Promise<number> {
    const result = await this.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${ERS_SCHEMA}".referral WHERE provider_ods = $1 AND state IN ('BOOKED', 'AWAITING_TRIAGE')`,
      [TRUST],
    );
    return result.rows[0]?.n ?? 0;
  }
}

function bookingBody(ubrn: string, serviceId: string, slotId: string, version = 1): string {
  return JSON.stringify({
    resourceType: 'Appointment',
    status: 'booked',
    slot: [{ reference: `Slot/${slotId}` }],
    incomingReferral: [{ reference: `ReferralRequest/${ubrn}/_history/${version}` }],
    participant: [
      { actor: { identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value: serviceId } }, status: 'accepted' },
    ],
  });
}

async function run(values: OptionValues, context: BenchContext): Promise<number> {
  const options = {
    services: intOption(values, 'services', 1, 100_000),
    slots: intOption(values, 'slots', 1000, 50_000_000),
    referrals: intOption(values, 'referrals', 6000, 20_000_000),
    clients: intOption(values, 'clients', 1, 500),
    searchClients: intOption(values, 'search-clients', 1, 500),
    durationSeconds: intOption(values, 'duration', 1, 600),
    rounds: intOption(values, 'race-rounds', 1, 100),
    worklistCalls: intOption(values, 'worklist-calls', 1, 1000),
    keepData: values['keep-data'] === true,
    verbose: values['verbose'] === true,
    profile: values['profile'] === true,
    noDocs: values['no-docs'] === true,
  };
  const { root, progress, cleanup } = context;
  const { databaseUrl, natsUrl, workDir, machine, measuredAt, versions, database } = await setUpRun(context, {
    name: 'ers',
    built: [CLI, 'dist/tools/launcher/src/main.js'],
    keepData: options.keepData,
    open: (url) => ErsBenchDatabase.open(url),
  });

  // 1. The store, generated inside PostgreSQL.
  const seedStarted = performance.now();
  progress.say(
    `generating ${options.services.toLocaleString('en-GB')} services, ${options.slots.toLocaleString('en-GB')} slots, ${options.referrals.toLocaleString('en-GB')} referrals (npm run ers -- seed)`,
  );
  await runToCompletion(
    process.execPath,
    [
      path.join(root, CLI),
      'seed',
      ...[
        '--services',
        String(options.services),
        '--slots',
        String(options.slots),
        '--referrals',
        String(options.referrals),
      ],
      ...['--worklist-provider', TRUST, '--schema', ERS_SCHEMA, '--database-url', databaseUrl],
    ],
    { cwd: root, timeoutMs: 3_600_000 },
  );
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const checkpointStarted = performance.now();
  const checkpointSeconds = (await database.checkpoint()) ? (performance.now() - checkpointStarted) / 1000 : null;
  progress.say(
    checkpointSeconds === null
      ? 'no checkpoint after the seed (CHECKPOINT needs a superuser or pg_checkpoint): measured beside its writes'
      : `checkpoint after the seed: ${checkpointSeconds.toFixed(1)} s`,
  );

  // 2. The platform and its tokens.
  const profileDir = path.join(workDir, 'profiles');
  if (options.profile) mkdirSync(profileDir, { recursive: true });
  const preload = path.join(__dirname, '../profile/cpu-profile.preload.js');
  const platform = await startPlatform(
    {
      root,
      workDir,
      ports: PORTS,
      databaseUrl,
      natsUrl,
      schema: PDS_SCHEMA,
      verbose: options.verbose,
      env: options.profile
        ? {
            NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --require "${preload}"`.trim(),
            BENCH_PROFILE_TARGETS: PROFILED.join(','),
            BENCH_PROFILE_DIR: profileDir,
          }
        : {},
    },
    progress,
    cleanup,
  );
  /**
   * With --profile: samples the gateway's and e-referrals' CPU during `work` (one measured phase) and prints
   * where it went; the figures of a profiled phase are slower than unprofiled ones.
   */
  const profiled = async <T>(phase: string, requests: (result: T) => number, work: () => Promise<T>): Promise<T> => {
    if (!options.profile) return work();
    for (const name of PROFILED) rmSync(path.join(profileDir, `${name}.cpuprofile`), { force: true });
    for (const name of PROFILED) signal(platform.pids[name] ?? 0, 'SIGUSR2');
    const result = await work();
    for (const name of PROFILED) signal(platform.pids[name] ?? 0, 'SIGUSR2');
    for (const name of PROFILED) {
      const file = path.join(profileDir, `${name}.cpuprofile`);
      const deadline = Date.now() + 15_000;
      while (!existsSync(file) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      if (!existsSync(file)) throw new Error(`no profile was written for ${name}`);
      const summary = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, root, 25);
      const count = requests(result);
      const text = formatSummary(
        `${phase} · ${name} (${(summary.busyMs / Math.max(1, count)).toFixed(3)} ms of CPU per request on its main thread)`,
        summary,
        count,
      );
      writeFileSync(path.join(profileDir, `${phase}-${name}.txt`), `${text}\n`);
      rmSync(file);
      progress.say(`\n${text}`);
    }
    return result;
  };
  const [gp, hospital] = await Promise.all([platform.token('clinician'), platform.token('provider-clinician')]);
  const headers = (token: string, organisation: string, businessFunction: string): Record<string, string> => ({
    authorization: `Bearer ${token}`,
    'content-type': 'application/fhir+json',
    'nhsd-end-user-organisation-ods': organisation,
    'nhsd-ers-business-function': businessFunction,
    'x-request-id': randomUUID(),
  });
  const gpHeaders = (): Record<string, string> => headers(gp, PRACTICE, 'REFERRING_CLINICIAN');
  const load = (label: string, requests: LoadRequest[], connections: number, seconds = options.durationSeconds) =>
    runLoad(
      { label, url: platform.gatewayUrl, connections, durationSeconds: seconds, requests, partitioned: true },
      progress,
      cleanup,
    );

  // 3. Baseline: the gateway and the bus without the database.
  const codeSystem: LoadRequest[] = Array.from({ length: 2000 }, () => ({
    method: 'GET',
    path: '/referrals/FHIR/STU3/CodeSystem/PRIORITY',
    headers: gpHeaders(),
  }));
  await load('baseline · warm-up', codeSystem, options.clients, 2);
  const baseline = await load('baseline · A004', codeSystem, options.clients);

  // 4. Booking: every request a different referral and a different free slot.
  const needed = Math.max(2000, (options.durationSeconds + 4) * 400);
  const bookable = await database.bookable(needed);
  progress.say(`booking: ${bookable.length.toLocaleString('en-GB')} referrals with a free slot each`);
  const bookRequests: LoadRequest[] = bookable.map((item) => ({
    method: 'POST',
    path: '/referrals/FHIR/STU3/Appointment',
    headers: gpHeaders(),
    body: bookingBody(item.ubrn, item.serviceId, item.slotId, item.version),
  }));
  const warm = Math.floor(bookRequests.length / 8);
  await load('book · warm-up', bookRequests.slice(0, warm), options.clients, 2);
  const book = await profiled(
    'book',
    (result) => result.ok,
    () => load('book · measuring', bookRequests.slice(warm), options.clients),
  );
  progress.say(
    `book: ${Math.round(book.requestsPerSecond)}/s, p50 ${book.p50Ms.toFixed(1)} ms, p99 ${book.p99Ms.toFixed(1)} ms`,
  );

  // 5. 50 referrers racing for one slot, through the gateway, every round.
  const winners: number[] = [];
  const [raced] = await database.services(1);
  for (let round = 0; round < options.rounds && raced; round += 1) {
    const referrals: string[] = [];
    for (let index = 0; index < 50; index += 1) {
      const created = await fetch(`${platform.gatewayUrl}/referrals/FHIR/STU3/ReferralRequest/$ers.createReferral`, {
        method: 'POST',
        headers: gpHeaders(),
        body: JSON.stringify({
          resourceType: 'Parameters',
          parameter: [
            { name: 'patient', valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: '9000000114' } },
            {
              name: 'shortlist',
              resource: {
                resourceType: 'List',
                contained: [
                  {
                    resourceType: 'Parameters',
                    parameter: [
                      { name: 'priority', valueCoding: { code: 'ROUTINE' } },
                      { name: 'specialty', valueCoding: { code: raced.specialty } },
                    ],
                  },
                ],
                entry: [{ item: { identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value: raced.id } } }],
              },
            },
          ],
        }),
      });
      if (created.status !== 201) throw new Error(`create answered ${created.status}: ${await created.text()}`);
      referrals.push(((await created.json()) as { id: string }).id);
    }
    const slot = await fetch(
      `${platform.gatewayUrl}/referrals/FHIR/STU3/Slot?schedule.actor%3AHealthcareService=${raced.id}&_count=1&page=1`,
      { headers: gpHeaders() },
    );
    const slotId = (
      (await slot.json()) as { entry?: { resource: { resourceType: string; id: string } }[] }
    ).entry?.find((entry) => entry.resource.resourceType === 'Slot')?.resource.id;
    if (!slotId) break;
    const answers = await Promise.all(
      referrals.map((ubrn) =>
        fetch(`${platform.gatewayUrl}/referrals/FHIR/STU3/Appointment`, {
          method: 'POST',
          headers: gpHeaders(),
          body: bookingBody(ubrn, raced.id, slotId),
        }).then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        }),
      ),
    );
    winners.push(answers.filter((status) => status === 201).length);
  }
  const doublyBookedSlots = await database.doublyBookedSlots();
  progress.say(`race: winners per round ${winners.join(', ')}; doubly booked slots ${doublyBookedSlots}`);

  // 6. Search within 50 km of a postcode (31 miles), and slots of a service.
  const services = await database.services(500);
  const postcodes = await database.postcodes(100);
  const searchRequests: LoadRequest[] = services.map((service, index) => ({
    method: 'POST',
    path: '/referrals/FHIR/STU3/HealthcareService/$ers.searchHealthcareServicesForPatient',
    headers: gpHeaders(),
    body: JSON.stringify({
      resourceType: 'Parameters',
      parameter: [
        { name: 'patient', valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: '9000000114' } },
        {
          name: 'searchCriteria',
          resource: {
            resourceType: 'Parameters',
            parameter: [
              { name: 'priority', valueCoding: { code: 'ROUTINE' } },
              { name: 'specialty', valueCoding: { code: service.specialty } },
              { name: 'postcode', valueString: postcodes[index % postcodes.length] },
              { name: 'distanceLimit', valueUnsignedInt: 31 },
            ],
          },
        },
      ],
    }),
  }));
  await load('search · warm-up', searchRequests, options.searchClients, 2);
  const search = await profiled(
    'search',
    (result) => result.ok,
    () => load('search · A010', searchRequests, options.searchClients),
  );
  const slotRequests: LoadRequest[] = services.map((service) => ({
    method: 'GET',
    path: `/referrals/FHIR/STU3/Slot?schedule.actor%3AHealthcareService=${service.id}&status=free&_count=20&page=1`,
    headers: gpHeaders(),
  }));
  const slots = await profiled(
    'slots',
    (result) => result.ok,
    () => load('slots · A015', slotRequests, options.searchClients),
  );
  for (const [name, result] of [
    ['search', search],
    ['slots', slots],
  ] as const) {
    progress.say(
      `${name}: ${Math.round(result.requestsPerSecond)}/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms`,
    );
  }

  // 7. The provider's worklist of its open referrals.
  const openReferrals = await database.openOnWorklist();
  const worklistBody = JSON.stringify({
    resourceType: 'Parameters',
    parameter: [{ name: 'listType', valueCodeableConcept: { coding: [{ code: 'REFERRALS_FOR_REVIEW' }] } }],
  });
  const fetchWorklist = async (): Promise<{ ms: number; answer: ArrayBuffer; type: string }> => {
    const started = performance.now();
    const response = await fetch(`${platform.gatewayUrl}/referrals/FHIR/STU3/ReferralRequest/$ers.fetchworklist`, {
      method: 'POST',
      headers: headers(hospital, TRUST, 'SERVICE_PROVIDER_CLINICIAN'),
      body: worklistBody,
    });
    const answer = await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`worklist answered ${response.status}`);
    return { ms: performance.now() - started, answer, type: response.headers.get('content-type') ?? '' };
  };
  // Warm-up, as the loads above have theirs: the first answer checked in full and timed apart (a cold call:
  // the worklist's code paths and the provider's rows not yet used since the platform started).
  const warmUp: number[] = [];
  for (let call = 0; call < WORKLIST_WARM_UP_CALLS; call += 1) {
    const { ms, answer, type } = await fetchWorklist();
    warmUp.push(ms);
    if (call === 0) {
      // A FHIR List of every open referral, up to the limit.
      const list = JSON.parse(Buffer.from(answer).toString('utf8')) as { resourceType?: string; entry?: unknown[] };
      const expected = Math.min(openReferrals, 5000);
      if (!type.startsWith('application/fhir+json')) throw new Error(`worklist answered as ${type}`);
      if (list.resourceType !== 'List' || list.entry?.length !== expected) {
        throw new Error(`worklist answered ${list.entry?.length ?? 'no'} entries, not ${expected}`);
      }
    }
  }
  const latencies: number[] = [];
  await profiled(
    'worklist',
    () => latencies.length,
    async () => {
      for (let call = 0; call < options.worklistCalls; call += 1) latencies.push((await fetchWorklist()).ms);
    },
  );
  const sorted = [...latencies].sort((a, b) => a - b);
  progress.say(
    `worklist: p50 ${percentileOfSorted(sorted, 50).toFixed(1)} ms, p99 ${percentileOfSorted(sorted, 99).toFixed(1)} ms over ${sorted.length} calls ` +
      `(warm-up: ${warmUp.map((ms) => ms.toFixed(1)).join(', ')} ms)`,
  );
  await platform.stop();
  if (options.profile) {
    progress.say(
      `profiles (summaries) in ${path.relative(root, profileDir)}/; the figures were not written (profiled)`,
    );
    return 0;
  }
  if (options.noDocs) {
    progress.say('the figures were not written (--no-docs)');
    return 0;
  }

  const report: ErsReport = {
    measuredAt,
    machine,
    revision: sourceRevision(root),
    versions,
    store: {
      services: options.services,
      slots: options.slots,
      referrals: options.referrals,
      seedSeconds,
      checkpointSeconds,
    },
    baseline,
    book: { clients: options.clients, load: book },
    race: { rounds: options.rounds, referrers: 50, winnersPerRound: winners, doublyBookedSlots },
    search: { clients: options.searchClients, load: search },
    slots: { clients: options.searchClients, load: slots },
    worklist: {
      calls: options.worklistCalls,
      referrals: openReferrals,
      p50Ms: percentileOfSorted(sorted, 50),
      p99Ms: percentileOfSorted(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? 0,
      warmUpMs: warmUp,
    },
    command: `npm run bench -- ers --services ${options.services} --slots ${options.slots} --referrals ${options.referrals} --clients ${options.clients} --duration ${options.durationSeconds}`,
  };
  const docs = path.join(root, 'docs/benchmarks.md');
  await writeSection(docs, ERS_SECTION_ID, renderErsSection(report));
  progress.say(`wrote the ${ERS_SECTION_ID} section of ${path.relative(root, docs)}`);
  return 0;
}

export const ersCommand: BenchCommand = {
  name: 'ers',
  summary:
    'e-Referral Service: booking at 16 clients, 50 racing for a slot, search, slots and a 5,000-referral worklist through the gateway',
  options: {
    services: { type: 'string', value: 'n', default: '10000', description: 'services generated first' },
    slots: { type: 'string', value: 'n', default: '2000000', description: 'slots generated first' },
    referrals: { type: 'string', value: 'n', default: '1000000', description: 'referrals generated first' },
    clients: { type: 'string', value: 'n', default: '16', description: 'concurrent clients booking' },
    'search-clients': {
      type: 'string',
      value: 'n',
      default: '8',
      description: 'concurrent clients searching and listing slots',
    },
    duration: { type: 'string', value: 's', default: '15', description: 'measured seconds of each load' },
    'race-rounds': { type: 'string', value: 'n', default: '10', description: 'rounds of 50 referrers racing' },
    'worklist-calls': { type: 'string', value: 'n', default: '50', description: 'worklist calls' },
    'keep-data': { type: 'boolean', description: 'leave the benchmark schemas in place afterwards' },
    verbose: { type: 'boolean', description: "copy the platform's output to the console" },
    'no-docs': {
      type: 'boolean',
      description: 'print the figures without writing them into docs/benchmarks.md (a quick relative comparison)',
    },
    profile: {
      type: 'boolean',
      description:
        'CPU-profile the gateway and e-referrals during each measured phase and print the top self-time functions (figures not written)',
    },
  },
  run,
};

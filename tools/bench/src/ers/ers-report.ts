import type { LoadResult } from '../support/load';
import type { MachineInfo } from '../support/machine';
import type { Versions } from '../support/run-setup';

export const ERS_SECTION_ID = 'ers';
/** The issue's goals (e-Referral Service). */
export const ERS_GOALS = {
  bookPerSecond: 150,
  bookP99Ms: 100,
  searchP99Ms: 50,
  slotsP99Ms: 30,
  worklistP99Ms: 200,
} as const;

export interface ErsReport {
  measuredAt: Date;
  machine: MachineInfo;
  revision?: string;
  versions: Versions;
  store: {
    services: number;
    slots: number;
    referrals: number;
    seedSeconds: number;
    /** The CHECKPOINT after the seed (null: not allowed, measured beside the seed's pending checkpoint). */
    checkpointSeconds: number | null;
  };
  baseline: LoadResult;
  book: { clients: number; load: LoadResult };
  race: { rounds: number; referrers: number; winnersPerRound: number[]; doublyBookedSlots: number };
  search: { clients: number; load: LoadResult };
  slots: { clients: number; load: LoadResult };
  worklist: { calls: number; referrals: number; p50Ms: number; p99Ms: number; maxMs: number; warmUpMs: number[] };
  command: string;
}

const verdict = (pass: boolean): string => (pass ? 'PASS' : 'FAIL');
const ms = (value: number): string => `${value.toFixed(1)} ms`;

export function renderErsSection(report: ErsReport): string {
  const { book, search, slots, worklist, race, baseline } = report;
  const bookPass = book.load.requestsPerSecond >= ERS_GOALS.bookPerSecond && book.load.p99Ms < ERS_GOALS.bookP99Ms;
  const racePass = race.winnersPerRound.every((winners) => winners === 1) && race.doublyBookedSlots === 0;
  return [
    '## e-Referral Service: booking, 50 racing for a slot, search, slots, worklist',
    '',
    `Measured ${report.measuredAt.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${report.machine.cpus} CPU(s) (${report.machine.cpuModel}), ` +
      `${report.machine.memoryGiB} GiB, Node ${report.machine.node}, PostgreSQL ${report.versions.postgres ?? '?'}, NATS ${report.versions.nats ?? '?'}, ` +
      `autocannon ${report.versions.autocannon}${report.revision ? `, source ${report.revision}` : ''}; load average ${report.machine.loadAverage.toFixed(2)} at the start.`,
    '',
    `Store: ${report.store.services.toLocaleString('en-GB')} services, ${report.store.slots.toLocaleString('en-GB')} slots and ` +
      `${report.store.referrals.toLocaleString('en-GB')} referrals generated first with \`npm run ers -- seed\` (${report.store.seedSeconds.toFixed(0)} s), ` +
      (report.store.checkpointSeconds === null
        ? 'its writes not checkpointed before measuring (CHECKPOINT not allowed). '
        : `then written out by a \`CHECKPOINT\` (${report.store.checkpointSeconds.toFixed(0)} s) before measuring. `) +
      'Every request goes through the gateway on the NHS e-RS paths with real tokens (the race too).',
    '',
    `Baseline in the same run: A004 (\`GET /referrals/FHIR/STU3/CodeSystem/PRIORITY\`: token, caller statement, NATS, no database) at ${book.clients} clients: ` +
      `${Math.round(baseline.requestsPerSecond)}/s, p50 ${ms(baseline.p50Ms)}, p99 ${ms(baseline.p99Ms)}.`,
    '',
    '| goal | measured | verdict |',
    '|---|---|---|',
    `| booking a free slot (A016: If-Match, slot taken by conditional UPDATE, state change, version, event through the outbox) at least ${ERS_GOALS.bookPerSecond}/s with p99 under ${ERS_GOALS.bookP99Ms} ms at ${book.clients} clients | ${Math.round(book.load.requestsPerSecond)}/s, p50 ${ms(book.load.p50Ms)}, p99 ${ms(book.load.p99Ms)}; ${book.load.ok.toLocaleString('en-GB')} bookings | ${verdict(bookPass)} |`,
    `| ${race.referrers} referrers racing for one slot: exactly one booking every round, and no slot booked twice in the whole run (checked in the database) | winners per round: ${race.winnersPerRound.join(', ')}; slots with two booked appointments: ${race.doublyBookedSlots} | ${verdict(racePass)} |`,
    `| A010 search by postcode within 50 km p99 under ${ERS_GOALS.searchP99Ms} ms at ${search.clients} clients | ${Math.round(search.load.requestsPerSecond)}/s, p50 ${ms(search.load.p50Ms)}, p99 ${ms(search.load.p99Ms)} | ${verdict(search.load.p99Ms < ERS_GOALS.searchP99Ms)} |`,
    `| A015 slots of a service p99 under ${ERS_GOALS.slotsP99Ms} ms | ${Math.round(slots.load.requestsPerSecond)}/s, p50 ${ms(slots.load.p50Ms)}, p99 ${ms(slots.load.p99Ms)} at ${slots.clients} clients | ${verdict(slots.load.p99Ms < ERS_GOALS.slotsP99Ms)} |`,
    `| A008 worklist of a provider's ${worklist.referrals.toLocaleString('en-GB')} open referrals p99 under ${ERS_GOALS.worklistP99Ms} ms | p50 ${ms(worklist.p50Ms)}, p99 ${ms(worklist.p99Ms)}, max ${ms(worklist.maxMs)} over ${worklist.calls} calls, after ${worklist.warmUpMs.length} warm-up calls (${worklist.warmUpMs.map((value) => value.toFixed(0)).join(', ')} ms; the first is the platform's first worklist) | ${verdict(worklist.p99Ms < ERS_GOALS.worklistP99Ms)} |`,
    '',
    'What each operation costs the database (counted in the code, per request):',
    '',
    '- A016 booking: 3 round trips on one connection: `BEGIN`, the X-Request-ID claim, a savepoint and one read under the ' +
      "referral's `FOR UPDATE NOWAIT` lock (referral, shortlist with names, service, slot, next appointment id) as one query; " +
      'one write (a CTE: conditional `UPDATE` of the slot, then only if it was free the appointment and its first version, ' +
      "the referral's next version checked against the version read, its history entry and the outbox event); the " +
      'stored answer and `COMMIT` (19 before the first rework, 7 before the last). ' +
      'The outbox relay publishes the events afterwards, in batches when bookings arrive together.',
    '- A015 slots: one statement (service check, count of free slots from the index alone, the page as JSON); A010 search: one ' +
      "statement (the postcode's position joined to the GiST search of services within the distance); A008 worklist: two " +
      "statements (the rows in the order of the list type's index, no sort; the services' names, and the total when " +
      'the list reached its limit); e-referrals writes the NHS List and gzips it, and the gateway sends it on as it is ' +
      '(A008, A010, A015 and A016 are served outside Nest, with raw answers).',
    '',
    'Reproduce:',
    '',
    '```',
    report.command,
    '```',
  ].join('\n');
}

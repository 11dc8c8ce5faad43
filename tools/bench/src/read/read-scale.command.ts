// `npm run bench -- read-scale`: the read benchmark at national scale. For each population size it seeds that
// many generated patients into the read benchmark's schema, then compares the platform's read by NHS number
// with the bare Fastify + pg baseline (the `read` benchmark's machinery), every request reading another patient.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError, intOption, type BenchCommand, type BenchContext, type OptionValues } from '../command';
import { assertPortsFree } from '../support/children';
import { writeSection } from '../support/docs-section';
import { PLATFORM_DEFAULTS, PORTS } from '../support/platform';
import { benchUrls, measuredVersions } from '../support/run-setup';
import { describeMachine, sourceRevision } from '../support/machine';
import { seedCliBuilt, seedPopulation } from '../support/population';
import {
  buildRequests,
  checkSameAnswers,
  measureRounds,
  printSummary,
  ReadDatabase,
  SCHEMA,
  startReadTargets,
} from './read-bench';
import {
  goalStep,
  judgeStep,
  READ_SCALE_SECTION_ID,
  renderReadScaleSection,
  shortCount,
  type ReadScaleReport,
  type ScaleStep,
} from './read-scale-report';

/** Patients read one at a time from both targets before measuring, to check they answer alike. */
const CHECKED = 50;
const DEFAULT_PATIENTS = '100000,1000000';

interface Options {
  patients: number[];
  seed: number;
  reads: number;
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  rounds: number;
  write: boolean;
  check: boolean;
  verbose: boolean;
}

/** `100000,1000000` -> [100000, 1000000]: each 1,000 to 20,000,000, ascending. */
export function parsePopulations(raw: string): number[] {
  const sizes = raw.split(',').map((part) => part.trim().replace(/_/g, ''));
  if (sizes.some((size) => !/^\d+$/.test(size) || Number(size) < 1000 || Number(size) > 20_000_000)) {
    throw new UsageError(`--patients must be whole numbers from 1000 to 20000000, separated by commas (got ${raw})`);
  }
  const values = sizes.map(Number);
  if (values.some((value, index) => index > 0 && value <= (values[index - 1] ?? 0))) {
    throw new UsageError(`--patients must be in ascending order, each size once (got ${raw})`);
  }
  return values;
}

function parseOptions(values: OptionValues): Options {
  return {
    patients: parsePopulations(String(values['patients'])),
    seed: intOption(values, 'seed', 0, 2 ** 31 - 1),
    reads: intOption(values, 'reads', 100, 200_000),
    durationSeconds: intOption(values, 'duration', 1, 3600),
    warmupSeconds: intOption(values, 'warmup', 0, 600),
    connections: intOption(values, 'connections', 1, 1000),
    rounds: intOption(values, 'rounds', 1, 20),
    write: values['no-write'] !== true,
    check: values['check'] === true,
    verbose: values['verbose'] === true,
  };
}

function reproduceCommand(options: Options): string {
  const parts = [
    'npm run bench -- read-scale',
    `--patients ${options.patients.join(',')}`,
    `--connections ${options.connections}`,
    `--duration ${options.durationSeconds}`,
    `--rounds ${options.rounds}`,
  ];
  if (options.warmupSeconds !== 3) parts.push(`--warmup ${options.warmupSeconds}`);
  if (options.reads !== 20_000) parts.push(`--reads ${options.reads}`);
  if (options.seed !== 1) parts.push(`--seed ${options.seed}`);
  return parts.join(' ');
}

async function run(values: OptionValues, context: BenchContext): Promise<number> {
  const options = parseOptions(values);
  const { root, progress, cleanup } = context;
  if (!existsSync(path.join(root, 'dist/tools/launcher/src/main.js')) || !seedCliBuilt(root)) {
    throw new Error(
      'the platform is not built: run the benchmark with `npm run bench -- read-scale` (it builds first)',
    );
  }
  const { databaseUrl, natsUrl } = benchUrls();
  const workDir = path.join(root, 'tmp/bench/read-scale');
  mkdirSync(workDir, { recursive: true });
  const machine = describeMachine();
  const measuredAt = new Date();
  const loadSeconds = options.rounds * 3 * (options.warmupSeconds + options.durationSeconds);
  progress.say(
    `read at scale: ${options.patients.map(shortCount).join(', ')} patients; for each, ${options.rounds} round(s) of ` +
      `${options.warmupSeconds} s warm-up + ${options.durationSeconds} s measured per target at ${options.connections} ` +
      `connections, about ${Math.ceil((options.patients.length * loadSeconds) / 60)} min of load plus seeding ` +
      `(machine: ${machine.cpus} CPU(s), load average ${machine.loadAverage.toFixed(2)})`,
  );
  // Checked before touching the schema: another benchmark run may be using both.
  await assertPortsFree(PORTS);

  const database = await ReadDatabase.open(databaseUrl);
  cleanup.add({ describe: 'close the control connection to PostgreSQL', run: () => database.close() });
  cleanup.add({ describe: `drop the ${SCHEMA} schema`, run: () => database.dropSchema() });
  const versions = await measuredVersions(database, natsUrl, root);

  const steps: ScaleStep[] = [];
  const report = (): ReadScaleReport => ({
    measuredAt,
    machine,
    revision: sourceRevision(root),
    versions,
    settings: {
      populations: options.patients,
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      connections: options.connections,
      rounds: options.rounds,
      seed: options.seed,
      reads: options.reads,
      checked: CHECKED,
      poolSize: PLATFORM_DEFAULTS.poolSize,
      schema: SCHEMA,
      logLevel: PLATFORM_DEFAULTS.logLevel,
      rateLimit: PLATFORM_DEFAULTS.rateLimit,
    },
    steps,
    command: reproduceCommand(options),
  });

  for (const patients of options.patients) {
    const label = `${shortCount(patients)} · `;
    await database.dropSchema();
    progress.say(`seeding ${patients.toLocaleString('en-GB')} patients into ${SCHEMA}`);
    const seed = await seedPopulation(
      { root, databaseUrl, schema: SCHEMA, patients, seed: options.seed },
      progress,
      cleanup,
    );
    const settleStarted = performance.now();
    progress.say('VACUUM (ANALYZE) and CHECKPOINT, so that no background work of the load runs while measuring');
    await database.settle();
    const settleSeconds = (performance.now() - settleStarted) / 1000;
    if (cleanup.stopping) throw new Error('interrupted');

    const targets = await startReadTargets(
      {
        workDir,
        databaseUrl,
        natsUrl,
        verbose: options.verbose,
      },
      context,
    );
    try {
      const nhsNumbers = await database.readablePatients(options.reads, options.seed, patients);
      if (nhsNumbers.length < Math.min(options.reads, 100)) {
        throw new Error(`only ${nhsNumbers.length} readable generated patients could be sampled`);
      }
      progress.say(`sampled ${nhsNumbers.length.toLocaleString('en-GB')} NHS numbers of seeded patients to read`);
      const requests = buildRequests(targets.token, nhsNumbers);
      await checkSameAnswers(targets.endpoints, requests, CHECKED, context);
      const runs = await measureRounds(
        targets.endpoints,
        { ...options, partitioned: true },
        requests,
        database,
        context,
        label,
      );
      printSummary(runs, context, `results at ${patients.toLocaleString('en-GB')} patients (medians of rounds):`);
      const table = await database.patientTable();
      steps.push({
        patients,
        rows: table.rows,
        tableBytes: table.bytes,
        seed,
        settleSeconds,
        reads: nhsNumbers.length,
        runs,
      });
    } finally {
      await targets.stop();
    }

    // Written after each population, so a later one failing (or running out of disk) keeps the figures so far.
    writeFileSync(path.join(workDir, 'results.json'), `${JSON.stringify(report(), null, 2)}\n`);
    if (options.write) {
      const file = path.join(root, 'docs/benchmarks.md');
      await writeSection(file, READ_SCALE_SECTION_ID, renderReadScaleSection(report()));
      progress.say(`wrote the "${READ_SCALE_SECTION_ID}" section of ${path.relative(root, file)}`);
    }
  }

  const judged = goalStep(steps);
  const pass = judged !== undefined && judgeStep(judged).pass;
  progress.say(
    steps
      .map((step) => {
        const verdict = judgeStep(step);
        const p = verdict.summary.platform;
        return (
          `${step.patients.toLocaleString('en-GB').padStart(11)} patients: platform ${Math.round(p.requestsPerSecond)} req/s, ` +
          `p99 ${p.p99Ms.toFixed(2)} ms, ratio ${verdict.summary.ratio.toFixed(2)}: ${verdict.pass ? 'PASS' : 'FAIL'}`
        );
      })
      .join('\n'),
  );
  return options.check && !pass ? 3 : 0;
}

export const readScaleCommand: BenchCommand = {
  name: 'read-scale',
  summary:
    'read by NHS number at national scale: seeds each population, then the platform against the same-work server and the bare baseline',
  options: {
    patients: {
      type: 'string',
      value: 'n,n...',
      default: DEFAULT_PATIENTS,
      description: 'population sizes, ascending: each is seeded (npm run seed) and measured in turn',
    },
    seed: { type: 'string', value: 's', default: '1', description: 'seed of the populations and of the patients read' },
    reads: {
      type: 'string',
      value: 'n',
      default: '20000',
      description: 'distinct patients read per population, sampled from it',
    },
    duration: { type: 'string', value: 'seconds', default: '15', description: 'measured seconds per target and round' },
    warmup: { type: 'string', value: 'seconds', default: '3', description: 'warm-up seconds before each measured run' },
    connections: { type: 'string', value: 'n', default: '32', description: 'concurrent connections' },
    rounds: {
      type: 'string',
      value: 'n',
      default: '2',
      description: 'rounds of baseline, same-work server, then platform per population; figures are medians',
    },
    'no-write': { type: 'boolean', description: 'do not update docs/benchmarks.md' },
    check: {
      type: 'boolean',
      description: 'exit with code 3 when a goal is missed at 1,000,000 patients (or the largest population)',
    },
    verbose: { type: 'boolean', description: "copy the platform's output to the console" },
  },
  run,
};

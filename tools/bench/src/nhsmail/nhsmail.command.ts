import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { intOption, type BenchCommand, type BenchContext, type OptionValues } from '../command';
import { portInUse, runToCompletion, signal, whenExited } from '../support/children';
import { pidListeningOn, processCpuSeconds, startCpuMeter } from '../support/cpu';
import { writeSection } from '../support/docs-section';
import { describeMachine, sourceRevision } from '../support/machine';
import { benchUrls } from '../support/run-setup';
import { percentileOfSorted } from '../support/stats';
import {
  NHSMAIL_SECTION_ID,
  renderNhsmailSection,
  type LatencyRun,
  type NhsmailReport,
  type ThroughputRound,
} from './nhsmail-report';
import {
  checkPostfixInstalled,
  POSTFIX_PROGRAMS,
  postfixVersion,
  startPrivatePostfix,
  startSmtpSink,
  type PrivatePostfix,
} from './postfix';
import { peakRssMiB, RelayBench, rssMiB, type BenchPorts, type ServiceProcess } from './relay-under-bench';
import { runSmtpLoad, startRecordingSink, testMessage } from './smtp-load';

const SCHEMA = 'nhsmail_bench';
const SENDER = 'alerts@app.bench.invalid';
const RECIPIENT = 'someone@example.org';
const port = (name: string, fallback: number): number => Number(process.env[`BENCH_NHSMAIL_${name}_PORT`] ?? fallback);
const PORTS: BenchPorts & { postfix: number; postfixSink: number; relaySink: number } = {
  nats: port('NATS', 24222),
  n3Health: port('N3', 29465),
  relayHealth: port('HTTP', 29469),
  relaySmtp: port('SMTP', 22525),
  relaySubmission: port('SUBMISSION', 22587),
  postfix: port('POSTFIX', 22625),
  postfixSink: port('POSTFIX_SINK', 22626),
  relaySink: port('RELAY_SINK', 22627),
};

/** Local TCP ports of a process's sockets (its connections' own ends), from /proc; empty elsewhere. */
function localPortsOf(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match?.[1]) inodes.add(match[1]);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const fields = line.trim().split(/\s+/);
        const local = fields[1] ?? '';
        if (fields[9] && inodes.has(fields[9])) ports.push(parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
      }
    } catch {
      // no such table
    }
  }
  return ports;
}

class Database {
  private constructor(private readonly client: Client) {}

  static async open(url: string): Promise<Database> {
    const client = new Client({ connectionString: url, application_name: 'bench-control' });
    await client.connect();
    return new Database(client);
  }

  async dropAll(): Promise<void> {
    for (const schema of [SCHEMA, `${SCHEMA}_n3`]) await this.client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }

  async version(): Promise<string | undefined> {
    return (await this.client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version;
  }

  async queued(): Promise<number> {
    const result = await this.client.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${SCHEMA}".message WHERE state = 'queued'`,
    );
    return Number(result.rows[0]?.n ?? 0);
  }

  async pending(): Promise<number> {
    const result = await this.client.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${SCHEMA}".delivery WHERE state = 'pending'`,
    );
    return Number(result.rows[0]?.n ?? 0);
  }

  /**
   * The server processes working for the relay: the backends of its connections (found by their client ports,
   * as other relays, from tests, may be connected under the same name) and the WAL writer.
   */
  async relayBackends(relayPid: number): Promise<number[]> {
    const result = await this.client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[]) OR backend_type = 'walwriter'`,
      [localPortsOf(relayPid)],
    );
    return result.rows.map((row) => row.pid);
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check()); ) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `smtp-source` against one server: wall time for `messages` messages, each answered 250 (checked by the caller). */
async function smtpSource(target: number, connections: number, bytes: number, messages: number): Promise<number> {
  const started = performance.now();
  await runToCompletion(
    POSTFIX_PROGRAMS.smtpSource,
    [
      ...['-s', String(connections), '-l', String(bytes), '-m', String(messages)],
      ...['-f', SENDER, '-t', RECIPIENT, `127.0.0.1:${target}`],
    ],
    { timeoutMs: 600_000 },
  );
  return (performance.now() - started) / 1000;
}

function sentAtSink(maillog: string): number {
  try {
    return (readFileSync(maillog, 'utf8').match(/status=sent/g) ?? []).length;
  } catch {
    return 0;
  }
}

function latencyRun(server: LatencyRun['server'], result: Awaited<ReturnType<typeof runSmtpLoad>>): LatencyRun {
  if (result.accepted === 0) throw new Error(`${server} accepted nothing: ${result.firstRefusal ?? 'no answer'}`);
  return {
    server,
    accepted: result.accepted,
    refused: result.refused + result.broken,
    seconds: result.seconds,
    p50Ms: percentileOfSorted(result.acceptMs, 50),
    p99Ms: percentileOfSorted(result.acceptMs, 99),
    maxMs: result.acceptMs[result.acceptMs.length - 1] ?? 0,
  };
}

/**
 * CPU of what serves the relay during a phase: the relay, its PostgreSQL backends (and the WAL writer), its
 * private nats-server (the outbox's events) and the smarthost sink. CPU ms per message of each.
 */
async function relayMeter(
  database: Database,
  relayPid: number,
  natsPort: number,
  sinkPort: number,
): Promise<{
  stop(
    messages: number,
  ): Promise<{ relay?: number; postgres?: number; nats?: number; sink?: number; machineBusy?: number }>;
}> {
  const backends = await database.relayBackends(relayPid);
  const pids: Record<string, number> = { relay: relayPid };
  backends.forEach((pid, index) => (pids[`pg${index}`] = pid));
  const nats = pidListeningOn(natsPort);
  if (nats) pids['nats'] = nats;
  const sink = pidListeningOn(sinkPort);
  if (sink) pids['sink'] = sink;
  const meter = startCpuMeter(pids);
  return {
    async stop(messages) {
      const usage = meter.stop();
      const perMessage = (seconds: number | undefined): number | undefined =>
        seconds === undefined ? undefined : (seconds * 1000) / messages;
      // A backend the pool opened during the phase worked for it all its life.
      const opened = (await database.relayBackends(relayPid)).filter((pid) => !backends.includes(pid));
      const postgres =
        Object.entries(usage.processes)
          .filter(([name]) => name.startsWith('pg'))
          .reduce((sum, [, seconds]) => sum + seconds, 0) +
        opened.reduce((sum, pid) => sum + (processCpuSeconds(pid) ?? 0), 0);
      return {
        relay: perMessage(usage.processes['relay']),
        postgres: perMessage(postgres),
        nats: perMessage(usage.processes['nats']),
        sink: perMessage(usage.processes['sink']),
        machineBusy: usage.machineBusy,
      };
    },
  };
}

/** What the relay's memory is made of (its /metrics and /proc), for the progress lines. */
async function relayMemory(pid: number, healthPort: number): Promise<string> {
  const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
  const parts: string[] = [];
  try {
    const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    const gauge = (name: string): number =>
      Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN);
    parts.push(
      `V8 heap ${mib(gauge('nodejs_heap_size_used_bytes'))} used of ${mib(gauge('nodejs_heap_size_total_bytes'))} MiB`,
      `external ${mib(gauge('nodejs_external_memory_bytes'))} MiB`,
    );
  } catch {
    parts.push('no /metrics');
  }
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kib = (field: string): number =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN) * 1024;
    parts.push(`RSS ${mib(kib('Rss'))} MiB (anonymous ${mib(kib('Anonymous'))})`);
  } catch {
    // not Linux
  }
  return parts.join(', ');
}

const ms = (value: number | undefined): string => (value === undefined ? '?' : value.toFixed(2));

async function run(values: OptionValues, context: BenchContext): Promise<number> {
  const options = {
    messages: intOption(values, 'messages', 100, 1_000_000),
    rounds: intOption(values, 'rounds', 1, 20),
    connections: intOption(values, 'connections', 1, 500),
    bytes: intOption(values, 'bytes', 512, 1_000_000),
    latencyMessages: intOption(values, 'latency-messages', 100, 1_000_000),
    largeMb: intOption(values, 'large-mb', 1, 36),
    killMessages: intOption(values, 'kill-messages', 100, 1_000_000),
    profile: values['profile'] === true,
    noDocs: values['no-docs'] === true,
  };
  const { root, progress, cleanup } = context;
  checkPostfixInstalled();
  // A run in progress owns these ports, the work folder and the benchmark's schemas: refuse before touching
  // either (a second run that dropped the schemas first made the first one's commits fail with 451).
  for (const [name, port] of Object.entries(PORTS) as [string, number][]) {
    if (await portInUse(port)) throw new Error(`port ${port} (${name}) is already in use: is another run going?`);
  }
  for (const built of ['dist/apps/nhsmail-relay/src/main.js', 'dist/apps/n3-registry/src/main.js']) {
    if (!existsSync(path.join(root, built))) {
      throw new Error(`${built} is missing: run it as \`npm run bench -- nhsmail\` (it builds first)`);
    }
  }
  const workDir = path.join(root, 'tmp/bench/nhsmail');
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const machine = describeMachine();
  const measuredAt = new Date();
  const { databaseUrl } = benchUrls();
  const database = await Database.open(databaseUrl);
  cleanup.add({ describe: 'close the control connection to PostgreSQL', run: () => database.close() });
  await database.dropAll();
  cleanup.add({ describe: 'drop the nhsmail benchmark schemas', run: () => database.dropAll() });

  // Postfix and its sink. Its queue lives in a folder of its own outside the repository (it is chowned to postfix).
  const postfixDir = mkdtempSync(path.join(os.tmpdir(), 'nhsmail-bench-postfix-'));
  cleanup.add({
    describe: "remove the private Postfix's folder",
    run: () => Promise.resolve(rmSync(postfixDir, { recursive: true, force: true })),
  });
  await startSmtpSink(PORTS.postfixSink, cleanup);
  const postfix: PrivatePostfix = await startPrivatePostfix(postfixDir, PORTS.postfix, PORTS.postfixSink, cleanup);
  const maillog = path.join(postfixDir, 'maillog');
  progress.say(`private Postfix on 127.0.0.1:${PORTS.postfix}, relaying to smtp-sink on ${PORTS.postfixSink}`);

  // The relay, its registry and its smarthost sink.
  const { nats, n3Health, relayHealth, relaySmtp, relaySubmission } = PORTS;
  const bench = await RelayBench.start(
    { root, workDir, ports: { nats, n3Health, relayHealth, relaySmtp, relaySubmission }, databaseUrl, schema: SCHEMA },
    cleanup,
  );
  await bench.startRegistry(cleanup);
  const relaySink = await startSmtpSink(PORTS.relaySink, cleanup);
  const profileDir = path.join(workDir, 'profiles');
  const nodeArgs = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  let relay: ServiceProcess = await bench.startRelay(PORTS.relaySink, cleanup, { nodeArgs });
  progress.say(`relay on 127.0.0.1:${PORTS.relaySmtp} (pid ${relay.pid}), smarthost smtp-sink on ${PORTS.relaySink}`);

  const drained = async (): Promise<void> => {
    await until('Postfix queue drained', () => postfix.queued() === 0, 120_000);
    await until('relay deliveries drained', async () => (await database.pending()) === 0, 120_000);
  };

  // 1. Throughput with smtp-source, alternating.
  const throughput: ThroughputRound[] = [];
  for (let round = 0; round < options.rounds; round += 1) {
    for (const server of round % 2 === 0 ? (['postfix', 'relay'] as const) : (['relay', 'postfix'] as const)) {
      await drained();
      const before = server === 'postfix' ? sentAtSink(maillog) : await database.queued();
      progress.say(`round ${round + 1}: smtp-source, ${options.messages} messages to ${server}`);
      const meter = await relayMeter(database, relay.pid, PORTS.nats, PORTS.relaySink);
      const seconds = await smtpSource(
        server === 'postfix' ? PORTS.postfix : PORTS.relaySmtp,
        options.connections,
        options.bytes,
        options.messages,
      );
      if (server === 'relay') {
        const stored = (await database.queued()) - before;
        if (stored !== options.messages) throw new Error(`the relay stored ${stored} of ${options.messages} messages`);
        // The CPU per message counts each message's delivery too, which may finish after the last 250.
        await until('relay deliveries drained', async () => (await database.pending()) === 0, 120_000);
      } else {
        await until('Postfix delivered the round', () => sentAtSink(maillog) - before >= options.messages, 120_000);
      }
      const cpu = await meter.stop(options.messages);
      // The relay delivers while it accepts: its CPU over the round is the cost of accepting and delivering.
      const relayCpuMs = server === 'relay' ? cpu.relay : undefined;
      throughput.push({
        server,
        messages: options.messages,
        seconds,
        ...(relayCpuMs !== undefined && Number.isFinite(relayCpuMs) ? { relayCpuMs } : {}),
        ...(cpu.machineBusy !== undefined ? { machineBusy: cpu.machineBusy } : {}),
      });
      progress.say(
        `  ${(options.messages / seconds).toFixed(1)} messages/s` +
          (server === 'relay'
            ? `, CPU ms/message: relay ${ms(cpu.relay)}, its PostgreSQL ${ms(cpu.postgres)}, nats ${ms(cpu.nats)}, sink ${ms(cpu.sink)}`
            : '') +
          (cpu.machineBusy !== undefined ? `, machine ${(cpu.machineBusy * 100).toFixed(0)}% busy` : ''),
      );
    }
  }

  // 2. Accept latency with the benchmark's own client.
  const latency: LatencyRun[] = [];
  for (const server of ['postfix', 'relay'] as const) {
    await drained();
    progress.say(`accept latency: ${options.latencyMessages} messages to ${server}`);
    const meter = await relayMeter(database, relay.pid, PORTS.nats, PORTS.relaySink);
    const result = await runSmtpLoad({
      port: server === 'postfix' ? PORTS.postfix : PORTS.relaySmtp,
      connections: options.connections,
      messages: options.latencyMessages,
      message: () => testMessage(SENDER, RECIPIENT, options.bytes),
      from: SENDER,
      to: RECIPIENT,
    });
    const cpu = await meter.stop(Math.max(1, result.accepted));
    latency.push(latencyRun(server, result));
    const last = latency[latency.length - 1];
    progress.say(
      `  p50 ${last.p50Ms.toFixed(1)} ms, p99 ${last.p99Ms.toFixed(1)} ms, ${(last.accepted / last.seconds).toFixed(1)}/s` +
        (server === 'relay'
          ? `, CPU ms/message: relay ${ms(cpu.relay)}, its PostgreSQL ${ms(cpu.postgres)}, nats ${ms(cpu.nats)}, sink ${ms(cpu.sink)}`
          : '') +
        (cpu.machineBusy !== undefined ? `, machine ${(cpu.machineBusy * 100).toFixed(0)}% busy` : ''),
    );
  }
  await drained();
  await postfix.stop();

  // 3. Five large messages at once: the relay's peak RSS.
  const largeBytes = options.largeMb * 1_000_000;
  const large = testMessage(SENDER, RECIPIENT, largeBytes);
  progress.say(`  before: ${await relayMemory(relay.pid, PORTS.relayHealth)}`);
  writeFileSync(`/proc/${relay.pid}/clear_refs`, '5');
  const rssBeforeMiB = rssMiB(relay.pid);
  progress.say(`five ${options.largeMb} MB messages at once to the relay`);
  const largeStarted = performance.now();
  const largeResult = await runSmtpLoad({
    port: PORTS.relaySmtp,
    connections: 5,
    messages: 5,
    message: () => large,
    from: SENDER,
    to: RECIPIENT,
  });
  await drained();
  const largeReport = {
    messages: 5,
    bytes: large.data.length,
    accepted: largeResult.accepted,
    peakRssMiB: peakRssMiB(relay.pid),
    rssBeforeMiB,
    seconds: (performance.now() - largeStarted) / 1000,
  };
  progress.say(`  ${largeResult.accepted} accepted, peak RSS ${largeReport.peakRssMiB.toFixed(1)} MiB`);
  progress.say(`  after: ${await relayMemory(relay.pid, PORTS.relayHealth)}`);
  if (largeResult.firstRefusal) progress.say(`  refused: ${largeResult.firstRefusal}`);

  // 4. Killed under load, restarted: every 250 delivered exactly once at a sink that counts Message-IDs.
  await relay.stop();
  await relaySink.stop();
  const recording = await startRecordingSink();
  cleanup.add({ describe: 'stop the recording sink', run: () => recording.stop() });
  relay = await bench.startRelay(recording.port, cleanup);
  const acknowledged = new Set<string>();
  let begun = 0;
  let killed = false;
  const killAfter = Math.floor(options.killMessages / 3);
  progress.say(`kill test: ${options.connections} connections, SIGKILL after ${killAfter} messages accepted`);
  const victim = relay;
  await runSmtpLoad({
    port: PORTS.relaySmtp,
    connections: options.connections,
    messages: options.killMessages,
    message: () => {
      begun += 1;
      return testMessage(SENDER, RECIPIENT, options.bytes);
    },
    from: SENDER,
    to: RECIPIENT,
    onAccepted: (id) => {
      acknowledged.add(id);
      if (!killed && acknowledged.size >= killAfter) {
        killed = true;
        signal(victim.pid, 'SIGKILL');
      }
    },
    stop: () => killed,
  });
  await whenExited(victim.child);
  await victim.stop();
  const restartStarted = performance.now();
  relay = await bench.startRelay(recording.port, cleanup);
  await until(
    'every accepted message at the sink',
    () => [...acknowledged].every((id) => recording.counts.has(id)),
    120_000,
  ).catch((error: unknown) => progress.say(error instanceof Error ? error.message : String(error)));
  await until('relay deliveries drained', async () => (await database.pending()) === 0, 60_000).catch(() => undefined);
  const recoverySeconds = (performance.now() - restartStarted) / 1000;
  // Late duplicates (a copy in flight at the kill, sent again after its lease) would arrive by now.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  let once = 0;
  let twice = 0;
  let lost = 0;
  for (const id of acknowledged) {
    const count = recording.counts.get(id) ?? 0;
    if (count === 0) lost += 1;
    else if (count === 1) once += 1;
    else twice += 1;
  }
  const unacknowledgedDelivered = [...recording.counts.keys()].filter((id) => !acknowledged.has(id)).length;
  await relay.stop();

  const report: NhsmailReport = {
    measuredAt: measuredAt.toISOString(),
    machine,
    loadAverageAtEnd: os.loadavg()[0] ?? 0,
    postgres: await database.version(),
    postfix: postfixVersion(),
    revision: sourceRevision(root),
    command: ['npm run bench --', ...context.argv].join(' '),
    connections: options.connections,
    messageBytes: options.bytes,
    throughput,
    latency,
    large: largeReport,
    kill: {
      sent: begun,
      accepted: acknowledged.size,
      deliveredOnce: once,
      deliveredTwice: twice,
      lost,
      unacknowledgedDelivered,
      recoverySeconds,
    },
  };
  if (options.profile) progress.say(`CPU profiles of the relay in ${path.relative(root, profileDir)}`);
  if (options.noDocs) progress.say('the figures were not written (--no-docs)');
  else await writeSection(path.join(root, 'docs/benchmarks.md'), NHSMAIL_SECTION_ID, renderNhsmailSection(report));
  progress.say(renderNhsmailSection(report));
  return 0;
}

export const nhsmailCommand: BenchCommand = {
  name: 'nhsmail',
  summary:
    'NHSmail relay against a private Postfix: accepted messages/s (smtp-source), p99 accept latency, five 35 MB messages (peak RSS), SIGKILL under load (nothing lost)',
  options: {
    messages: { type: 'string', value: 'n', default: '5000', description: 'messages per smtp-source round' },
    rounds: { type: 'string', value: 'n', default: '3', description: 'smtp-source rounds per server (alternating)' },
    connections: { type: 'string', value: 'n', default: '20', description: 'concurrent SMTP connections' },
    bytes: { type: 'string', value: 'bytes', default: '5120', description: 'size of each message' },
    'latency-messages': {
      type: 'string',
      value: 'n',
      default: '3000',
      description: "messages of the timed run (the benchmark's own client) per server",
    },
    'large-mb': { type: 'string', value: 'MB', default: '35', description: 'size of each of the five large messages' },
    'kill-messages': {
      type: 'string',
      value: 'n',
      default: '3000',
      description: 'messages of the kill test (the relay is killed after a third are accepted)',
    },
    'no-docs': {
      type: 'boolean',
      description: 'print the figures without writing them into docs/benchmarks.md (a quick relative comparison)',
    },
    profile: { type: 'boolean', description: "write the relay's CPU profiles (node --cpu-prof) to the work folder" },
  },
  run,
};

import type { MachineInfo } from '../support/machine';

export const NHSMAIL_SECTION_ID = 'nhsmail';

export interface ThroughputRound {
  server: 'postfix' | 'relay';
  messages: number;
  seconds: number;
  /** The relay's CPU (user + system) per message, ms, from the round's start until its messages were delivered. */
  relayCpuMs?: number;
  /** Share of the machine's CPUs busy during the round (every process), 0..1. */
  machineBusy?: number;
}

export interface LatencyRun {
  server: 'postfix' | 'relay';
  accepted: number;
  refused: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface NhsmailReport {
  measuredAt: string;
  machine: MachineInfo;
  /** 1-minute load average when the measuring ended. */
  loadAverageAtEnd: number;
  postgres?: string;
  postfix?: string;
  revision?: string;
  command: string;
  connections: number;
  messageBytes: number;
  throughput: ThroughputRound[];
  latency: LatencyRun[];
  large: {
    messages: number;
    bytes: number;
    accepted: number;
    peakRssMiB: number;
    rssBeforeMiB: number;
    seconds: number;
  };
  kill: {
    sent: number;
    accepted: number;
    /** Accepted messages seen at the sink once, more than once, never. */
    deliveredOnce: number;
    deliveredTwice: number;
    lost: number;
    /** Messages at the sink the client never saw a 250 for (committed as the relay died). */
    unacknowledgedDelivered: number;
    recoverySeconds: number;
  };
}

const f = (value: number, digits = 1): string => value.toFixed(digits);

export function medianRate(rounds: ThroughputRound[], server: ThroughputRound['server']): number {
  const rates = rounds
    .filter((round) => round.server === server)
    .map((round) => round.messages / round.seconds)
    .sort((a, b) => a - b);
  if (rates.length === 0) return 0;
  const middle = Math.floor(rates.length / 2);
  return rates.length % 2 === 1 ? rates[middle] : (rates[middle - 1] + rates[middle]) / 2;
}

/** The docs/benchmarks.md section, with the goals of issue 15 beside the figures. */
export function renderNhsmailSection(report: NhsmailReport): string {
  const postfix = medianRate(report.throughput, 'postfix');
  const relay = medianRate(report.throughput, 'relay');
  const relayLatency = report.latency.find((run) => run.server === 'relay');
  const met = (ok: boolean): string => (ok ? 'met' : '**not met**');
  const kill = report.kill;
  return [
    '## NHSmail relay against Postfix',
    '',
    `Command: \`${report.command}\``,
    '',
    `Measured ${report.measuredAt.slice(0, 16).replace('T', ' ')} UTC on ${report.machine.cpus} CPU(s) (${report.machine.cpuModel}), ` +
      `${report.machine.memoryGiB} GiB, Node ${report.machine.node}, PostgreSQL ${report.postgres ?? '?'}, Postfix ${report.postfix ?? '?'}` +
      `${report.revision ? `, source ${report.revision}` : ''}; load average ${f(report.machine.loadAverage, 2)} at the start, ${f(report.loadAverageAtEnd, 2)} at the end.`,
    '',
    "Postfix is Debian's package run as a private instance of the benchmark (its own configuration, queue and data",
    'folders, smtpd on loopback, everything from loopback relayed to an `smtp-sink`, default queue: fsync before the 250).',
    'The relay is the built service (`dist/apps/nhsmail-relay`, DKIM signing on, `synchronous_commit` on: the message',
    'is committed before the 250), beside the real N3 registry on a private nats-server; the load comes from',
    '127.0.0.1, an address of a live N3 connection, to a domain outside the platform: the N3-gated relay path that',
    'applications use, delivered through the smarthost (another `smtp-sink`). Both deliver while they accept.',
    '',
    `Throughput: \`smtp-source -s ${report.connections} -l ${report.messageBytes} -m <n>\` against each in turn (alternating,`,
    'each queue drained before the next round); messages/s = n / wall time.',
    '',
    '| round | server | messages | seconds | messages/s | relay CPU ms/message | machine busy |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...report.throughput.map(
      (round, index) =>
        `| ${index + 1} | ${round.server} | ${round.messages} | ${f(round.seconds, 2)} | ${f(round.messages / round.seconds)} | ` +
        `${round.relayCpuMs === undefined ? '' : f(round.relayCpuMs, 2)} | ${round.machineBusy === undefined ? '' : `${f(round.machineBusy * 100, 0)}%`} |`,
    ),
    '',
    `Median: Postfix ${f(postfix)} messages/s, relay ${f(relay)} messages/s: ratio relay/Postfix ${f(postfix > 0 ? relay / postfix : 0, 2)}.`,
    '',
    `Accept latency: the benchmark's own SMTP client, ${report.connections} connections, ${report.messageBytes}-byte messages, timed from`,
    "the final `.` of DATA to the server's reply.",
    '',
    '| server | accepted | refused | messages/s | p50 ms | p99 ms | max ms |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...report.latency.map(
      (run) =>
        `| ${run.server} | ${run.accepted} | ${run.refused} | ${f(run.accepted / run.seconds)} | ${f(run.p50Ms)} | ${f(run.p99Ms)} | ${f(run.maxMs)} |`,
    ),
    '',
    `Large messages: ${report.large.messages} messages of ${f(report.large.bytes / 1e6)} MB (a text body: the case a MIME parser`,
    `would buffer) sent at once; ${report.large.accepted} accepted and delivered in ${f(report.large.seconds)} s; relay peak RSS`,
    `(VmHWM, reset before) ${f(report.large.peakRssMiB)} MiB, from ${f(report.large.rssBeforeMiB)} MiB resident at the reset (after the phases above).`,
    '',
    `Kill under load: the relay SIGKILLed after ${kill.accepted} 250s (of ${kill.sent} messages begun), restarted, and the`,
    `sink's Message-IDs counted: ${kill.deliveredOnce} delivered once, ${kill.deliveredTwice} twice, ${kill.lost} lost;`,
    `${kill.unacknowledgedDelivered} delivered whose 250 the client never saw (committed as the relay died: a client retries`,
    `them, as with any MTA). Everything accepted was at the sink ${f(kill.recoverySeconds)} s after the restart began.`,
    '',
    'A message twice at the sink is a copy the killed relay had handed to the smarthost but not yet marked delivered:',
    'its lease (NHSMAIL_DELIVERY_LEASE_SECONDS, 120 s) expires and it is sent again. SMTP gives no way to make that',
    'exactly once (RFC 1047); a lost message would be a failure of the queue.',
    '',
    'Goals (issue 15):',
    `- accepted messages/s at least Postfix's and at least 500: ${f(relay)} vs ${f(postfix)} (${met(relay >= postfix && relay >= 500)});`,
    `- p99 accept latency under 100 ms: ${relayLatency ? f(relayLatency.p99Ms) : '?'} ms (${met((relayLatency?.p99Ms ?? Infinity) < 100)});`,
    `- five 35 MB messages at once, relay peak RSS under 256 MiB: ${f(report.large.peakRssMiB)} MiB (${met(report.large.peakRssMiB < 256 && report.large.accepted === report.large.messages)});`,
    `- killed mid-load, every 250 delivered exactly once: ${kill.lost} lost, ${kill.deliveredTwice} twice (${met(kill.lost === 0 && kill.deliveredTwice === 0)}).`,
  ].join('\n');
}

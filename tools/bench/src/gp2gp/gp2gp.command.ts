import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { intOption, type BenchCommand, type BenchContext, type OptionValues } from '../command';
import { BenchDatabase } from '../support/bench-database';
import { writeSection } from '../support/docs-section';
import { PORTS, startPlatform, type RunningPlatform } from '../support/platform';
import { setUpRun } from '../support/run-setup';
import { sourceRevision } from '../support/machine';
import { GP2GP_SECTION_ID, renderGp2gpSection, type Gp2gpReport, type PhaseResult } from './gp2gp-report';

const PDS_SCHEMA = 'pds_bench_gp2gp';
const SIMULATOR_PORT = Number(process.env['BENCH_GPCONNECT_SIMULATOR_PORT'] ?? 29480);
const PATIENT = '9000000009';
/** The demo practice-admin acts for A83008: the patient registers there, and asks Y12345 for the record. */
const REQUESTER = 'A83008';
const SENDER = 'Y12345';
const MiB = 1024 * 1024;
const FHIR = 'application/fhir+json';

class Gp2gpBenchDatabase extends BenchDatabase {
  static async open(url: string): Promise<Gp2gpBenchDatabase> {
    return new Gp2gpBenchDatabase(await BenchDatabase.connect(url), PDS_SCHEMA);
  }

  async dropAll(): Promise<void> {
    const schemas = await this.client.query<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE '${PDS_SCHEMA}%'`,
    );
    for (const { name } of schemas.rows) await this.client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  }
}

/** Peak resident memory of a process since it started, or since the last reset (Linux /proc). */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

function resetPeakRss(pid: number): void {
  // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+).
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

interface Clients {
  platform: RunningPlatform;
  token: string;
  simulator: string;
}

function headers(clients: Clients, extra: Record<string, string> = {}): Record<string, string> {
  return {
    authorization: `Bearer ${clients.token}`,
    'x-request-id': randomUUID(),
    'nhsd-end-user-organisation-ods': REQUESTER,
    ...extra,
  };
}

/** The patient registers at the requesting practice (a PDS update through the gateway), as a new registration does. */
async function registerPatient(clients: Clients): Promise<void> {
  const url = `${clients.platform.gatewayUrl}/personal-demographics/FHIR/R4/Patient/${PATIENT}`;
  const current = await fetch(url, { headers: headers(clients) });
  const patient = (await current.json()) as {
    generalPractitioner?: { id?: string; identifier?: { value?: string } }[];
  };
  if (patient.generalPractitioner?.[0]?.identifier?.value === REQUESTER) return;
  const patched = await fetch(url, {
    method: 'PATCH',
    headers: headers(clients, {
      'content-type': 'application/json-patch+json',
      'if-match': current.headers.get('etag') ?? '',
    }),
    body: JSON.stringify({
      patches: [
        { op: 'test', path: '/generalPractitioner/0/id', value: patient.generalPractitioner?.[0]?.id },
        { op: 'replace', path: '/generalPractitioner/0/identifier/value', value: REQUESTER },
      ],
    }),
  });
  if (!patched.ok)
    throw new Error(`could not register the patient at ${REQUESTER}: ${patched.status} ${await patched.text()}`);
}

async function setRecord(clients: Clients, sizes: number[]): Promise<void> {
  const response = await fetch(`${clients.simulator}/_simulator/records/${PATIENT}`, {
    method: 'PUT',
    body: JSON.stringify({
      documents: sizes.map((size, index) => ({ size, contentType: 'application/pdf', title: `Document ${index + 1}` })),
    }),
  });
  if (response.status !== 204) throw new Error(`the simulator refused the record: ${response.status}`);
}

async function sha256Of(response: Response): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** The floor: the same documents read straight from the practice system (the simulator), one after another. */
async function direct(clients: Clients, sizes: number[]): Promise<{ seconds: number; hashes: string[] }> {
  const started = performance.now();
  const hashes: string[] = [];
  for (const [position, size] of sizes.entries()) {
    const response = await fetch(`${clients.simulator}/${SENDER}/fhir/Binary/${PATIENT}-${position}-${size}`);
    hashes.push((await sha256Of(response)).sha256);
  }
  return { seconds: (performance.now() - started) / 1000, hashes };
}

/** One transfer through the gateway: start, poll, then every attachment downloaded; checked against `hashes`. */
async function transfer(clients: Clients, hashes: string[]): Promise<{ seconds: number; bytes: number }> {
  const started = performance.now();
  const conversationId = randomUUID();
  const migrate = (): Promise<Response> =>
    fetch(`${clients.platform.gatewayUrl}/gp2gp/Patient/$gpc.migratestructuredrecord`, {
      method: 'POST',
      headers: headers(clients, { 'content-type': FHIR, conversationid: conversationId, 'to-ods': SENDER }),
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [
          {
            name: 'patientNHSNumber',
            valueIdentifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: PATIENT },
          },
        ],
      }),
    });
  let response = await migrate();
  if (response.status !== 202) throw new Error(`start answered ${response.status}: ${await response.text()}`);
  for (;;) {
    response = await migrate();
    if (response.status !== 204) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (response.status !== 200) throw new Error(`the transfer ended ${response.status}: ${await response.text()}`);
  const bundle = (await response.json()) as { entry: { resource: Record<string, unknown> }[] };
  const links = bundle.entry
    .map((entry) => entry.resource)
    .filter((resource) => resource['resourceType'] === 'DocumentReference')
    .map((resource) => (resource['content'] as { attachment: { url: string } }[])[0].attachment.url);
  let bytes = 0;
  for (const [position, link] of links.entries()) {
    const download = await fetch(`${clients.platform.gatewayUrl}${link}`, { headers: headers(clients) });
    if (download.status !== 200) throw new Error(`attachment ${position} answered ${download.status}`);
    const got = await sha256Of(download);
    if (got.sha256 !== hashes[position]) throw new Error(`attachment ${position} arrived altered`);
    bytes += got.bytes;
  }
  const seconds = (performance.now() - started) / 1000;
  const acked = await fetch(`${clients.platform.gatewayUrl}/gp2gp/$gpc.ack`, {
    method: 'POST',
    headers: headers(clients, { 'content-type': 'application/json', conversationid: conversationId }),
    body: JSON.stringify({ confirmationResponse: 'ACCEPTED' }),
  });
  if (acked.status !== 200) throw new Error(`the acknowledgement answered ${acked.status}`);
  return { seconds, bytes };
}

const PROCESSES = ['gateway', 'gp2gp', 'pds', 'n3-registry', 'gpconnect-simulator'];

async function phase(clients: Clients, label: string, sizes: number[], concurrent: number): Promise<PhaseResult> {
  await setRecord(clients, sizes);
  const baseline = await direct(clients, sizes);
  const pids = clients.platform.pids;
  for (const name of PROCESSES) if (pids[name]) resetPeakRss(pids[name]);
  const started = performance.now();
  const runs = await Promise.all(Array.from({ length: concurrent }, () => transfer(clients, baseline.hashes)));
  const wallSeconds = (performance.now() - started) / 1000;
  const times = runs.map((run) => run.seconds).sort((a, b) => a - b);
  return {
    label,
    recordBytes: sizes.reduce((sum, size) => sum + size, 0),
    attachments: sizes.length,
    concurrent,
    wallSeconds,
    medianSeconds: times[Math.floor((times.length - 1) / 2)],
    p99Seconds: times[Math.min(times.length - 1, Math.ceil(times.length * 0.99) - 1)],
    transfersPerSecond: concurrent / wallSeconds,
    baselineSeconds: baseline.seconds,
    peakRssMiB: Object.fromEntries(
      PROCESSES.filter((name) => pids[name]).map((name) => [name, peakRssMiB(pids[name])]),
    ),
  };
}

async function run(values: OptionValues, context: BenchContext): Promise<number> {
  const options = {
    concurrent: intOption(values, 'concurrent', 1, 100),
    bigMiB: intOption(values, 'big-mib', 1, 1024),
    recordMB: intOption(values, 'record-mb', 1, 2000),
    keepData: values['keep-data'] === true,
    verbose: values['verbose'] === true,
  };
  const { root, progress, cleanup } = context;
  const { databaseUrl, natsUrl, workDir, machine, measuredAt, versions } = await setUpRun(context, {
    name: 'gp2gp',
    built: ['dist/tools/launcher/src/main.js', 'dist/tools/gpconnect-simulator/src/main.js'],
    keepData: options.keepData,
    open: (url) => Gp2gpBenchDatabase.open(url),
  });
  const simulator = `http://127.0.0.1:${SIMULATOR_PORT}`;
  // The platform's launcher starts every catalogued service; the mail relay will not start without a STARTTLS
  // certificate, which the launcher does not make (yet): a throwaway self-signed one, unless one is given.
  // Its SMTP ports moved off the usual ones too, so `npm start` (or a mail test) can run beside the benchmark.
  const mailTls: Record<string, string> = { NHSMAIL_SUBMISSION_PORT: '22587', NHSMAIL_RELAY_PORT: '22525' };
  if (!process.env['NHSMAIL_TLS_CERT']) {
    mailTls['NHSMAIL_TLS_CERT'] = path.join(workDir, 'mail-cert.pem');
    mailTls['NHSMAIL_TLS_KEY'] = path.join(workDir, 'mail-key.pem');
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'],
        ...['-keyout', mailTls['NHSMAIL_TLS_KEY'], '-out', mailTls['NHSMAIL_TLS_CERT']],
      ],
      { stdio: 'ignore' },
    );
  }
  const platform = await startPlatform(
    {
      root,
      workDir,
      ports: PORTS,
      databaseUrl,
      natsUrl,
      schema: PDS_SCHEMA,
      verbose: options.verbose,
      env: {
        GPCONNECT_SIMULATOR_PORT: String(SIMULATOR_PORT),
        N3_SANDBOX_GPCONNECT_URL: simulator,
        GP2GP_LINK_SECRET: randomBytes(32).toString('hex'),
        ...mailTls,
      },
    },
    progress,
    cleanup,
  );
  const clients: Clients = { platform, token: await platform.token('practice-admin'), simulator };
  await registerPatient(clients);

  const tenMiB = [Math.round(3.3 * MiB), Math.round(3.3 * MiB), 10 * MiB - 2 * Math.round(3.3 * MiB)];
  const phases: PhaseResult[] = [];
  progress.say('a 10 MiB record (three attachments), end to end, five times');
  for (let round = 0; round < 5; round += 1) phases.push(await phase(clients, '10 MiB record', tenMiB, 1));
  progress.say(`${options.concurrent} concurrent 10 MiB transfers`);
  phases.push(await phase(clients, `${options.concurrent} concurrent 10 MiB records`, tenMiB, options.concurrent));
  progress.say(`a ${options.bigMiB} MiB attachment`);
  phases.push(await phase(clients, `${options.bigMiB} MiB attachment`, [options.bigMiB * MiB], 1));
  const recordBytes = options.recordMB * 1_000_000;
  const parts = Math.ceil(recordBytes / (95 * MiB));
  const part = Math.floor(recordBytes / parts);
  const record = Array.from({ length: parts }, (_, index) =>
    index === parts - 1 ? recordBytes - part * (parts - 1) : part,
  );
  progress.say(`a ${options.recordMB} MB record (${parts} attachments)`);
  phases.push(await phase(clients, `${options.recordMB} MB record`, record, 1));
  await platform.stop();

  const report: Gp2gpReport = {
    measuredAt: measuredAt.toISOString(),
    machine,
    versions,
    revision: sourceRevision(root),
    command: ['npm run bench --', ...context.argv].join(' '),
    phases,
  };
  await writeSection(path.join(root, 'docs/benchmarks.md'), GP2GP_SECTION_ID, renderGp2gpSection(report));
  progress.say(renderGp2gpSection(report));
  return 0;
}

export const gp2gpCommand: BenchCommand = {
  name: 'gp2gp',
  summary:
    'GP2GP through the gateway: a 10 MiB record end to end, N concurrent ones, a 100 MiB attachment and a 375 MB record (peak RSS per process)',
  options: {
    concurrent: { type: 'string', value: 'n', default: '20', description: 'concurrent 10 MiB transfers' },
    'big-mib': { type: 'string', value: 'MiB', default: '100', description: 'size of the single large attachment' },
    'record-mb': {
      type: 'string',
      value: 'MB',
      default: '375',
      description: 'size of the large record (attachments of at most 95 MiB)',
    },
    'keep-data': { type: 'boolean', description: 'keep the benchmark schemas afterwards' },
    verbose: { type: 'boolean', description: "copy the platform's output to the console" },
  },
  run,
};

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EpsClient } from '@platform/contracts-eps';
import { N3Client } from '@platform/contracts-n3';
import { PdsClient } from '@platform/contracts-pds';
import { connectNats, NatsRpcClient, type CallContext } from '@platform/shared-nats';
import { intOption, type BenchCommand, type BenchContext, type OptionValues } from '../command';
import { BenchDatabase } from '../support/bench-database';
import { runToCompletion } from '../support/children';
import { writeSection } from '../support/docs-section';
import { runLoad, type LoadRequest } from '../support/load';
import { sourceRevision } from '../support/machine';
import { setUpRun } from '../support/run-setup';
import { PORTS, startPlatform } from '../support/platform';
import { percentileOfSorted } from '../support/stats';
import { EPS_SECTION_ID, renderEpsSection, type EpsReport } from './eps-report';

const PDS_SCHEMA = 'pds_bench_eps';
const EPS_SCHEMA = `${PDS_SCHEMA}_eps`;
const CLI = 'dist/apps/eps/src/cli/eps.cli.js';
const PRESCRIBER = '555086689106';
const RELEASE_PHARMACY = 'FCG72'; // the pharmacy-system client's organisation

class EpsBenchDatabase extends BenchDatabase {
  static async open(url: string): Promise<EpsBenchDatabase> {
    return new EpsBenchDatabase(await BenchDatabase.connect(url), PDS_SCHEMA);
  }

  async dropAll(): Promise<void> {
    for (const schema of [PDS_SCHEMA, EPS_SCHEMA, `${PDS_SCHEMA}_n3`]) {
      await this.client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  }
}

/** Runs `work` over `items` with at most `parallel` at a time. */
async function inParallel<T, R>(items: T[], parallel: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]);
      }
    }),
  );
  return results;
}

async function run(values: OptionValues, context: BenchContext): Promise<number> {
  const options = {
    prescriptions: intOption(values, 'prescriptions', 0, 20_000_000),
    clients: intOption(values, 'clients', 1, 500),
    durationSeconds: intOption(values, 'duration', 1, 600),
    releaseCalls: intOption(values, 'release-calls', 1, 1000),
    rounds: intOption(values, 'race-rounds', 1, 100),
    keepData: values['keep-data'] === true,
    verbose: values['verbose'] === true,
  };
  const { root, progress, cleanup } = context;
  const { databaseUrl, natsUrl, workDir, machine, measuredAt, versions } = await setUpRun(context, {
    name: 'eps',
    built: [CLI, 'dist/tools/launcher/src/main.js'],
    keepData: options.keepData,
    open: (url) => EpsBenchDatabase.open(url),
  });

  // 1. The store: the prescriptions already there.
  const seedStarted = performance.now();
  if (options.prescriptions > 0) {
    progress.say(`loading ${options.prescriptions.toLocaleString('en-GB')} prescriptions (npm run eps -- seed)`);
    await runToCompletion(
      process.execPath,
      [
        path.join(root, CLI),
        'seed',
        '--prescriptions',
        String(options.prescriptions),
        '--schema',
        EPS_SCHEMA,
        '--database-url',
        databaseUrl,
      ],
      { cwd: root, timeoutMs: 3_600_000 },
    );
  }
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  // 2. The platform, a prescriber key, a living patient.
  const platform = await startPlatform(
    {
      root,
      workDir,
      ports: PORTS,
      databaseUrl,
      natsUrl,
      schema: PDS_SCHEMA,
      verbose: options.verbose,
    },
    progress,
    cleanup,
  );
  // The launcher's test user when it started its own secured NATS (an open shared NATS ignores the user).
  const nats = await connectNats({ url: platform.natsUrl, name: 'bench-eps' });
  cleanup.add({ describe: 'close the benchmark NATS connection', run: () => nats.close() });
  const rpc = new NatsRpcClient(nats, { timeoutMs: 30_000, signer: platform.gatewaySigner });
  const eps = new EpsClient(rpc);
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const system: CallContext = {
    requestId: randomUUID(),
    // As the gateway signs a user's statement (pds refuses a create to one without a user present).
    caller: {
      id: 'bench',
      username: 'bench',
      roles: ['clinician'],
      organisation: 'A83008',
      accessMode: 'user-restricted',
    },
  };
  await eps.registerPrescriberKey(
    { sdsUserId: PRESCRIBER, publicKeyPem: keys.publicKey },
    { requestId: randomUUID(), caller: { id: 'bench-ops', username: 'bench', roles: ['ops'] } },
  );
  const patient = await new PdsClient(rpc).createPatient(
    {
      patient: {
        resourceType: 'Patient',
        name: [{ use: 'usual', family: `Benchpatient${Date.now()}`, given: ['Ann'] }],
        gender: 'female',
        birthDate: '1970-01-01',
        address: [{ use: 'home', line: ['1 Street'], postalCode: 'LS1 1AA' }],
      },
    },
    { ...system, requestId: randomUUID() },
  );
  const keyFile = path.join(workDir, 'prescriber.key.pem');
  writeFileSync(keyFile, keys.privateKey, { mode: 0o600 });
  /** `count` new signed prescriptions, made by `npm run eps -- bundles` as a prescribing system would. */
  const signedBundles = async (count: number, pharmacy: string | null): Promise<Record<string, unknown>[]> => {
    const out = path.join(workDir, `bundles-${pharmacy ?? 'none'}.ndjson`);
    await runToCompletion(
      process.execPath,
      [
        path.join(root, CLI),
        'bundles',
        '--count',
        String(count),
        '--nhs-number',
        patient.nhsNumber,
        '--key',
        keyFile,
        '--out',
        out,
        ...(pharmacy ? ['--pharmacy', pharmacy] : []),
      ],
      { cwd: root, timeoutMs: 600_000 },
    );
    return readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };

  // 3. Creation through the gateway: every request a new signed prescription.
  const clinicianToken = await platform.token('clinician');
  const needed = Math.max(2000, (options.durationSeconds + 3) * 600);
  progress.say(`signing ${needed.toLocaleString('en-GB')} prescriptions as a prescribing system would`);
  const createRequests: LoadRequest[] = (await signedBundles(needed, 'VNE51')).map((bundle) => ({
    method: 'POST',
    path: '/fhir-prescribing/FHIR/R4/$process-message',
    headers: {
      authorization: `Bearer ${clinicianToken}`,
      'content-type': 'application/fhir+json',
      'x-request-id': randomUUID(),
    },
    body: JSON.stringify(bundle),
  }));
  const half = Math.floor(createRequests.length / 6);
  await runLoad(
    {
      label: 'create · warm-up',
      url: platform.gatewayUrl,
      connections: options.clients,
      durationSeconds: 3,
      requests: createRequests.slice(0, half),
      partitioned: true,
    },
    progress,
    cleanup,
  );
  const create = await runLoad(
    {
      label: 'create · measuring',
      url: platform.gatewayUrl,
      connections: options.clients,
      durationSeconds: options.durationSeconds,
      requests: createRequests.slice(half),
      partitioned: true,
    },
    progress,
    cleanup,
  );
  progress.say(
    `create: ${Math.round(create.requestsPerSecond)}/s, p50 ${create.p50Ms.toFixed(1)} ms, p99 ${create.p99Ms.toFixed(1)} ms`,
  );

  // 4. Nominated release through the gateway, 25 at a time, by the pharmacist.
  const toRelease = options.releaseCalls * 25;
  progress.say(`creating ${toRelease.toLocaleString('en-GB')} prescriptions nominated to ${RELEASE_PHARMACY}`);
  await inParallel(await signedBundles(toRelease, RELEASE_PHARMACY), 8, (bundle) =>
    eps.createPrescription({ bundle }, { ...system, requestId: randomUUID() }),
  );
  const pharmacyToken = await platform.token('pharmacist');
  const releaseBody = JSON.stringify({
    resourceType: 'Parameters',
    parameter: [
      {
        name: 'owner',
        resource: {
          resourceType: 'Organization',
          identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: RELEASE_PHARMACY }],
        },
      },
      { name: 'status', valueCode: 'accepted' },
    ],
  });
  const latencies: number[] = [];
  const releasedIds: string[] = [];
  for (let call = 0; call < options.releaseCalls; call += 1) {
    const started = performance.now();
    const response = await fetch(`${platform.gatewayUrl}/fhir-dispensing/FHIR/R4/Task/$release`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${pharmacyToken}`,
        'content-type': 'application/fhir+json',
        'x-request-id': randomUUID(),
      },
      body: releaseBody,
    });
    const answer = (await response.json()) as {
      parameter?: { name: string; resource: { entry?: { fullUrl: string }[] } }[];
    };
    latencies.push(performance.now() - started);
    if (response.status !== 200) throw new Error(`release answered ${response.status}`);
    for (const entry of answer.parameter?.[0]?.resource.entry ?? []) releasedIds.push(entry.fullUrl);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  progress.say(
    `release: p50 ${percentileOfSorted(sorted, 50).toFixed(1)} ms, p99 ${percentileOfSorted(sorted, 99).toFixed(1)} ms, ${releasedIds.length} released`,
  );

  // 5. 50 pharmacies racing for one prescription, over NATS (see the report).
  const n3 = new N3Client(rpc);
  const pharmacies = Array.from({ length: 50 }, (_, index) => `FY${String(index).padStart(3, '0')}`);
  await inParallel(pharmacies, 8, (odsCode) =>
    n3.upsertOrganisation(
      { odsCode, name: `RACE PHARMACY ${odsCode}`, role: 'pharmacy', status: 'active', addressLines: [] },
      { requestId: randomUUID(), caller: { id: 'bench', roles: ['registry-admin'] } },
    ),
  );
  const winners: number[] = [];
  const raced = await signedBundles(options.rounds, null);
  for (const bundle of raced) {
    const { shortFormId } = await eps.createPrescription({ bundle }, { ...system, requestId: randomUUID() });
    const outcomes = await Promise.allSettled(
      pharmacies.map((odsCode) =>
        eps.release(
          {
            parameters: {
              resourceType: 'Parameters',
              parameter: [
                {
                  name: 'owner',
                  resource: {
                    resourceType: 'Organization',
                    identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: odsCode }],
                  },
                },
                { name: 'status', valueCode: 'accepted' },
                {
                  name: 'group-identifier',
                  valueIdentifier: { system: 'https://fhir.nhs.uk/Id/prescription-order-number', value: shortFormId },
                },
              ],
            },
          },
          {
            requestId: randomUUID(),
            caller: { id: `pharmacist-${odsCode}`, roles: ['pharmacist'], organisation: odsCode },
          },
        ),
      ),
    );
    winners.push(outcomes.filter((outcome) => outcome.status === 'fulfilled').length);
  }
  progress.say(`race: winners per round ${winners.join(', ')}`);
  await platform.stop();

  const report: EpsReport = {
    measuredAt,
    machine,
    revision: sourceRevision(root),
    versions,
    store: { prescriptions: options.prescriptions, seedSeconds },
    create: { clients: options.clients, durationSeconds: options.durationSeconds, load: create },
    release: {
      calls: options.releaseCalls,
      perCall: 25,
      p50Ms: percentileOfSorted(sorted, 50),
      p99Ms: percentileOfSorted(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? 0,
      released: releasedIds.length,
      distinct: new Set(releasedIds).size,
    },
    race: { rounds: options.rounds, pharmacies: pharmacies.length, winnersPerRound: winners },
    command: `npm run bench -- eps --prescriptions ${options.prescriptions} --clients ${options.clients} --duration ${options.durationSeconds}`,
  };
  const docs = path.join(root, 'docs/benchmarks.md');
  await writeSection(docs, EPS_SECTION_ID, renderEpsSection(report));
  progress.say(`wrote the ${EPS_SECTION_ID} section of ${path.relative(root, docs)}`);
  return 0;
}

export const epsCommand: BenchCommand = {
  name: 'eps',
  summary:
    'EPS: prescription creation and nominated release through the gateway over a store of 1M prescriptions; 50 pharmacies racing',
  options: {
    prescriptions: { type: 'string', value: 'n', default: '1000000', description: 'prescriptions loaded first' },
    clients: { type: 'string', value: 'n', default: '8', description: 'concurrent clients creating prescriptions' },
    duration: { type: 'string', value: 's', default: '15', description: 'measured seconds of creation' },
    'release-calls': { type: 'string', value: 'n', default: '100', description: 'nominated release calls of 25' },
    'race-rounds': { type: 'string', value: 'n', default: '20', description: 'rounds of 50 pharmacies racing' },
    'keep-data': { type: 'boolean', description: 'leave the benchmark schemas in place afterwards' },
    verbose: { type: 'boolean', description: "copy the platform's output to the console" },
  },
  run,
};

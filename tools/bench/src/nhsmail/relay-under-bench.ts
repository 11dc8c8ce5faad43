import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { N3Client } from '@platform/contracts-n3';
import {
  callerKeyEnvironment,
  generatePlatformCallerKeys,
  GATEWAY_ISSUER,
  NatsRpcClient,
  signerFrom,
  type CallContext,
  type PlatformCallerKeys,
} from '@platform/shared-nats';
import { SERVICES, streamingEnvironment } from '@platform/shared-catalogue';
import type { Cleanup } from '../support/cleanup';
import { exited, portInUse, stopChild } from '../support/children';

const NATS_BINARIES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

export interface BenchPorts {
  nats: number;
  n3Health: number;
  relayHealth: number;
  relaySmtp: number;
  relaySubmission: number;
}

/** A service process of the platform started from dist/, as the launcher starts it. */
export interface ServiceProcess {
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function waitReady(child: ChildProcess, url: string, what: string, stderr: () => string): Promise<void> {
  for (const deadline = Date.now() + 60_000; ; ) {
    if (exited(child)) throw new Error(`${what} exited during start-up: ${stderr()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} was not ready within 60 s: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

function startService(
  root: string,
  entry: string,
  env: Record<string, string>,
  healthPort: number,
  nodeArgs: string[],
  cleanup: Cleanup,
): Promise<ServiceProcess> {
  const main = path.join(root, 'dist', entry);
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [...nodeArgs, main], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const stop = (): Promise<void> => stopChild(child, 15_000);
  const unregister = cleanup.add({ describe: `stop ${entry}`, run: stop, force: () => child.kill('SIGKILL') });
  const service: ServiceProcess = {
    pid: child.pid ?? 0,
    child,
    stop: async () => {
      await stop();
      unregister();
    },
  };
  return waitReady(child, `http://127.0.0.1:${healthPort}/health/ready`, entry, () => stderr).then(
    () => service,
    async (error: unknown) => {
      await service.stop();
      throw error;
    },
  );
}

/**
 * What the relay needs around it, private to the benchmark: a nats-server of its own (so no platform on the
 * shared NATS answers its calls), the N3 registry (real, from dist/) with a live connection owning
 * 127.0.0.0/24 (the load's source address: the relay path, N3-gated, is what is measured), and the caller
 * keys every process trusts.
 */
export class RelayBench {
  private constructor(
    readonly root: string,
    readonly workDir: string,
    readonly ports: BenchPorts,
    readonly databaseUrl: string,
    readonly schema: string,
    private readonly keys: PlatformCallerKeys,
    readonly natsUrl: string,
    private readonly tls: { cert: string; key: string; dkim: string },
  ) {}

  static async start(
    settings: { root: string; workDir: string; ports: BenchPorts; databaseUrl: string; schema: string },
    cleanup: Cleanup,
  ): Promise<RelayBench> {
    for (const [name, port] of Object.entries(settings.ports) as [string, number][]) {
      if (await portInUse(port)) throw new Error(`port ${port} (${name}) is already in use: is another run going?`);
    }
    const binary = NATS_BINARIES.find((candidate) => existsSync(candidate));
    if (!binary) throw new Error('nats-server is not installed: apt-get install nats-server');
    const natsDir = path.join(settings.workDir, 'nats');
    mkdirSync(natsDir, { recursive: true });
    const nats = spawn(binary, ['-a', '127.0.0.1', '-p', String(settings.ports.nats), '-js', '-sd', natsDir], {
      stdio: 'ignore',
    });
    cleanup.add({ describe: 'stop the private nats-server', run: () => stopChild(nats, 5000) });
    for (const deadline = Date.now() + 10_000; !(await portInUse(settings.ports.nats)); ) {
      if (exited(nats) || Date.now() > deadline) throw new Error('the private nats-server did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // TEST-ONLY keys made for this run in its work folder: STARTTLS (never used by the load) and DKIM.
    const cert = path.join(settings.workDir, 'cert.pem');
    const key = path.join(settings.workDir, 'key.pem');
    const dkim = path.join(settings.workDir, 'dkim.pem');
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
        ...['-subj', '/CN=nhsmail bench only', '-keyout', key, '-out', cert],
      ],
      { stdio: 'ignore' },
    );
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', dkim], {
      stdio: 'ignore',
    });
    const keys = await generatePlatformCallerKeys(['nhsmail-relay', 'n3-registry']);
    return new RelayBench(
      settings.root,
      settings.workDir,
      settings.ports,
      settings.databaseUrl,
      settings.schema,
      keys,
      `nats://127.0.0.1:${settings.ports.nats}`,
      { cert, key, dkim },
    );
  }

  /** The N3 registry, with a live connection owning 127.0.0.0/24. */
  async startRegistry(cleanup: Cleanup): Promise<ServiceProcess> {
    const registry = await startService(
      this.root,
      'apps/n3-registry/src/main.js',
      {
        ...callerKeyEnvironment(this.keys, 'n3-registry'),
        NATS_URL: this.natsUrl,
        DATABASE_URL: this.databaseUrl,
        N3_DB_SCHEMA: `${this.schema}_n3`,
        N3_SEED: 'none',
        N3_HTTP_PORT: String(this.ports.n3Health),
      },
      this.ports.n3Health,
      [],
      cleanup,
    );
    const connection: NatsConnection = await connect({ servers: this.natsUrl });
    try {
      const n3 = new N3Client(
        new NatsRpcClient(connection, { timeoutMs: 10_000, signer: signerFrom(this.keys, GATEWAY_ISSUER) }),
      );
      const admin = (): CallContext => ({
        requestId: randomUUID(),
        caller: { id: 'bench-admin', username: 'bench.admin', roles: ['registry-admin'], organisation: 'X26' },
      });
      await n3.upsertOrganisation(
        { odsCode: 'A83008', name: 'Bench Practice', role: 'gp-practice', status: 'active', addressLines: [] },
        admin(),
      );
      const created = await n3.createConnection(
        {
          odsCode: 'A83008',
          supplier: 'BT',
          bandwidthMbps: 100,
          accessType: 'fttp',
          availabilityTarget: 99.9,
          contractStart: '2026-01-01',
          contractEnd: '2029-01-01',
        },
        admin(),
      );
      await n3.allocateBlock({ connectionId: created.id, cidr: '127.0.0.0/24' }, admin());
      await n3.transitionConnection({ connectionId: created.id, to: 'provisioning' }, admin());
      await n3.transitionConnection({ connectionId: created.id, to: 'live' }, admin());
    } finally {
      await connection.close();
    }
    return registry;
  }

  /** The relay (dist/apps/nhsmail-relay), delivering to the smarthost on `smarthostPort`. */
  startRelay(
    smarthostPort: number,
    cleanup: Cleanup,
    options: { nodeArgs?: string[]; env?: Record<string, string> } = {},
  ): Promise<ServiceProcess> {
    return startService(
      this.root,
      'apps/nhsmail-relay/src/main.js',
      {
        ...callerKeyEnvironment(this.keys, 'nhsmail-relay'),
        NATS_URL: this.natsUrl,
        DATABASE_URL: this.databaseUrl,
        NHSMAIL_DB_SCHEMA: this.schema,
        NHSMAIL_HTTP_PORT: String(this.ports.relayHealth),
        NHSMAIL_SUBMISSION_PORT: String(this.ports.relaySubmission),
        NHSMAIL_RELAY_PORT: String(this.ports.relaySmtp),
        NHSMAIL_TLS_CERT: this.tls.cert,
        NHSMAIL_TLS_KEY: this.tls.key,
        NHSMAIL_DKIM_KEY: this.tls.dkim,
        NHSMAIL_SMARTHOST_URL: `smtp://127.0.0.1:${smarthostPort}`,
        // as the launcher and the chart run it (the catalogue's memory settings for streaming services)
        ...streamingEnvironment(
          process.env,
          SERVICES.find((service) => service.name === 'nhsmail-relay')?.semiSpaceMiB,
        ),
        ...options.env,
      },
      this.ports.relayHealth,
      options.nodeArgs ?? [],
      cleanup,
    );
  }
}

/** Peak resident memory since the last reset (VmHWM), MiB. */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** Resident memory now (VmRSS), MiB. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Gp2gpClient, type StartTransferReply } from '@platform/contracts-gp2gp';
import { N3Client } from '@platform/contracts-n3';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient, type CallContext } from '@platform/shared-nats';
import {
  dropSchema,
  freePort,
  startServiceUnderTest,
  uniqueName,
  type ServiceUnderTest,
} from '@platform/shared-testing';
import {
  startBuiltService,
  testCallerEnvironment,
  testGatewaySigner,
  type BuiltService,
} from '@platform/testing-services';
import { Gp2gpConfig } from './config/gp2gp.config';
import { startGp2gp } from './gp2gp';

const ROOT = path.resolve(__dirname, '../../..');

/** The secret the tests' gp2gp signs attachment links with (a test can forge an expired link with it). */
export const TEST_LINK_SECRET = 'gp2gp-test-link-secret-0123456789abcdef';
/** Jane Smith in the PDS sandbox: registered at Y12345. */
export const PATIENT = '9000000009';
export const REQUESTER = 'Y12345';
export const SENDER = 'A83008';

/** The GP Connect provider simulator, started from dist/ (as the launcher does) on a port of its own. */
export interface Simulator {
  url: string;
  endpointOf(odsCode: string): string;
  setRecord(
    nhsNumber: string,
    record: {
      documents: { size: number; contentType: string; title: string }[];
      bytesPerSecond?: number;
      absentFrom?: string[];
    },
  ): Promise<void>;
  /** The SHA-256 of a document as the simulator serves it (read over HTTP). */
  documentSha256(url: string): Promise<string>;
  stop(): Promise<void>;
}

async function waitReady(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} was not ready within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

export async function startSimulator(): Promise<Simulator> {
  const main = path.join(ROOT, 'dist/tools/gpconnect-simulator/src/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, GPCONNECT_SIMULATOR_PORT: String(port), GPCONNECT_SIMULATOR_HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/health/ready`, child, 'the GP Connect simulator');
  return {
    url,
    endpointOf: (odsCode) => `${url}/${odsCode}/fhir`,
    async setRecord(nhsNumber, record) {
      const response = await fetch(`${url}/_simulator/records/${nhsNumber}`, {
        method: 'PUT',
        body: JSON.stringify(record),
      });
      if (response.status !== 204) throw new Error(`the simulator refused the record: ${response.status}`);
    },
    async documentSha256(address) {
      const hash = createHash('sha256');
      const response = await fetch(address);
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
      return hash.digest('hex');
    },
    stop: () => stopChild(child),
  };
}

/** Settings the tests' gp2gp processes use: small fragments (many per attachment), a quick worker. */
export function testSettings(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    GP2GP_LINK_SECRET: TEST_LINK_SECRET,
    GP2GP_FRAGMENT_BYTES: String(256 * 1024),
    GP2GP_POLL_MS: '50',
    GP2GP_LEASE_MS: '2000',
    GP2GP_SENDER_ATTEMPTS: '3',
    GP2GP_SENDER_TIMEOUT_MS: '5000',
    ...overrides,
  };
}

/** gp2gp in this process on its own schema and NATS server, with the real pds and n3-registry and the simulator. */
export interface Gp2gpUnderTest extends ServiceUnderTest<INestApplication> {
  /** The typed client, signing as the gateway does. */
  client: Gp2gpClient;
  n3: N3Client;
  simulator: Simulator;
  /** The environment another gp2gp process needs to join this one (same NATS, database and schema). */
  env: Record<string, string>;
}

export async function startGp2gpUnderTest(
  options: { schemaPrefix: string; inProcess?: boolean; settings?: Record<string, string> } = {
    schemaPrefix: 'gp2gp_it',
  },
): Promise<Gp2gpUnderTest> {
  const simulator = await startSimulator();
  const callerEnv = await testCallerEnvironment('gp2gp');
  let env: Record<string, string> = {};
  const running = await startServiceUnderTest(options.schemaPrefix, async ({ natsUrl, databaseUrl, schema }) => {
    env = {
      ...callerEnv,
      NATS_URL: natsUrl,
      DATABASE_URL: databaseUrl,
      GP2GP_DB_SCHEMA: schema,
      ...testSettings(options.settings),
    };
    if (options.inProcess === false) {
      // The tests start gp2gp processes themselves; a placeholder app answers close().
      return { close: () => Promise.resolve(), getUrl: () => Promise.resolve('') } as unknown as INestApplication;
    }
    return startGp2gp(
      loadConfig(Gp2gpConfig, { ...env, GP2GP_HTTP_PORT: '0' }),
      createLogger({ service: 'gp2gp', level: 'silent' }),
    );
  });
  const pdsSchema = uniqueName('gp2gp_it_pds');
  const n3Schema = uniqueName('gp2gp_it_n3');
  const shared = { NATS_URL: running.natsUrl, DATABASE_URL: running.databaseUrl };
  const others: BuiltService[] = await Promise.all([
    startBuiltService('apps/pds/src/main.js', 'PDS_HTTP_PORT', {
      ...shared,
      PDS_DB_SCHEMA: pdsSchema,
      PDS_SEED: 'sandbox',
    }),
    startBuiltService('apps/n3-registry/src/main.js', 'N3_HTTP_PORT', {
      ...shared,
      N3_DB_SCHEMA: n3Schema,
      N3_SEED: 'sandbox',
      N3_SANDBOX_GPCONNECT_URL: simulator.url,
    }),
  ]);
  const rpc = new NatsRpcClient(running.connection, { timeoutMs: 15_000, signer: await testGatewaySigner() });
  return {
    ...running,
    client: new Gp2gpClient(rpc),
    n3: new N3Client(rpc),
    simulator,
    env,
    stop: async () => {
      await Promise.all([running.stop(), ...others.map((service) => service.stop()), simulator.stop()]);
      await dropSchema(running.databaseUrl, pdsSchema);
      await dropSchema(running.databaseUrl, n3Schema);
    },
  };
}

/** A gp2gp process from dist/ joined to a test's NATS and schema, which a test may kill outright. */
export interface Gp2gpProcess {
  /** Whether the process is still running (it has not exited by itself, nor been killed). */
  alive(): boolean;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function startGp2gpProcess(env: Record<string, string>): Promise<Gp2gpProcess> {
  const main = path.join(ROOT, 'dist/apps/gp2gp/src/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, GP2GP_HTTP_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitReady(`http://127.0.0.1:${port}/health/ready`, child, 'gp2gp');
  return {
    alive: () => child.exitCode === null && child.signalCode === null,
    kill: () => stopChild(child, 'SIGKILL'),
    stop: () => stopChild(child),
  };
}

export function practice(organisation: string, role = 'practice-admin', requestId: string = randomUUID()): CallContext {
  return { requestId, caller: { id: `${role}-${organisation}`, username: role, roles: [role], organisation } };
}

export function operator(requestId: string = randomUUID()): CallContext {
  return { requestId, caller: { id: 'ops-1', username: 'ops', roles: ['ops'] } };
}

/** Polls a transfer until it is no longer in progress (or the deadline passes). */
export async function untilSettled(
  client: Gp2gpClient,
  request: { conversationId: string; nhsNumber: string; sendingOds: string },
  context: CallContext,
  timeoutMs = 20_000,
): Promise<StartTransferReply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await client.startTransfer(request, { ...context, requestId: randomUUID() });
    if (reply.outcome === 'completed' || reply.outcome === 'failed' || Date.now() > deadline) return reply;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Reads a whole attachment through its link, piece by piece as the gateway does; answers its SHA-256 and size. */
export async function downloadThroughLink(
  client: Gp2gpClient,
  link: string,
  context: CallContext,
): Promise<{ sha256: string; size: number; declaredSha256: string }> {
  const token = link.replace('/gp2gp/attachments/', '');
  const hash = createHash('sha256');
  let size = 0;
  let piece = await client.readAttachment({ token }, context);
  const declaredSha256 = piece.sha256;
  for (;;) {
    const bytes = Buffer.from(piece.data, 'base64');
    hash.update(bytes);
    size += bytes.length;
    if (!piece.cursor) break;
    piece = await client.readAttachment({ token, cursor: piece.cursor }, context);
  }
  return { sha256: hash.digest('hex'), size, declaredSha256 };
}

/** The attachment links of a completed transfer's Bundle: each DocumentReference's content URL, in order. */
export function attachmentLinks(reply: StartTransferReply | undefined): string[] {
  const bundle = JSON.parse(reply?.bundleJson ?? '{"entry":[]}') as { entry: { resource: Record<string, unknown> }[] };
  return bundle.entry
    .map((entry) => entry.resource)
    .filter((resource) => resource['resourceType'] === 'DocumentReference')
    .map((resource) => (resource['content'] as { attachment: { url: string } }[])[0]?.attachment.url ?? '');
}

/** The SHA-256 of what the sender's simulator serves as PATIENT's document `position`, of `size` bytes. */
export function sentDocumentSha256(under: Gp2gpUnderTest, position: number, size: number): Promise<string> {
  return under.simulator.documentSha256(`${under.simulator.endpointOf(SENDER)}/Binary/${PATIENT}-${position}-${size}`);
}

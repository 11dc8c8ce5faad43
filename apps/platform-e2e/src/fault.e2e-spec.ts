import 'reflect-metadata';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { EPS_EVENT_STREAM, EPS_EVENTS, EpsClient, signDigest, withSignature } from '@platform/contracts-eps';
import { N3_EVENT_STREAM, N3_EVENTS } from '@platform/contracts-n3';
import { PDS_EVENT_STREAM, PDS_EVENTS } from '@platform/contracts-pds';
import { NatsRpcClient, natsEndpointOptions } from '@platform/shared-nats';
import { freshPrescription, shortFormIdOf } from '@platform/testing-prescriptions';
import {
  currentPids,
  e2eState,
  gatewaySigner,
  killAndAwaitRecovery,
  passwordToken,
  platformUp,
  type E2eState,
} from './support/platform';

/**
 * The fault suite: while a bounded load of writes runs through the gateway, every process is killed in turn
 * (kill -9 of pds, n3-registry, eps and the gateway, then of nats-server), and the launcher brings each back.
 * Every write has its own X-Request-ID and is retried with the same one after a 5xx, a refused connection or
 * a client timeout, as a careful client does. It shows that requests caught by a fault fail fast (503/504 or
 * a refused connection, never a hang), that the platform recovers by itself, and that no acknowledged write
 * is lost or applied twice: rows in PostgreSQL and events in JetStream are counted before and after.
 */

const PRESCRIBER = '555086689106';
const ACUTE = 'flow-acute-nominated/1-Prepare-Request-200_OK.json';
const PATIENT_PATH = '/personal-demographics/FHIR/R4/Patient';
/** Each attempt is abandoned after this: an attempt that reaches it counts as a hang. */
const CLIENT_TIMEOUT_MS = 10_000;
/** A write still not acknowledged after this long fails the suite. */
const WRITE_DEADLINE_MS = 90_000;
const FAULTS = ['pds', 'n3-registry', 'eps', 'gateway', 'nats-server'] as const;
type Operation = 'pds-create' | 'pds-update' | 'n3-create' | 'eps-create';

interface Attempt {
  operation: Operation;
  status: number | 'refused' | 'reset' | 'timeout';
  ms: number;
  at: number;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('faults under load: kill -9 of every process in turn and a NATS restart', () => {
  let state: E2eState;
  let nats: NatsConnection;
  let db: Client;
  const tokens: Record<string, string> = {};
  const attempts: Attempt[] = [];
  /** Writes acknowledged only after a retry with the same X-Request-ID. */
  const retried: Partial<Record<Operation, number>> = {};
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  let epsPatient = '';
  let updateTarget = '';

  /** One HTTP attempt, bounded by the client timeout; network failures are answers too. */
  async function attempt(
    operation: Operation,
    method: string,
    path: string,
    token: string,
    requestId: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer | undefined> {
    const started = Date.now();
    let status: Attempt['status'];
    let answer: Answer | undefined;
    try {
      const response = await fetch(`${state.gateway}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          'x-request-id': requestId,
          'content-type': 'application/fhir+json',
          ...headers,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
      });
      const text = await response.text();
      status = response.status;
      answer = { status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? '';
      status =
        error instanceof Error && error.name === 'TimeoutError'
          ? 'timeout'
          : cause === 'ECONNREFUSED'
            ? 'refused'
            : 'reset';
    }
    attempts.push({ operation, status, ms: Date.now() - started, at: started });
    return answer;
  }

  /** A write with one X-Request-ID, retried with the same ID until it gets a final answer. */
  async function write(
    operation: Operation,
    method: string,
    path: string,
    token: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const requestId = randomUUID();
    const deadline = Date.now() + WRITE_DEADLINE_MS;
    for (let tries = 1; ; tries += 1) {
      const answer = await attempt(operation, method, path, token, requestId, body, headers);
      if (answer && answer.status < 500 && answer.status !== 429) {
        if (tries > 1) retried[operation] = (retried[operation] ?? 0) + 1;
        return answer;
      }
      if (Date.now() > deadline) throw new Error(`${operation} ${requestId} not acknowledged within the deadline`);
      await sleep(250);
    }
  }

  async function prepareAndSign(nhsNumber: string): Promise<{ signed: unknown; id: string }> {
    const bundle = freshPrescription(ACUTE, { nhsNumber, pharmacy: 'FCG72' });
    for (;;) {
      // $prepare changes nothing: a fresh request ID for each try.
      const prepared = await attempt(
        'eps-create',
        'POST',
        '/fhir-prescribing/FHIR/R4/$prepare',
        tokens['clinician'] ?? '',
        randomUUID(),
        bundle,
      );
      if (prepared?.status === 200) {
        const digest =
          (prepared.body['parameter'] as { name: string; valueString: string }[]).find((p) => p.name === 'digest')
            ?.valueString ?? '';
        return {
          signed: withSignature(bundle, signDigest(digest, keys.privateKey, PRESCRIBER), new Date()),
          id: shortFormIdOf(bundle),
        };
      }
      if (prepared && prepared.status < 500) throw new Error(`$prepare answered ${prepared.status}`);
      await sleep(250);
    }
  }

  const acknowledged = {
    pdsCreated: [] as string[],
    pdsUpdates: 0,
    n3Created: [] as string[],
    epsCreated: [] as string[],
  };
  const unexpected: string[] = [];
  let running = true;
  let family = 0;

  /** One worker per kind of write, one write at a time each: a bounded load. */
  const workers: Record<Operation, () => Promise<void>> = {
    'pds-create': async () => {
      family += 1;
      // Demographics no other patient shares, or PDS answers 200 SINGLE_MATCH instead of creating.
      const born = new Date(Date.UTC(1930, 0, 1) + Math.floor(Math.random() * 70 * 365) * 86_400_000);
      const letters = (n: number): string =>
        Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');
      const answer = await write('pds-create', 'POST', PATIENT_PATH, tokens['clinician'] ?? '', {
        resourceType: 'Patient',
        name: [{ use: 'usual', given: [`Fay${letters(6)}`], family: `Faultload${family.toString(36)}${letters(6)}` }],
        gender: family % 2 === 0 ? 'female' : 'male',
        birthDate: born.toISOString().slice(0, 10),
        address: [{ use: 'home', line: [`${family} Fault Lane`], postalCode: 'LS2 7UE' }],
      });
      if (answer.status === 201) acknowledged.pdsCreated.push(String(answer.body['id']));
      else unexpected.push(`pds-create ${answer.status}`);
    },
    'pds-update': async () => {
      const read = await fetch(`${state.gateway}${PATIENT_PATH}/${updateTarget}`, {
        headers: { authorization: `Bearer ${tokens['clinician']}`, 'x-request-id': randomUUID() },
        signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
      }).catch(() => undefined);
      if (read?.status !== 200) {
        await read?.text();
        await sleep(250);
        return;
      }
      const etag = read.headers.get('etag') ?? '';
      const current = (await read.json()) as { gender: string };
      const answer = await write(
        'pds-update',
        'PATCH',
        `${PATIENT_PATH}/${updateTarget}`,
        tokens['clinician'] ?? '',
        { patches: [{ op: 'replace', path: '/gender', value: current.gender === 'female' ? 'male' : 'female' }] },
        { 'content-type': 'application/json-patch+json', 'if-match': etag },
      );
      if (answer.status === 200) acknowledged.pdsUpdates += 1;
      else unexpected.push(`pds-update ${answer.status}`);
    },
    'n3-create': async () => {
      const answer = await write('n3-create', 'POST', '/n3/connections', tokens['registry-admin'] ?? '', {
        odsCode: 'C81007',
        supplier: 'BT',
        bandwidthMbps: 80,
        accessType: 'fttc',
        availabilityTarget: 99.5,
        contractStart: '2026-04-01',
      });
      if (answer.status === 201) acknowledged.n3Created.push(String(answer.body['id']));
      else unexpected.push(`n3-create ${answer.status}`);
    },
    'eps-create': async () => {
      const { signed, id } = await prepareAndSign(epsPatient);
      const answer = await write(
        'eps-create',
        'POST',
        '/fhir-prescribing/FHIR/R4/$process-message',
        tokens['clinician'] ?? '',
        signed,
      );
      if (answer.status === 200) acknowledged.epsCreated.push(id);
      else unexpected.push(`eps-create ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
    },
  };

  async function load(operation: Operation): Promise<void> {
    while (running) {
      await workers[operation]();
      await sleep(50);
    }
  }

  async function count(): Promise<Record<string, number>> {
    const one = async (sql: string): Promise<number> => Number((await db.query<{ n: string }>(sql)).rows[0]?.n);
    const manager = await nats.jetstreamManager();
    const subjects = async (stream: string): Promise<Record<string, number>> =>
      (await manager.streams.info(stream, { subjects_filter: '>' })).state.subjects ?? {};
    const [pdsEvents, n3Events, epsEvents] = await Promise.all([
      subjects(PDS_EVENT_STREAM),
      subjects(N3_EVENT_STREAM),
      subjects(EPS_EVENT_STREAM),
    ]);
    return {
      patients: await one(`SELECT count(*) AS n FROM "${state.schemas.pds}".patient`),
      updateTargetVersion: await one(
        `SELECT version AS n FROM "${state.schemas.pds}".patient WHERE nhs_number = '${updateTarget}'`,
      ),
      connections: await one(`SELECT count(*) AS n FROM "${state.schemas['n3-registry']}".connection`),
      prescriptions: await one(`SELECT count(*) AS n FROM "${state.schemas.eps}".prescription`),
      patientCreatedEvents: pdsEvents[PDS_EVENTS.patientCreated] ?? 0,
      patientUpdatedEvents: pdsEvents[PDS_EVENTS.patientUpdated] ?? 0,
      connectionOrderedEvents: n3Events[N3_EVENTS.connectionOrdered] ?? 0,
      prescriptionCreatedEvents: epsEvents[EPS_EVENTS.created] ?? 0,
    };
  }

  /** Waits until every outbox has published what it holds (so the streams are complete). */
  async function outboxesEmpty(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await db.query<{ n: string }>(
        `SELECT (SELECT count(*) FROM "${state.schemas.pds}".outbox WHERE published_at IS NULL)
              + (SELECT count(*) FROM "${state.schemas['n3-registry']}".outbox WHERE published_at IS NULL)
              + (SELECT count(*) FROM "${state.schemas.eps}".outbox WHERE published_at IS NULL) AS n`,
      );
      if (Number(rows[0]?.n) === 0) return;
      if (Date.now() > deadline) throw new Error(`${rows[0]?.n} outbox rows still unpublished`);
      await sleep(250);
    }
  }

  /** Every service routed and NATS answer, through the gateway. */
  beforeAll(async () => {
    state = e2eState();
    expect(await platformUp(state, 60_000)).toBe(true);
    nats = await connect({ ...natsEndpointOptions(state.natsUrl), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    db = new Client({ connectionString: state.databaseUrl });
    await db.connect();
    for (const user of ['clinician', 'registry-admin']) tokens[user] = await passwordToken(state.issuer, user);
    await new EpsClient(
      new NatsRpcClient(nats, { timeoutMs: 5000, signer: gatewaySigner(state) }),
    ).registerPrescriberKey(
      { sdsUserId: PRESCRIBER, publicKeyPem: keys.publicKey },
      // Registering a prescriber's key is for operations staff only.
      { requestId: randomUUID(), caller: { id: 'e2e-ops', roles: ['ops'] } },
    );
    const patient = (familyName: string) => ({
      resourceType: 'Patient',
      name: [{ use: 'usual', given: ['Flo'], family: familyName }],
      gender: 'female',
      birthDate: '1975-05-06',
      address: [{ use: 'home', line: ['3 Fault Lane'], postalCode: 'LS2 7UE' }],
    });
    const token = tokens['clinician'] ?? '';
    epsPatient = String(
      (await write('pds-create', 'POST', PATIENT_PATH, token, patient(`Faulteps${Date.now().toString(36)}`))).body[
        'id'
      ],
    );
    updateTarget = String(
      (await write('pds-create', 'POST', PATIENT_PATH, token, patient(`Faultupd${Date.now().toString(36)}`))).body[
        'id'
      ],
    );
    attempts.length = 0;
    for (const key of Object.keys(retried)) delete retried[key as Operation];
  }, 90_000);

  afterAll(async () => {
    running = false;
    // Leave the platform as the next user of it expects: everything up.
    await platformUp(state, 60_000);
    await nats?.close();
    await db?.end();
  }, 90_000);

  it('fails requests caught by a fault fast, recovers by itself, and loses or repeats no acknowledged write', async () => {
    await outboxesEmpty();
    const before = await count();

    const started = Date.now();
    const loads = (['pds-create', 'pds-update', 'n3-create', 'eps-create'] as const).map((operation) =>
      load(operation),
    );
    await sleep(2000);

    const recoveries: Record<string, number> = {};
    for (const fault of FAULTS) {
      expect(currentPids(state)[fault]).toBeGreaterThan(0);
      // Recovered: the launcher has started a new process and the gateway sees everything up again.
      recoveries[fault] = await killAndAwaitRecovery(state, fault);
      expect(recoveries[fault]).toBeLessThan(60_000);
      await sleep(1500);
    }

    running = false;
    await Promise.all(loads);
    const loadMs = Date.now() - started;
    await outboxesEmpty();
    await sleep(1000);
    const after = await count();

    const statuses: Record<string, number> = {};
    for (const { status } of attempts) statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
    const failed = attempts.filter((a) => typeof a.status !== 'number' || a.status >= 500 || a.status === 429);
    const slowestFailureMs = Math.max(0, ...failed.map((a) => a.ms));
    const writes = {
      'pds-create': acknowledged.pdsCreated.length,
      'pds-update': acknowledged.pdsUpdates,
      'n3-create': acknowledged.n3Created.length,
      'eps-create': acknowledged.epsCreated.length,
    };
    const delta = Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
    console.log(
      [
        `fault suite: ${attempts.length} HTTP attempts in ${(loadMs / 1000).toFixed(1)} s while killing ${FAULTS.join(', ')}`,
        `  statuses (attempts): ${JSON.stringify(statuses)}`,
        `  failed attempts: ${failed.length}, slowest ${slowestFailureMs} ms (client timeout ${CLIENT_TIMEOUT_MS} ms)`,
        `  recovery after kill -9 (ms, until the gateway reports everything up): ${JSON.stringify(recoveries)}`,
        `  acknowledged writes: ${JSON.stringify(writes)}, of which acknowledged after a retry with the same X-Request-ID: ${JSON.stringify(retried)}`,
        `  counted in PostgreSQL and JetStream (after - before): ${JSON.stringify(delta)}`,
        unexpected.length > 0 ? `  unexpected answers: ${unexpected.join('; ')}` : '  unexpected answers: none',
      ].join('\n'),
    );

    // Never a hang: every attempt caught by a fault was answered (or refused) well within the client timeout.
    expect(attempts.filter((a) => a.status === 'timeout')).toEqual([]);
    expect(slowestFailureMs).toBeLessThan(state.rpcTimeoutMs + 2000);
    // The failures are the retryable ones a client can act on: 503/504, or no gateway to connect to.
    expect(failed.filter((a) => ![503, 504, 'refused', 'reset'].includes(a.status))).toEqual([]);
    expect(failed.length).toBeGreaterThan(0);
    expect(unexpected).toEqual([]);
    for (const count of Object.values(writes)) expect(count).toBeGreaterThan(0);

    // Nothing acknowledged was lost, nothing was applied twice.
    expect(new Set(acknowledged.pdsCreated).size).toBe(acknowledged.pdsCreated.length);
    expect(delta).toEqual({
      patients: writes['pds-create'],
      updateTargetVersion: writes['pds-update'],
      connections: writes['n3-create'],
      prescriptions: writes['eps-create'],
      patientCreatedEvents: writes['pds-create'],
      patientUpdatedEvents: writes['pds-update'],
      connectionOrderedEvents: writes['n3-create'],
      prescriptionCreatedEvents: writes['eps-create'],
    });
    const stored = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${state.schemas.eps}".prescription WHERE short_form_id = ANY($1)`,
      [acknowledged.epsCreated],
    );
    expect(Number(stored.rows[0]?.n)).toBe(acknowledged.epsCreated.length);

    // Killed, restarted and reconnecting, the processes still wrote only JSON log lines: no raw stack trace.
    for (const name of ['pds', 'n3-registry', 'eps', 'gateway']) {
      const lines = readFileSync(path.join(state.logDir, `${name}.log`), 'utf8')
        .split('\n')
        .filter(Boolean);
      expect(lines.filter((line) => !line.startsWith('{'))).toEqual([]);
    }
  }, 240_000);
});

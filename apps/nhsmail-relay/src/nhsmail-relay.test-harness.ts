import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { SignJWT } from 'jose';
import {
  headers as natsHeaders,
  JSONCodec,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import nodemailer, { type Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { SMTPServer } from 'smtp-server';
import { ERS_EVENT_STREAM } from '@platform/contracts-ers';
import { GP2GP_EVENT_STREAM } from '@platform/contracts-gp2gp';
import { N3Client } from '@platform/contracts-n3';
import { NHSMAIL_EVENTS, NhsmailRelayClient } from '@platform/contracts-nhsmail';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient, type CallContext } from '@platform/shared-nats';
import {
  dropSchema,
  startServiceUnderTest,
  startTestJwks,
  uniqueName,
  type ServiceUnderTest,
  type TestJwks,
} from '@platform/shared-testing';
import {
  startBuiltService,
  testCallerEnvironment,
  testGatewaySigner,
  type BuiltService,
} from '@platform/testing-services';
import { NhsmailRelayConfig } from './config/nhsmail.config';
import { startNhsmailRelay } from './nhsmail-relay';
import { SmtpListeners } from './smtp/smtp-listeners';

export const TEST_ISSUER = 'http://127.0.0.1:8081/realms/nhs';

let tls: { dir: string; cert: string; key: string; dkim: string } | undefined;

/**
 * A TEST-ONLY self-signed certificate and key for 127.0.0.1, made with the openssl CLI at test time in a
 * temporary folder (nothing committed). The relay's STARTTLS uses it; clients in tests do not verify it.
 */
export function testTls(): { cert: string; key: string; dkim: string } {
  if (tls) return tls;
  const dir = mkdtempSync(path.join(tmpdir(), 'nhsmail-test-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=nhsmail-relay test only',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  // A TEST-ONLY DKIM signing key.
  const dkim = path.join(dir, 'dkim.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', dkim], {
    stdio: 'ignore',
  });
  tls = { dir, cert, key, dkim };
  return tls;
}

/** A real SMTP server standing in for the smarthost (outside the platform): records what it accepts. */
export interface TestSink {
  url: string;
  port: number;
  received: { from: string; to: string[]; raw: string }[];
  /** Replies by recipient: `reject` is answered 550, `defer` 451 at RCPT; everything else is accepted. */
  stop(): Promise<void>;
}

export async function startTestSink(
  options: { delayMs?: number; host?: string; port?: number } = {},
): Promise<TestSink> {
  const received: TestSink['received'] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, done) {
      if (address.address.startsWith('reject')) {
        const error = new Error('5.1.1 no such user here') as Error & { responseCode: number };
        error.responseCode = 550;
        return done(error);
      }
      if (address.address.startsWith('defer')) {
        const error = new Error('4.2.1 mailbox busy, try later') as Error & { responseCode: number };
        error.responseCode = 451;
        return done(error);
      }
      done();
    },
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (options.delayMs) {
          setTimeout(() => {
            received.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              raw: Buffer.concat(chunks).toString('latin1'),
            });
            done();
          }, options.delayMs);
          return;
        }
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString('latin1'),
        });
        done();
      });
    },
  });
  // A client that dies mid-conversation (the relay killed by a test) is the sink's problem only.
  server.on('error', () => undefined);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://${host}:${port}`,
    port,
    received,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A running nhsmail-relay for one integration test file, with the real N3 registry (from dist/) beside it. */
export interface NhsmailRelayUnderTest extends ServiceUnderTest<INestApplication> {
  /** The typed client, as the gateway calls nhsmail-relay. */
  client: NhsmailRelayClient;
  /** The registry, as its administrator (through the same NATS). */
  n3: N3Client;
  submissionPort: number;
  relayPort: number;
  jwks: TestJwks;
  sink: TestSink;
  /** A platform access token for `username`, as the identity provider signs it. */
  token(username: string, overrides?: Record<string, unknown>): Promise<string>;
  /** Another relay process's worth (a replica, or the relay started again) on the same schema and NATS. */
  startAnother(overrides?: Partial<NhsmailRelayConfig>): Promise<INestApplication>;
}

export async function startNhsmailRelayUnderTest(options: {
  schemaPrefix: string;
  env?: Record<string, string>;
  /** Runs on the test's NATS server before the relay starts (streams and events already there at its first start). */
  beforeStart?: (natsUrl: string) => Promise<void>;
}): Promise<NhsmailRelayUnderTest> {
  const callerEnv = await testCallerEnvironment('nhsmail-relay');
  const certificate = testTls();
  const jwks = await startTestJwks();
  const sink = await startTestSink();
  let config: NhsmailRelayConfig | undefined;
  const others: INestApplication[] = [];
  const running = await startServiceUnderTest(options.schemaPrefix, async ({ natsUrl, databaseUrl, schema }) => {
    await options.beforeStart?.(natsUrl);
    config = loadConfig(NhsmailRelayConfig, {
      ...callerEnv,
      NATS_URL: natsUrl,
      DATABASE_URL: databaseUrl,
      NHSMAIL_DB_SCHEMA: schema,
      NHSMAIL_HTTP_PORT: '0',
      NHSMAIL_SUBMISSION_PORT: '0',
      NHSMAIL_RELAY_PORT: '0',
      NHSMAIL_TLS_CERT: certificate.cert,
      NHSMAIL_TLS_KEY: certificate.key,
      OIDC_ISSUER: TEST_ISSUER,
      OIDC_JWKS_URL: jwks.url,
      NHSMAIL_SMARTHOST_URL: sink.url,
      NHSMAIL_DKIM_KEY: certificate.dkim,
      NHSMAIL_DELIVERY_POLL_MS: '50',
      NHSMAIL_RETRY_BASE_SECONDS: '1',
      ...options.env,
    });
    return startNhsmailRelay(config, createLogger({ service: 'nhsmail-relay', level: 'silent' }));
  });
  const n3Schema = uniqueName(`${options.schemaPrefix}_n3`);
  let registry: BuiltService;
  try {
    registry = await startBuiltService('apps/n3-registry/src/main.js', 'N3_HTTP_PORT', {
      NATS_URL: running.natsUrl,
      DATABASE_URL: running.databaseUrl,
      N3_DB_SCHEMA: n3Schema,
      N3_SEED: 'none',
    });
  } catch (error) {
    await running.stop();
    throw error;
  }
  const signer = await testGatewaySigner();
  const rpc = new NatsRpcClient(running.connection, { timeoutMs: 10_000, signer });
  const { submissionPort, relayPort } = running.app.get(SmtpListeners).ports;
  return {
    ...running,
    client: new NhsmailRelayClient(rpc),
    n3: new N3Client(rpc),
    submissionPort,
    relayPort,
    jwks,
    sink,
    token: (username, overrides = {}) =>
      new SignJWT({
        typ: 'Bearer',
        preferred_username: username,
        aud: 'nhs-platform',
        realm_access: { roles: ['clinician'] },
        ...overrides,
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'k' })
        .setIssuer(TEST_ISSUER)
        .setSubject(`user-${username}`)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(jwks.privateKey),
    startAnother: async (overrides = {}) => {
      if (!config) throw new Error('the relay under test has no configuration');
      const another = await startNhsmailRelay(
        Object.assign(new NhsmailRelayConfig(), config, overrides),
        createLogger({ service: 'nhsmail-relay', level: 'silent' }),
      );
      others.push(another);
      return another;
    },
    stop: async () => {
      await Promise.all(others.map((another) => another.close().catch(() => undefined)));
      await registry.stop();
      await running.stop();
      await Promise.all([jwks.stop(), sink.stop(), dropSchema(running.databaseUrl, n3Schema)]);
    },
  };
}

/** A registry administrator (makes mailboxes and N3 connections). */
export function registryAdmin(requestId = randomUUID()): CallContext {
  return {
    requestId,
    caller: { id: 'registry-admin-1', username: 'registry.admin', roles: ['registry-admin'], organisation: 'X26' },
  };
}

/** Removes the test certificate's folder (after the last test file of the process, if wanted). */
export function removeTestTls(): void {
  if (tls) rmSync(tls.dir, { recursive: true, force: true });
  tls = undefined;
}

/** A raw SMTP conversation over a real socket (for what a mail library would not send: AUTH before TLS, bad input). */
export class SmtpTalk {
  private buffer = '';
  private waiting?: () => void;
  private closed = false;

  private constructor(private socket: Socket) {
    this.listen();
  }

  static async open(port: number, localAddress?: string): Promise<{ talk: SmtpTalk; greeting: string }> {
    const socket = connectTcp({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const talk = new SmtpTalk(socket);
    return { talk, greeting: await talk.reply() };
  }

  private listen(): void {
    this.socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1');
      this.waiting?.();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
    this.socket.on('error', () => undefined);
  }

  /** The next complete reply (all its lines), or '' once the server has closed the connection. */
  async reply(): Promise<string> {
    for (;;) {
      const match = /(^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(this.buffer);
      if (match) {
        const end = match.index + match[0].length;
        const text = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end);
        return text.trim();
      }
      if (this.closed) return '';
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
    }
  }

  async send(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  /** STARTTLS, then the same conversation over TLS (the test certificate is not verified). */
  async startTls(): Promise<string> {
    const answer = await this.send('STARTTLS');
    if (!answer.startsWith('220')) return answer;
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secure = connectTls({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.buffer = '';
    this.listen();
    return answer;
  }

  /** DATA, the message (dot-stuffed), and the final reply. */
  async data(message: string): Promise<string> {
    const go = await this.send('DATA');
    if (!go.startsWith('354')) return go;
    const body = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    this.socket.write(`${body}\r\n.\r\n`);
    return this.reply();
  }

  /** MAIL FROM, RCPT TO and DATA for one message: the final reply. */
  async mail(from: string, to: string, message: string): Promise<string> {
    await this.send(`MAIL FROM:<${from}>`);
    await this.send(`RCPT TO:<${to}>`);
    return this.data(message);
  }

  write(raw: string | Buffer): void {
    this.socket.write(raw);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Polls `probe` until `done` holds (at most 5 s), and returns its last value. */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms = 5000): Promise<T> {
  let value = await probe();
  for (const deadline = Date.now() + ms; !done(value) && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await probe();
  }
  return value;
}

/** A nodemailer client of the submission port: STARTTLS required, the test certificate not verified. */
export function submissionClient(
  port: number,
  auth: SMTPTransport.Options['auth'],
  pooled = false,
): Transporter<SMTPTransport.SentMessageInfo> {
  if (pooled) {
    // One signed-in connection for many messages (as a mail client keeps one open).
    return nodemailer.createTransport({
      pool: true,
      maxConnections: 1,
      maxMessages: Infinity,
      host: '127.0.0.1',
      port,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth,
    }) as unknown as Transporter<SMTPTransport.SentMessageInfo>;
  }
  const options: SMTPTransport.Options = {
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    auth,
  };
  return nodemailer.createTransport(options);
}

/** Jane Smith's personal mailbox, jane.smith@nhs.net, made by the registry administrator: she signs in with `password`. */
export async function createJaneSmith(relay: NhsmailRelayUnderTest, password: string): Promise<void> {
  await relay.client.createMailbox(
    {
      address: 'jane.smith@nhs.net',
      kind: 'personal',
      displayName: 'Jane Smith',
      ownerUsername: 'jane.smith',
      password,
    },
    registryAdmin(),
  );
}

/** John Jones's personal mailbox, john.jones@nhs.net (no password: he only receives), made by the registry administrator. */
export async function createJohnJones(relay: NhsmailRelayUnderTest): Promise<void> {
  await relay.client.createMailbox(
    { address: 'john.jones@nhs.net', kind: 'personal', displayName: 'John Jones', ownerUsername: 'john.jones' },
    registryAdmin(),
  );
}

/** Jane Smith sends `mail` from jane.smith@nhs.net through the submission port, signed in with `password`. */
export async function sendAsJane(
  relay: NhsmailRelayUnderTest,
  password: string,
  mail: Omit<Mail.Options, 'from'>,
): Promise<void> {
  const jane = submissionClient(relay.submissionPort, { user: 'jane.smith@nhs.net', pass: password });
  await jane.sendMail({ from: 'jane.smith@nhs.net', ...mail });
  jane.close();
}

/**
 * The services' event streams the relay's notice consumers read (gp2gp's and e-referrals'), as those services
 * create them at start; `duplicateWindowMs`: their outboxes' duplicate window, shortened (default: NATS's).
 */
export async function addEventStreams(
  manager: JetStreamManager,
  options: { duplicateWindowMs?: number } = {},
): Promise<void> {
  for (const [name, subjects] of [
    [GP2GP_EVENT_STREAM, ['gp2gp.transfer.*.v1']],
    [ERS_EVENT_STREAM, ['ers.referral.*.v1', 'ers.advice.*.v1']],
  ] as const) {
    await manager.streams.add({
      name,
      subjects: [...subjects],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      ...(options.duplicateWindowMs === undefined ? {} : { duplicate_window: options.duplicateWindowMs * 1_000_000 }),
    });
  }
}

const eventCodec = JSONCodec();

/** Publishes an event as the services' outboxes publish them: JSON, with its event ID as Nats-Msg-Id. */
export async function publishEvent(
  nats: NatsConnection,
  subject: string,
  payload: unknown,
  eventId: string,
): Promise<void> {
  const headers = natsHeaders();
  headers.set('Nats-Msg-Id', eventId);
  await nats.jetstream().publish(subject, eventCodec.encode(payload), { msgID: eventId, headers });
}

/** The `n` of a `SELECT count(*) AS n ...` on the relay's database. */
export async function countOf(relay: NhsmailRelayUnderTest, sql: string, values: unknown[] = []): Promise<number> {
  const result = await relay.db.query<{ n: string }>(sql, values);
  return Number(result.rows[0]?.n);
}

/** A delivery of a message, with the count of its delivered events in the outbox. */
export interface DeliveryWithEvents {
  recipient: string;
  state: string;
  attempts: number;
  /** The transaction that last wrote the row. */
  xmin: string;
  events: number;
}

/** The deliveries of the messages whose subject is LIKE `subject`, by recipient, each with its delivered events. */
export async function deliveriesWithEvents(
  relay: NhsmailRelayUnderTest,
  subject: string,
): Promise<DeliveryWithEvents[]> {
  const result = await relay.db.query<DeliveryWithEvents>(
    `SELECT d.recipient, d.state, d.attempts, d.xmin::text AS xmin,
            (SELECT count(*)::int FROM "${relay.schema}".outbox o
              WHERE o.subject = $2 AND o.payload->>'deliveryId' = d.id::text) AS events
       FROM "${relay.schema}".delivery d JOIN "${relay.schema}".message m ON m.id = d.message
      WHERE m.subject LIKE $1 ORDER BY d.recipient`,
    [subject, NHSMAIL_EVENTS.messageDelivered],
  );
  return result.rows;
}

/** The messages delivered into a mailbox (its mailbox_message rows). */
export function deliveredTo(relay: NhsmailRelayUnderTest, address: string): Promise<number> {
  return countOf(relay, `SELECT count(*) AS n FROM "${relay.schema}".mailbox_message WHERE mailbox = $1`, [address]);
}

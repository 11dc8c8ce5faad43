import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AckPolicy, connect, DeliverPolicy, Events, JSONCodec, type NatsConnection, type Status } from 'nats';
import { SERVICES, serviceNamed } from '@platform/shared-catalogue';
import { ensureEventStream } from '@platform/shared-persistence';
import { natsEndpointOptions } from '@platform/shared-nats';
import { freePort } from '@platform/shared-testing';
import { EPS_EVENT_STREAM, EPS_EVENTS } from '@platform/contracts-eps';
import { GP2GP_FRAGMENT_BUCKET } from '@platform/contracts-gp2gp';
import { importBucket, N3_EVENT_STREAM, N3_EVENTS, storeExtract } from '@platform/contracts-n3';
import { PDS_EVENT_STREAM, PDS_EVENTS } from '@platform/contracts-pds';
import { natsServerBinary, startNatsServer, type NatsProcess } from './infrastructure';
import {
  GATEWAY_NATS_USER,
  natsServerConfig,
  natsUrlFor,
  natsUsers,
  TEST_NATS_USER,
  writeNatsServerConfig,
  type NatsUser,
} from './nats-auth';

/**
 * The launcher's nats-server configuration, run by the real nats-server (2.9), attacked: every process of
 * the catalogue connects with its own user; what its permissions do not allow is refused by the server.
 */
const binary = natsServerBinary();
const describeWithNats = binary ? describe : describe.skip;

const EVENTS_BY_STREAM: Record<string, readonly string[]> = {
  [PDS_EVENT_STREAM]: Object.values(PDS_EVENTS),
  [N3_EVENT_STREAM]: Object.values(N3_EVENTS),
  [EPS_EVENT_STREAM]: Object.values(EPS_EVENTS),
};

describeWithNats('NATS credentials and subject permissions (nats-server with the launcher configuration)', () => {
  const host = '127.0.0.1';
  let port: number;
  let dir: string;
  let configFile: string;
  let server: NatsProcess;
  let users: Map<string, NatsUser>;
  const open: NatsConnection[] = [];

  /** Connects as one of the configured users, through the platform's own option parsing (NATS_URL). */
  async function as(user: string): Promise<NatsConnection> {
    const found = users.get(user);
    if (!found) throw new Error(`no user ${user}`);
    const connection = await connect({
      ...natsEndpointOptions(natsUrlFor(user, found.password, host, port), {}),
      name: `attacker-as-${user}`,
    });
    open.push(connection);
    return connection;
  }

  /** The permission violations the server reports on this connection, as `<operation> <subject>`. */
  function violations(connection: NatsConnection): string[] {
    const seen: string[] = [];
    void (async () => {
      for await (const status of connection.status() as AsyncIterable<
        Status & { permissionContext?: { operation: string; subject: string } }
      >) {
        if (status.type === Events.Error && status.permissionContext)
          seen.push(`${status.permissionContext.operation} ${status.permissionContext.subject}`);
      }
    })();
    return seen;
  }

  async function settle(connection: NatsConnection): Promise<void> {
    await connection.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  /** True when the server refuses this subscription (it never delivers anything to it). */
  async function subscriptionRefused(connection: NatsConnection, subject: string): Promise<boolean> {
    const seen = violations(connection);
    connection.subscribe(subject);
    await settle(connection);
    return seen.includes(`subscription ${subject}`);
  }

  async function publishRefused(connection: NatsConnection, subject: string): Promise<boolean> {
    const seen = violations(connection);
    connection.publish(subject, JSONCodec().encode({ forged: true }));
    await settle(connection);
    return seen.includes(`publish ${subject}`);
  }

  beforeAll(async () => {
    port = await freePort();
    dir = mkdtempSync(path.join(tmpdir(), 'nats-auth-'));
    users = natsUsers({ testPassword: 'test-password-of-this-run' });
    configFile = path.join(dir, 'nats-server.conf');
    writeNatsServerConfig(configFile, natsServerConfig({ host, port, storeDir: path.join(dir, 'nats'), users }));
    server = await startNatsServer(binary ?? '', configFile, host, port);
  });

  afterAll(async () => {
    await Promise.all(open.map((connection) => connection.close().catch(() => undefined)));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the configuration readable by its owner only, with a new password per process and run', () => {
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    const passwords = [...users.values()].map((user) => user.password);
    expect(new Set(passwords).size).toBe(passwords.length);
    expect(natsUsers().get('pds')?.password).not.toBe(users.get('pds')?.password);
    expect([...users.keys()].sort()).toEqual(
      [...SERVICES.map((s) => s.name), GATEWAY_NATS_USER, TEST_NATS_USER].sort(),
    );
  });

  it('refuses a client without credentials, and one with a wrong password', async () => {
    await expect(connect({ servers: `${host}:${port}`, reconnect: false })).rejects.toMatchObject({
      code: 'AUTHORIZATION_VIOLATION',
    });
    await expect(
      connect({ servers: `${host}:${port}`, user: 'pds', pass: 'not-the-password', reconnect: false }),
    ).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    await expect(
      connect({ servers: `${host}:${port}`, user: 'gateway', pass: users.get('pds')?.password, reconnect: false }),
    ).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
  });

  it("pds's credentials cannot listen to EPS's requests or call the registry, nor read others' replies", async () => {
    const pds = await as('pds');
    expect(await subscriptionRefused(pds, 'eps.>')).toBe(true);
    expect(await subscriptionRefused(pds, '>')).toBe(true);
    expect(await subscriptionRefused(pds, '_INBOX.>')).toBe(true);
    expect(await subscriptionRefused(pds, '_INBOX.gateway.>')).toBe(true);
    expect(await publishRefused(pds, 'n3.ip-allocation.create.v1')).toBe(true);
    expect(await publishRefused(pds, 'eps.prescriber-key.register.v1')).toBe(true);
    // Its own subjects are its to serve.
    expect(await subscriptionRefused(pds, 'pds.>')).toBe(false);
  });

  it("the gateway's credentials call every service but cannot listen to any service's requests", async () => {
    const gateway = await as(GATEWAY_NATS_USER);
    for (const service of SERVICES) {
      expect(await subscriptionRefused(gateway, `${service.subjectPrefix}.>`)).toBe(true);
      expect(await publishRefused(gateway, `${service.subjectPrefix}.health.check.v1`)).toBe(false);
    }
    expect(await subscriptionRefused(gateway, '_INBOX.>')).toBe(true);
    expect(await subscriptionRefused(gateway, '_INBOX.eps.>')).toBe(true);
    // Nor manage the services' streams.
    expect(await publishRefused(gateway, `$JS.API.STREAM.DELETE.${PDS_EVENT_STREAM}`)).toBe(true);
  });

  it('nobody but a service publishes its events: the gateway and the test user cannot forge one into its stream', async () => {
    const gateway = await as(GATEWAY_NATS_USER);
    const test = await as(TEST_NATS_USER);
    const eps = await as('eps');
    for (const service of SERVICES) {
      for (const event of service.events ?? []) {
        expect([event, await publishRefused(gateway, event)]).toEqual([event, true]);
        expect([event, await publishRefused(test, event)]).toEqual([event, true]);
      }
    }
    expect(await publishRefused(eps, 'eps.prescription.released.v1')).toBe(false);
    expect(await publishRefused(eps, 'pds.patient.deceased.v1')).toBe(true);
  });

  it("EPS's credentials can ask PDS for a patient, and nothing else of PDS's", async () => {
    const pds = await as('pds');
    pds.subscribe('pds.patient.get.v1', {
      queue: 'pds',
      callback: (_error, message) => message.respond(JSONCodec().encode({ answered: message.subject })),
    });
    const n3 = await as('n3-registry');
    n3.subscribe('n3.organisation.get.v1', {
      queue: 'n3-registry',
      callback: (_error, message) => message.respond(JSONCodec().encode({ answered: message.subject })),
    });
    await Promise.all([pds.flush(), n3.flush()]);
    const eps = await as('eps');
    const reply = await eps.request('pds.patient.get.v1', JSONCodec().encode({ nhsNumber: '9000000009' }), {
      timeout: 2000,
    });
    expect(JSONCodec().decode(reply.data)).toEqual({ answered: 'pds.patient.get.v1' });
    const organisation = await eps.request('n3.organisation.get.v1', JSONCodec().encode({}), { timeout: 2000 });
    expect(JSONCodec().decode(organisation.data)).toEqual({ answered: 'n3.organisation.get.v1' });
    // The server refuses the publish: the request fails at once with a permissions error.
    await expect(eps.request('pds.patient.update.v1', JSONCodec().encode({}), { timeout: 2000 })).rejects.toMatchObject(
      { code: 'PERMISSIONS_VIOLATION' },
    );
    expect(await publishRefused(eps, 'pds.patient.update.v1')).toBe(true);
    expect(await publishRefused(eps, 'n3.ip-allocation.create.v1')).toBe(true);
    expect(await subscriptionRefused(eps, 'pds.patient.get.v1')).toBe(true);
  });

  it('a service answers only the requests it received: it cannot publish into an inbox of its own choosing', async () => {
    const pds = await as('pds');
    expect(await publishRefused(pds, '_INBOX.gateway.forged-reply')).toBe(true);
  });

  it.each(SERVICES.filter((service) => service.eventStream).map((service) => [service.name]))(
    '%s creates and updates its own stream and publishes its events, and cannot touch another stream',
    async (name) => {
      const service = serviceNamed(name);
      const stream = service.eventStream ?? '';
      const connection = await as(name);
      const subjects = EVENTS_BY_STREAM[stream] ?? [];
      // Created with one subject, then brought up to date with all: create and update both allowed.
      await ensureEventStream(connection, stream, subjects.slice(0, 1));
      await ensureEventStream(connection, stream, subjects);
      const jetstream = connection.jetstream();
      for (const subject of subjects) {
        const ack = await jetstream.publish(subject, JSONCodec().encode({ test: true }), {
          msgID: `${name}-${subject}-test`,
        });
        expect(ack.stream).toBe(stream);
      }
      const other = Object.keys(EVENTS_BY_STREAM).find((candidate) => candidate !== stream) ?? '';
      expect(await publishRefused(connection, `$JS.API.STREAM.DELETE.${stream}`)).toBe(true);
      expect(await publishRefused(connection, `$JS.API.STREAM.CREATE.${other}`)).toBe(true);
      expect(await publishRefused(connection, `$JS.API.STREAM.PURGE.${other}`)).toBe(true);
      expect(await publishRefused(connection, `$JS.API.CONSUMER.CREATE.${other}`)).toBe(true);
      expect(await publishRefused(connection, EVENTS_BY_STREAM[other]?.[0] ?? '')).toBe(true);
    },
  );

  it('the gateway puts an ODS extract into n3-imports; the registry reads and deletes it; nobody else can', async () => {
    const n3 = await as('n3-registry');
    await importBucket(n3); // the registry creates the bucket at start
    const gateway = await as(GATEWAY_NATS_USER);
    const extract = new TextEncoder().encode('ODS,Name\nVNE51,Test\n'.repeat(20_000));
    await storeExtract(gateway, 'import-test', extract);
    const bucket = await importBucket(n3);
    const object = await bucket.getBlob('import-test');
    expect(object?.length).toBe(extract.length);
    await bucket.delete('import-test');
    expect((await bucket.info('import-test'))?.deleted).toBe(true);
    expect(await bucket.getBlob('import-test')).toBeNull();
    // The gateway cannot read extracts back (no consumer), nor can pds or eps put one.
    expect(await publishRefused(gateway, '$JS.API.CONSUMER.CREATE.OBJ_n3-imports')).toBe(true);
    expect(await publishRefused(gateway, '$JS.API.STREAM.PURGE.OBJ_n3-imports')).toBe(true);
    const pds = await as('pds');
    await expect(storeExtract(pds, 'import-forged', extract)).rejects.toThrow();
    expect(await publishRefused(pds, '$O.n3-imports.M.forged')).toBe(true);
  });

  it('gp2gp puts fragments of several store messages into its own bucket; no other service can', async () => {
    const fragment = new Uint8Array(1536 * 1024).fill(7);
    const gp2gp = await as('gp2gp');
    const bucket = await gp2gp.jetstream().views.os(GP2GP_FRAGMENT_BUCKET);
    await bucket.putBlob({ name: 'c/0/0/0', options: { max_chunk_size: 512 * 1024 } }, fragment);
    expect((await bucket.info('c/0/0/0'))?.size).toBe(fragment.length);
    expect(await publishRefused(await as('pds'), `$O.${GP2GP_FRAGMENT_BUCKET}.C.forged`)).toBe(true);
  });

  it("the relay follows GP2GP's and e-RS's events through its own durable consumers, and no others", async () => {
    const { consumes = [] } = serviceNamed('nhsmail-relay');
    const timedOut = consumes.find((consumer) => consumer.subject === 'gp2gp.transfer.timed-out.v1');
    if (!timedOut) throw new Error('the catalogue lists no consumer of GP2GP timeouts for nhsmail-relay');
    const gp2gp = await as('gp2gp');
    await ensureEventStream(gp2gp, timedOut.stream, serviceNamed('gp2gp').events ?? []);
    await gp2gp.jetstream().publish(timedOut.subject, JSONCodec().encode({ conversationId: 'c' }));
    // As notices/practice-notices.ts does: create the durable, look it up, pull, acknowledge.
    const relay = await as('nhsmail-relay');
    const manager = await relay.jetstreamManager();
    await manager.consumers.add(timedOut.stream, {
      durable_name: timedOut.durable,
      filter_subject: timedOut.subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });
    const consumer = await relay.jetstream().consumers.get(timedOut.stream, timedOut.durable);
    const message = await consumer.next({ expires: 5000 });
    expect(message?.subject).toBe(timedOut.subject);
    await message?.ackAck();
    expect((await manager.consumers.info(timedOut.stream, timedOut.durable)).num_ack_pending).toBe(0);
    // Another consumer (another name, or every GP2GP event) and the stream itself are refused.
    await expect(
      manager.consumers.add(timedOut.stream, {
        durable_name: 'nhsmail-everything',
        filter_subject: 'gp2gp.transfer.completed.v1',
        ack_policy: AckPolicy.Explicit,
      }),
    ).rejects.toThrow();
    expect(await publishRefused(relay, `$JS.API.CONSUMER.CREATE.${timedOut.stream}`)).toBe(true);
    expect(await publishRefused(relay, `$JS.API.STREAM.PURGE.${timedOut.stream}`)).toBe(true);
    expect(await publishRefused(relay, timedOut.subject)).toBe(true);
  });

  it('every n3-registry replica follows the N3 events with a core subscription', async () => {
    const replica = await as('n3-registry');
    const subscription = replica.subscribe(N3_EVENTS.allocationAssigned, { max: 1 });
    await replica.flush();
    const publisher = await as('n3-registry');
    publisher.publish(N3_EVENTS.allocationAssigned, JSONCodec().encode({ allocationId: 'a' }));
    for await (const message of subscription) expect(message.subject).toBe(N3_EVENTS.allocationAssigned);
  });

  it('the test user calls services and reads stream info, and cannot listen to requests or manage streams', async () => {
    const test = await as(TEST_NATS_USER);
    const manager = await test.jetstreamManager();
    expect((await manager.streams.info(PDS_EVENT_STREAM)).config.name).toBe(PDS_EVENT_STREAM);
    expect(await subscriptionRefused(test, 'pds.>')).toBe(true);
    expect(await publishRefused(test, `$JS.API.STREAM.DELETE.${PDS_EVENT_STREAM}`)).toBe(true);
  });
});

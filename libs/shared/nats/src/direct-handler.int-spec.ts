import { randomBytes } from 'node:crypto';
import { connect, Events, headers as natsHeaders, type NatsConnection } from 'nats';
import { PlatformError } from '@platform/shared-errors';
import { createLogger } from '@platform/shared-logging';
import { allAtOnce, outcomes, startTestNats, type TestNats } from '@platform/shared-testing';
import { CallerAdmission } from './caller-guard';
import type { CallerAssertionVerifier } from './caller-assertion';
import { RAW_REPLY_HEADER, RAW_REPLY_PART_HEADER, RAW_REPLY_PARTS_HEADER, serveDirect } from './direct-handler';
import { NatsRpcClient } from './rpc-client';

const SUBJECT = 'test.document.get.v1';

describe('serveDirect raw replies against a real NATS server', () => {
  let nats: TestNats;
  let service: NatsConnection;
  let caller: NatsConnection;
  let rpc: NatsRpcClient;
  /** What went wrong with the caller's connection (a disconnect, say for a slow consumer, loses replies in flight). */
  const connectionTrouble: string[] = [];
  /** Documents by name: some under a NATS message, some several times larger than one (1 MiB by default). */
  const documents = new Map<string, Buffer>([
    ['small', Buffer.from('{"resourceType":"List"}')],
    ['exact', randomBytes(1024 * 1024 - 16 * 1024)],
    ['three', randomBytes(3 * 1024 * 1024 + 7)],
    ['seven', randomBytes(6_500_000)],
  ]);

  beforeAll(async () => {
    nats = await startTestNats();
    service = await connect({ servers: nats.url });
    caller = await connect({ servers: nats.url });
    rpc = new NatsRpcClient(caller, { timeoutMs: 10_000 });
    void (async () => {
      for await (const status of caller.status()) {
        if (status.type === Events.Disconnect || status.type === Events.Error)
          connectionTrouble.push(`${status.type} ${JSON.stringify(status.data)}`);
      }
    })();
    const logger = createLogger({ service: 'direct-handler-test', level: 'silent' });
    // A public subject: this suite is about the replies; the caller checks have their own tests.
    const admission = new CallerAdmission({} as CallerAssertionVerifier, { [SUBJECT]: { public: true } }, logger);
    serveDirect<string>(service, {
      subject: SUBJECT,
      queue: 'test',
      admission,
      logger,
      parse: (data) => {
        const name = (data as { name?: unknown } | undefined)?.name;
        if (typeof name !== 'string') throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'name' });
        return name;
      },
      handle: (name) => {
        const body = documents.get(name);
        if (!body) return Promise.reject(new PlatformError('RESOURCE_NOT_FOUND'));
        return Promise.resolve({ body, headers: { 'X-Version-Id': String(body.length) } });
      },
    });
    await service.flush();
  });

  afterAll(async () => {
    await caller?.close();
    await service?.close();
    await nats?.stop();
  });

  const read = async (name: string, client = rpc): Promise<{ body: Buffer; version?: string }> => {
    const answer = await client.requestRaw(SUBJECT, { name }, { requestId: `read-${name}` });
    if (!answer.raw) throw new Error('expected a raw reply');
    return { body: Buffer.from(answer.body), version: answer.header('X-Version-Id') };
  };

  it.each([...documents.keys()])('answers the %s document byte for byte, with its headers', async (name) => {
    const { body, version } = await read(name);
    expect(body.equals(documents.get(name) ?? Buffer.alloc(0))).toBe(true);
    expect(version).toBe(String(documents.get(name)?.length));
  });

  it('sends a document larger than a NATS message in parts, the first with the count and the headers', async () => {
    const inbox = `_INBOX.parts.${Date.now()}`;
    const seen: { index?: string; count?: string; raw?: string; version?: string; bytes: number }[] = [];
    const done = new Promise<void>((resolve) => {
      caller.subscribe(inbox, {
        callback: (_error, message) => {
          seen.push({
            index: message.headers?.get(RAW_REPLY_PART_HEADER) || undefined,
            count: message.headers?.get(RAW_REPLY_PARTS_HEADER) || undefined,
            raw: message.headers?.get(RAW_REPLY_HEADER) || undefined,
            version: message.headers?.get('X-Version-Id') || undefined,
            bytes: message.data.length,
          });
          if (seen.length === Number(seen[0]?.count)) resolve();
        },
      });
    });
    caller.publish(
      SUBJECT,
      new TextEncoder().encode(JSON.stringify({ pattern: SUBJECT, data: { name: 'three' }, id: '1' })),
      {
        reply: inbox,
        headers: natsHeaders(),
      },
    );
    await done;
    expect(seen.map((part) => part.index)).toEqual(['0', '1', '2', '3']);
    expect(seen[0]).toMatchObject({ count: '4', raw: 'raw', version: String(3 * 1024 * 1024 + 7) });
    expect(seen.slice(1).every((part) => part.count === undefined && part.version === undefined)).toBe(true);
    expect(seen.reduce((sum, part) => sum + part.bytes, 0)).toBe(3 * 1024 * 1024 + 7);
    expect(Math.max(...seen.map((part) => part.bytes))).toBeLessThanOrEqual(caller.info?.max_payload ?? 0);
  });

  // The 40 requests leave together and their replies, 105 MB in all, come back one after another over the one
  // connection (each reply's parts are written together, in the order the requests were answered), so the last
  // read waits for the whole transfer, not for one document: 1 to 6.5 s measured on a busy 2-core machine, and
  // over the suite's 10 s in one loaded CI run, where the last 5 reads failed REC_GATEWAY_TIMEOUT. These reads
  // get a timeout that covers the transfer; what they must get back does not change, and a lost connection (the
  // server cutting off a slow consumer, which would lose replies) is named rather than left to look like a timeout.
  it('40 simultaneous reads of large and small documents each get their own document whole', async () => {
    const unhurried = new NatsRpcClient(caller, { timeoutMs: 60_000 });
    const names = [...documents.keys()];
    let next = 0;
    const results = outcomes(
      await allAtOnce(40, 75_000, async () => {
        const name = names[next++ % names.length] ?? 'small';
        const { body } = await read(name, unhurried);
        return body.equals(documents.get(name) ?? Buffer.alloc(0)) ? 'whole' : `wrong ${name}`;
      }),
    );
    expect(connectionTrouble).toEqual([]);
    expect(results).toEqual(Array.from({ length: 40 }, () => 'whole'));
  }, 90_000);

  it('still answers a failure in the envelope', async () => {
    await expect(read('missing')).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
    await expect(rpc.requestRaw(SUBJECT, { other: 1 }, { requestId: 'bad' })).rejects.toMatchObject({
      code: 'INVALID_VALUE',
    });
  });
});

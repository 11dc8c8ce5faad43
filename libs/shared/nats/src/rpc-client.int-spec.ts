import { randomBytes } from 'node:crypto';
import { connect, Events, headers as natsHeaders, type Msg, type NatsConnection } from 'nats';
import { startTestNats, type TestNats } from '@platform/shared-testing';
import { RAW_REPLY, RAW_REPLY_HEADER, RAW_REPLY_PART_HEADER, RAW_REPLY_PARTS_HEADER } from './direct-handler';
import { NatsRpcClient } from './rpc-client';

/** Answers with the first of three parts only, then says so on MARKER (the rest went with a lost connection). */
const CUT_SUBJECT = 'test.rpc.cut.v1';
/** Holds each request until the test answers it. */
const HELD_SUBJECT = 'test.rpc.held.v1';
const MARKER = 'test.rpc.first-part-sent';
const PART_BYTES = 256 * 1024;

/** The `index`th of `count` parts of a raw reply, as `serveDirect` sends them. */
function part(message: Msg, body: Buffer, index: number, count: number): void {
  const headers = natsHeaders();
  if (index === 0) {
    headers.set(RAW_REPLY_HEADER, RAW_REPLY);
    headers.set(RAW_REPLY_PARTS_HEADER, String(count));
  }
  headers.set(RAW_REPLY_PART_HEADER, String(index));
  message.respond(body.subarray(index * PART_BYTES, (index + 1) * PART_BYTES), { headers });
}

describe('NatsRpcClient when its connection is lost, against a real NATS server', () => {
  let nats: TestNats;
  let service: NatsConnection;
  let caller: NatsConnection;
  let rpc: NatsRpcClient;
  const body = randomBytes(3 * PART_BYTES);
  const held: Msg[] = [];
  let heldArrived: () => void = () => undefined;
  let firstPartSeen: () => void = () => undefined;
  let reconnected: () => void = () => undefined;

  const next = (set: (resolve: () => void) => void): Promise<void> => new Promise<void>((resolve) => set(resolve));

  beforeAll(async () => {
    nats = await startTestNats();
    service = await connect({ servers: nats.url });
    caller = await connect({ servers: nats.url, reconnectTimeWait: 100 });
    rpc = new NatsRpcClient(caller, { timeoutMs: 10_000 });
    void (async () => {
      for await (const status of caller.status()) if (status.type === Events.Reconnect) reconnected();
    })();
    service.subscribe(CUT_SUBJECT, {
      callback: (_error, message) => {
        part(message, body, 0, 3);
        service.publish(MARKER);
      },
    });
    service.subscribe(HELD_SUBJECT, {
      callback: (_error, message) => {
        held.push(message);
        heldArrived();
      },
    });
    // NATS delivers one publisher's messages to one connection in order: the marker comes after the first part.
    caller.subscribe(MARKER, { callback: () => firstPartSeen() });
    await service.flush();
    await caller.flush();
  });

  afterAll(async () => {
    await caller?.close();
    await service?.close();
    await nats?.stop();
  });

  /** Drops the caller's connection (the server is untouched) and waits until nats.js has it back. */
  const dropCaller = async (): Promise<void> => {
    const back = next((resolve) => (reconnected = resolve));
    await caller.reconnect();
    await back;
    await caller.flush();
  };

  it('fails at once, retryable, when the connection is lost with a multi-part reply half received', async () => {
    const seen = next((resolve) => (firstPartSeen = resolve));
    const started = Date.now();
    const outcome = rpc.requestRaw(CUT_SUBJECT, { name: 'cut' }, { requestId: 'cut' }).then(
      () => 'answered',
      (error: unknown) => error,
    );
    await seen;
    await dropCaller();
    const error = await outcome;
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ code: 'REC_UNAVAILABLE', headers: { 'Retry-After': '5' } });
    expect((error as { httpStatus?: number }).httpStatus).toBe(503);
    // Well inside the 10 s timeout: before, this request waited for it and failed REC_GATEWAY_TIMEOUT.
    expect(elapsed).toBeLessThan(2_000);
  });

  it('still answers a request with nothing received when the connection was lost, once it is back', async () => {
    held.length = 0;
    const arrived = next((resolve) => (heldArrived = resolve));
    const seen = next((resolve) => (firstPartSeen = resolve));
    const waiting = rpc.requestRaw(HELD_SUBJECT, { name: 'held' }, { requestId: 'held' });
    const cut = rpc.requestRaw(CUT_SUBJECT, { name: 'cut' }, { requestId: 'cut-beside' }).then(
      () => 'answered',
      (error: unknown) => (error as { code?: string }).code,
    );
    await Promise.all([arrived, seen]);
    await dropCaller();
    // The reply, in parts, only after the reconnect: it comes to the subscription nats.js made again.
    const message = held[0];
    if (!message) throw new Error('the held request did not arrive');
    for (let index = 0; index < 3; index += 1) part(message, body, index, 3);
    const answer = await waiting;
    expect(answer.raw).toBe(true);
    expect(answer.raw && Buffer.from(answer.body).equals(body)).toBe(true);
    expect(await cut).toBe('REC_UNAVAILABLE');
  });
});

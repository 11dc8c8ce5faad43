import { connect, type NatsConnection } from 'nats';
import { startTestNats, type TestNats } from '@platform/shared-testing';
import { coalesceWrites } from './coalesce-writes';

interface Transport {
  send(frame: Uint8Array): void;
}

/** Counts the socket writes a connection makes (its transport's sends). */
function countWrites(connection: NatsConnection): { readonly count: number } {
  const transport = (connection as unknown as { protocol: { transport: Transport } }).protocol.transport;
  const send = transport.send.bind(transport);
  const counter = { count: 0 };
  transport.send = (frame) => {
    counter.count += 1;
    send(frame);
  };
  return counter;
}

/** `count` publishes, each from its own callback in one turn of the event loop (as HTTP requests arrive). */
function publishFromSeparateCallbacks(connection: NatsConnection, subject: string, count: number): Promise<void> {
  return new Promise((resolve) => {
    let left = count;
    for (let index = 0; index < count; index += 1) {
      setImmediate(() => {
        connection.publish(subject, new TextEncoder().encode(String(index)));
        left -= 1;
        if (left === 0) resolve();
      });
    }
  });
}

describe('coalesceWrites against a real NATS server', () => {
  let nats: TestNats;
  let receiver: NatsConnection;

  beforeAll(async () => {
    nats = await startTestNats();
    receiver = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await receiver?.close();
    await nats?.stop();
  });

  async function received(
    subject: string,
    expected: number,
    send: (subject: string) => Promise<void>,
  ): Promise<string[]> {
    const subscription = receiver.subscribe(subject, { max: expected, timeout: 5000 });
    await receiver.flush();
    const messages: string[] = [];
    const done = (async () => {
      for await (const message of subscription) messages.push(new TextDecoder().decode(message.data));
    })();
    await send(subject);
    await done;
    return messages;
  }

  it('sends what 50 callbacks of one event-loop turn publish in one write, and every message arrives in order', async () => {
    const plain = await connect({ servers: nats.url });
    const coalesced = await connect({ servers: nats.url });
    coalesceWrites(coalesced);
    const plainWrites = countWrites(plain);
    const coalescedWrites = countWrites(coalesced);
    const expected = Array.from({ length: 50 }, (_, index) => String(index));

    expect(await received('plain', 50, (subject) => publishFromSeparateCallbacks(plain, subject, 50))).toEqual(
      expected,
    );
    expect(await received('coalesced', 50, (subject) => publishFromSeparateCallbacks(coalesced, subject, 50))).toEqual(
      expected,
    );

    expect(plainWrites.count).toBeGreaterThanOrEqual(50);
    expect(coalescedWrites.count).toBeLessThanOrEqual(2);
    await Promise.all([plain.close(), coalesced.close()]);
  });

  it('still answers requests, and writes what is pending when the connection closes', async () => {
    const server = await connect({ servers: nats.url });
    coalesceWrites(server);
    server.subscribe('echo', { callback: (_error, message) => message.respond(message.data) });
    await server.flush();
    const reply = await receiver.request('echo', new TextEncoder().encode('hello'), { timeout: 2000 });
    expect(new TextDecoder().decode(reply.data)).toBe('hello');

    const last = await received('last-words', 1, async (subject) => {
      server.publish(subject, new TextEncoder().encode('bye'));
      await server.close();
    });
    expect(last).toEqual(['bye']);
  });

  it('wraps a connection once, however often it is applied', async () => {
    const connection = await connect({ servers: nats.url });
    const protocol = (connection as unknown as { protocol: { flushPending: unknown; _close: unknown } }).protocol;
    coalesceWrites(connection);
    const wrapped = { flushPending: protocol.flushPending, close: protocol._close };
    coalesceWrites(connection);
    expect(protocol.flushPending).toBe(wrapped.flushPending);
    expect(protocol._close).toBe(wrapped.close);
    const writes = countWrites(connection);
    expect(
      await received('twice', 10, (subject) => publishFromSeparateCallbacks(connection, subject, 10)),
    ).toHaveLength(10);
    expect(writes.count).toBeLessThanOrEqual(2);
    await connection.close();
  });
});

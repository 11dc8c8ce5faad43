import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Events, type NatsConnection } from 'nats';
import { connectNats } from '@platform/shared-nats';
import { startTestNats, type TestNats } from '@platform/shared-testing';
import { FragmentStore, StoreUnavailable } from './fragment-store';

const KiB = 1024;

/**
 * Issue 14: reading a stored fragment back while NATS restarts. The store not answering is not the fragment
 * missing or altered: the read fails as StoreUnavailable (the transfer's step is tried again), never as a
 * fragment cut short (which fails the transfer for good with 29), and the same read succeeds once NATS is back.
 */
describe('FragmentStore across a NATS restart (real nats-server)', () => {
  let nats: TestNats;
  let connection: NatsConnection;
  let store: FragmentStore;

  beforeAll(async () => {
    nats = await startTestNats();
    connection = await connectNats({ url: nats.url, name: 'gp2gp-fragment-store-test' });
    store = await FragmentStore.open(connection, 0);
  });
  afterAll(async () => {
    await connection?.close();
    await nats?.stop();
  });

  it('fails a read-back cut by a NATS outage as the store unavailable, and reads it whole once NATS is back', async () => {
    const bytes = randomBytes(1536 * KiB); // three store messages of 512 KiB
    const put = await store.put('restart/0/0/0', Readable.from([bytes]));
    expect(put).toEqual({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });

    const reading = (await store.read('restart/0/0/0'))![Symbol.asyncIterator]();
    const first = await reading.next();
    expect(first.value).toHaveLength(512 * KiB);
    // nats-server is killed (its replies lost) and stays away longer than a direct get waits (10 s).
    const restarted = nats.restart(11_000);
    const away = (async () => {
      for await (const status of connection.status()) if (status.type === Events.Disconnect) return;
    })();
    await away;
    const failure = await reading.next().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StoreUnavailable);
    await restarted;

    const again = createHash('sha256');
    let length = 0;
    for (;;) {
      const data = await store.read('restart/0/0/0').catch(() => undefined);
      if (data) {
        for await (const chunk of data) {
          again.update(chunk);
          length += chunk.length;
        }
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect({ length, sha256: again.digest('hex') }).toEqual({ length: bytes.length, sha256: put.sha256 });
    expect(await store.check('restart/0/0/0', put.size, put.sha256)).toBe('ok');
  }, 30_000);
});

import type { NatsConnection } from 'nats';

/** The parts of nats.js's protocol handler (nats 2.29, pinned) that decide when buffered commands go out. */
interface Protocol {
  outbound: { size(): number };
  pendingLimit: number;
  flushPending(): void;
  _close(error?: Error): Promise<void>;
}

const coalesced = new WeakSet<object>();

/**
 * Sends what a connection has buffered once per turn of the event loop instead of once per callback.
 *
 * nats.js writes its buffer to the socket in a microtask after the first command, so every HTTP request the
 * gateway handles, and every reply pds sends after its query, is a socket write of its own. On loopback a
 * write also runs the receiver's TCP processing, and each one wakes the NATS server. Deferring the flush to
 * `setImmediate` lets all the messages produced in one pass over the ready sockets share one write. Measured
 * at 1M patients (`npm run bench -- read-scale`), CPU per read over gateway, pds, NATS server and PostgreSQL
 * fell from 0.66 to 0.45 ms (docs/messaging.md).
 *
 * A full buffer (the client's `pendingLimit`) is still written at once, and closing writes what is left first.
 */
export function coalesceWrites(connection: NatsConnection): void {
  const protocol = (connection as unknown as { protocol?: Protocol }).protocol;
  if (protocol && coalesced.has(protocol)) return;
  if (
    !protocol ||
    typeof protocol.flushPending !== 'function' ||
    typeof protocol._close !== 'function' ||
    !protocol.outbound
  ) {
    throw new Error('coalesceWrites: this nats client does not have the protocol handler it was written for');
  }
  coalesced.add(protocol);
  const flushNow = protocol.flushPending.bind(protocol);
  const close = protocol._close.bind(protocol);
  let scheduled = false;
  protocol.flushPending = () => {
    if (protocol.outbound.size() >= protocol.pendingLimit) {
      flushNow();
      return;
    }
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      flushNow();
    });
  };
  protocol._close = (error?: Error) => {
    flushNow();
    return close(error);
  };
}

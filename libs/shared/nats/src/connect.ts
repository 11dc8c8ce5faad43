import { connect, type NatsConnection } from 'nats';
import { coalesceWrites } from './coalesce-writes';

export interface NatsSettings {
  url: string;
  name: string;
}

/** Connects with reconnects forever (a service waits out a NATS restart) and a bounded first attempt. */
export async function connectNats(settings: NatsSettings): Promise<NatsConnection> {
  const connection = await connect({
    servers: settings.url.split(','),
    name: settings.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    timeout: 5000,
    pingInterval: 10_000,
    // Errors still carry their code; only the per-request async stack capture is skipped (CPU per request).
    noAsyncTraces: true,
  });
  coalesceWrites(connection);
  return connection;
}

import { connect, JSONCodec, type NatsConnection, type Subscription } from 'nats';
import { HEADER, NatsRpcClient } from '@platform/shared-nats';
import { startTestNats, type TestNats } from '@platform/shared-testing';

/** A stand-in for the bus in contract tests: records what the client sends and answers with a fixed reply. */
export function stubRpc(reply: unknown): { rpc: NatsRpcClient; sent: { subject: string; data: unknown }[] } {
  const sent: { subject: string; data: unknown }[] = [];
  // The real client's other methods (requestValidated) over a request that never leaves the process.
  const rpc = Object.assign(Object.create(NatsRpcClient.prototype) as NatsRpcClient, {
    request: (subject: string, data: unknown) => {
      sent.push({ subject, data });
      return Promise.resolve(reply);
    },
    // A service answering in Nest's envelope, as every service did before raw replies (serveDirect).
    requestRaw: (subject: string, data: unknown) => {
      sent.push({ subject, data });
      return Promise.resolve({ raw: false, response: reply });
    },
  });
  return { rpc, sent };
}

/** What a failing responder saw of one request: the call context headers and the pattern in the envelope. */
export interface SeenRequest {
  requestId?: string;
  correlationId?: string;
  roles?: string;
  organisation?: string;
  pattern: string;
}

/**
 * A real NATS server of a test file's own with a stand-in service on it that fails every request on the
 * subjects it is told, as Nest's NATS transport answers (`err` in the reply): for testing a typed client's
 * error mapping end to end over the bus, with no running service able to answer instead.
 */
export interface FailingBus {
  /** A client of the bus, for the typed client under test. */
  rpc: NatsRpcClient;
  /** Answers every request on `subject` with `err`, recording what arrived in `seen`. */
  failWith(subject: string, err: unknown, seen?: SeenRequest[]): Promise<void>;
  /** Answers every request on `subject` with nothing at all (a service that never replies). */
  silent(subject: string): Promise<void>;
  /** Removes the responders (between tests). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startFailingBus(timeoutMs = 2000): Promise<FailingBus> {
  const codec = JSONCodec<Record<string, unknown>>();
  const nats: TestNats = await startTestNats();
  const service: NatsConnection = await connect({ servers: nats.url });
  const caller: NatsConnection = await connect({ servers: nats.url });
  let responders: Subscription[] = [];
  return {
    rpc: new NatsRpcClient(caller, { timeoutMs }),
    failWith: async (subject, err, seen = []) => {
      responders.push(
        service.subscribe(subject, {
          callback: (_error, message) => {
            const packet = codec.decode(message.data);
            seen.push({
              requestId: message.headers?.get(HEADER.requestId),
              correlationId: message.headers?.get(HEADER.correlationId),
              roles: message.headers?.get(HEADER.callerRoles),
              organisation: message.headers?.get(HEADER.callerOrganisation),
              pattern: packet['pattern'] as string,
            });
            message.respond(codec.encode({ id: packet['id'], err, isDisposed: true }));
          },
        }),
      );
      // The subscription is at the server before anything is sent to it.
      await service.flush();
    },
    silent: async (subject) => {
      responders.push(service.subscribe(subject, { callback: () => undefined }));
      await service.flush();
    },
    reset: async () => {
      for (const responder of responders) responder.unsubscribe();
      responders = [];
      await service.flush();
    },
    stop: async () => {
      await caller.close();
      await service.close();
      await nats.stop();
    },
  };
}

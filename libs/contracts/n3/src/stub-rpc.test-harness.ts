import { NatsRpcClient } from '@platform/shared-nats';

/** A stand-in for the bus in contract tests: records what the client sends and answers with a fixed reply. */
export function stubRpc(reply: unknown): { rpc: NatsRpcClient; sent: { subject: string; data: unknown }[] } {
  const sent: { subject: string; data: unknown }[] = [];
  // The real client's other methods (requestValidated) over a request that never leaves the process.
  const rpc = Object.assign(Object.create(NatsRpcClient.prototype) as NatsRpcClient, {
    request: (subject: string, data: unknown) => {
      sent.push({ subject, data });
      return Promise.resolve(reply);
    },
  });
  return { rpc, sent };
}

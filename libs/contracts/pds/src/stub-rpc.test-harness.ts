import type { NatsRpcClient } from '@platform/shared-nats';

/** A stand-in for the bus in contract tests: records what the client sends and answers with a fixed reply. */
export function stubRpc(reply: unknown): { rpc: NatsRpcClient; sent: { subject: string; data: unknown }[] } {
  const sent: { subject: string; data: unknown }[] = [];
  const rpc = {
    request: (subject: string, data: unknown) => {
      sent.push({ subject, data });
      return Promise.resolve(reply);
    },
  } as unknown as NatsRpcClient;
  return { rpc, sent };
}

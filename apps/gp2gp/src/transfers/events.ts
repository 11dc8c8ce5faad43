import type { PoolClient } from 'pg';
import { GP2GP_EVENTS, type ReasonCode } from '@platform/contracts-gp2gp';
import type { CallContext } from '@platform/shared-nats';
import type { Outbox } from '@platform/shared-persistence';
import type { TransferRow } from './transfer.repository';

/** The context of events the worker raises on its own (no caller: a step of a transfer already accepted). */
export function workerContext(conversationId: string): CallContext {
  return { requestId: `gp2gp-worker:${conversationId}`, correlationId: conversationId };
}

/** Queues gp2gp.transfer.failed.v1 in the caller's transaction. */
export async function appendFailed(
  outbox: Outbox,
  transaction: PoolClient,
  transfer: Pick<TransferRow, 'conversation_id' | 'requesting_ods' | 'sending_ods'>,
  reasonCode: ReasonCode,
  printRecord: boolean,
  context: CallContext,
): Promise<void> {
  await outbox.append(
    transaction,
    GP2GP_EVENTS.transferFailed,
    {
      conversationId: transfer.conversation_id,
      requestingOds: transfer.requesting_ods,
      sendingOds: transfer.sending_ods,
      reasonCode,
      printRecord,
      occurredAt: new Date().toISOString(),
    },
    context,
  );
}

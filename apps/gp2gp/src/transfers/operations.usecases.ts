import { Inject, Injectable } from '@nestjs/common';
import {
  AWAITING_ACK_STATE,
  ERROR_STATES,
  GP2GP_EVENTS,
  INTEGRATION_FAILURE_REASONS,
  REASONS,
  WORKING_STATES,
  type AckTransferRequest,
  type AttachmentPiece,
  type ListTransfersRequest,
  type ReadAttachmentRequest,
  type ResendTransferRequest,
  type TransferPage,
  type TransferStatus,
} from '@platform/contracts-gp2gp';
import type { N3Api } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { Outbox, withTransaction } from '@platform/shared-persistence';
import { GP2GP_N3 } from './clients';
import { appendFailed } from './events';
import { FragmentStore, StoreUnavailable } from './fragment-store';
import { AttachmentLinks } from './links';
import { Gp2gpMetrics } from './metrics';
import { callerOrganisation } from './start-transfer.usecase';
import { TransferRepository } from './transfer.repository';
import { TransferWorker } from './transfer-worker';

function notFound(): PlatformError {
  return new PlatformError('GP2GP_TRANSFER_NOT_FOUND', undefined, { diagnostics: 'No such conversation' });
}

/**
 * `POST /$gpc.ack`: the requesting practice's final acknowledgement. Only a transfer whose record is ready
 * takes it; an acknowledgement before that is out of order and one after it (a duplicate) finds the transfer
 * closed: both change nothing.
 */
@Injectable()
export class AcknowledgeTransferUseCase {
  constructor(
    private readonly transfers: TransferRepository,
    private readonly outbox: Outbox,
    private readonly metrics: Gp2gpMetrics,
  ) {}

  async execute(request: AckTransferRequest, context: CallContext): Promise<TransferStatus> {
    const organisation = callerOrganisation(context);
    const failed = request.confirmationResponse === 'FAILED_TO_INTEGRATE';
    if (failed && (!request.reasonCode || !INTEGRATION_FAILURE_REASONS.includes(request.reasonCode))) {
      throw new PlatformError('INVALID_VALUE', undefined, {
        diagnostics: `FAILED_TO_INTEGRATE needs a reasonCode of ${INTEGRATION_FAILURE_REASONS.join(', ')}`,
      });
    }
    if (!failed && request.reasonCode) {
      throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'ACCEPTED takes no reasonCode' });
    }
    const state = await withTransaction(this.transfers.pool, async (transaction) => {
      const row = await this.transfers.find(request.conversationId, transaction, true);
      if (!row || row.requesting_ods !== organisation) throw notFound();
      if (row.state !== AWAITING_ACK_STATE) {
        const open = WORKING_STATES.includes(row.state);
        throw new PlatformError(open ? 'GP2GP_OUT_OF_ORDER' : 'GP2GP_TRANSFER_CLOSED', undefined, {
          diagnostics: open
            ? `The record is not ready yet (${row.state}): acknowledge it once it has been delivered`
            : `The transfer is already closed (${row.state})`,
        });
      }
      await this.transfers.log(transaction, row.conversation_id, 'FINAL_ACK_SENT', request.confirmationResponse);
      if (failed) {
        const reason = request.reasonCode!;
        await this.transfers.transition(transaction, row.conversation_id, [AWAITING_ACK_STATE], REASONS[reason].state, {
          reasonCode: reason,
          detail: `FAILED_TO_INTEGRATE (${reason})`,
        });
        await appendFailed(this.outbox, transaction, row, reason, true, context);
        return REASONS[reason].state;
      }
      await this.transfers.transition(transaction, row.conversation_id, [AWAITING_ACK_STATE], 'MIGRATION_COMPLETED');
      await this.outbox.append(
        transaction,
        GP2GP_EVENTS.transferCompleted,
        {
          conversationId: row.conversation_id,
          requestingOds: row.requesting_ods,
          sendingOds: row.sending_ods,
          occurredAt: new Date().toISOString(),
        },
        context,
      );
      return 'MIGRATION_COMPLETED' as const;
    });
    this.metrics.transitions.inc({ state });
    this.outbox.kick();
    return (await this.transfers.status(request.conversationId))!;
  }
}

/** Operators: a transfer's state, attachments and log; the list; resend. */
@Injectable()
export class OperatorUseCases {
  constructor(
    private readonly transfers: TransferRepository,
    private readonly store: FragmentStore,
    private readonly worker: TransferWorker,
    @Inject(GP2GP_N3) private readonly n3: N3Api,
  ) {}

  async status(conversationId: string): Promise<TransferStatus> {
    const status = await this.transfers.status(conversationId);
    if (!status) throw notFound();
    return status;
  }

  list(request: ListTransfersRequest): Promise<TransferPage> {
    return this.transfers.list(request);
  }

  /**
   * Sends a failed or timed-out transfer again from the sending practice's record (its GP Connect endpoint
   * looked up again, in case the registry has been corrected). Not a transfer the sender check refused (19):
   * that needs a new request once PDS is right.
   */
  async resend(request: ResendTransferRequest, context: CallContext): Promise<TransferStatus> {
    const current = await this.transfers.find(request.conversationId);
    if (!current) throw notFound();
    const refusable =
      !ERROR_STATES.includes(current.state) || current.reason_code === '19' || current.reason_code === '18';
    if (refusable) {
      throw new PlatformError('GP2GP_NOT_RESENDABLE', undefined, {
        diagnostics: `The transfer is ${current.state}${current.reason_code ? ` (${current.reason_code})` : ''}`,
      });
    }
    let endpoint: string | null = null;
    try {
      endpoint = (await this.n3.getOrganisation({ odsCode: current.sending_ods }, context)).gpConnectEndpoint ?? null;
    } catch (error) {
      if (!(error instanceof PlatformError && error.code === 'ORGANISATION_NOT_FOUND')) throw error;
    }
    const oldFragments = await this.transfers.fragments(request.conversationId);
    await withTransaction(this.transfers.pool, async (transaction) => {
      const row = await this.transfers.find(request.conversationId, transaction, true);
      if (!row || row.state !== current.state || row.resends !== current.resends) {
        throw new PlatformError('GP2GP_NOT_RESENDABLE', undefined, { diagnostics: 'The transfer changed meanwhile' });
      }
      await this.transfers.clearAttachments(transaction, row.conversation_id);
      await this.transfers.resetForResend(transaction, row.conversation_id, endpoint);
      await this.transfers.log(
        transaction,
        row.conversation_id,
        'EHR_EXTRACT_REQUEST_ACCEPTED',
        `resent by ${context.caller?.username ?? context.caller?.id ?? 'unknown'}`,
      );
    });
    for (const fragment of oldFragments) await this.store.delete(fragment.object_name);
    this.worker.kick();
    return this.status(request.conversationId);
  }
}

/** Bytes per piece: two 256 KiB store messages, about 700 KB as base64, under NATS's 1 MB. */
const PIECE_BYTES = 512 * 1024;

/**
 * `GET /gp2gp/attachments/{link}` a piece at a time: the gateway asks for pieces in turn and streams them to
 * the requesting practice, so neither process holds more than a piece. The link must be the caller's own
 * organisation's and unexpired; the transfer's record must have been delivered and not yet purged.
 * The cursor is `<fragment index>.<stream sequence>.<bytes of the fragment read>.<object chunk ID>`.
 */
@Injectable()
export class ReadAttachmentUseCase {
  constructor(
    private readonly transfers: TransferRepository,
    private readonly store: FragmentStore,
    private readonly links: AttachmentLinks,
    private readonly metrics: Gp2gpMetrics,
  ) {}

  async execute(request: ReadAttachmentRequest, context: CallContext): Promise<AttachmentPiece> {
    const grant = this.links.verify(request.token, context.caller?.organisation);
    const [transfer, attachment] = await Promise.all([
      this.transfers.find(grant.conversationId),
      this.transfers.attachment(grant.conversationId, grant.position),
    ]);
    if (!transfer || !attachment || !attachment.verified || transfer.requesting_ods !== grant.organisation)
      throw notFound();
    if (transfer.state !== AWAITING_ACK_STATE) {
      throw new PlatformError('GP2GP_LINK_EXPIRED', undefined, {
        diagnostics: `The transfer is ${transfer.state}: its attachments are no longer served`,
      });
    }
    const [indexText = '0', seqText = '0', readText = '0', nuid] = (request.cursor ?? '0.0.0').split('.');
    const [index, seq, read] = [indexText, seqText, readText].map(Number);
    if (
      ![index, seq, read].every((value) => Number.isSafeInteger(value) && value >= 0) ||
      (nuid !== undefined && !/^\w{1,64}$/.test(nuid))
    ) {
      throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'cursor is not one this service gave' });
    }
    if (request.cursor === undefined) {
      await this.transfers.audit(this.transfers.pool, {
        conversationId: transfer.conversation_id,
        nhsNumber: transfer.nhs_number,
        callerId: context.caller?.id ?? 'unknown',
        organisation: context.caller?.organisation ?? null,
        action: `attachment.read:${attachment.position}`,
        requestId: context.requestId,
      });
    }
    const base = {
      size: Number(attachment.size),
      contentType: attachment.content_type,
      sha256: attachment.sha256 ?? '',
    };
    if (Number(attachment.size) === 0) return { ...base, data: '' };
    const fragments = await this.transfers.fragments(transfer.conversation_id, attachment.position);
    const fragment = fragments[index];
    if (!fragment)
      throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'cursor is past the attachment' });
    const piece = await this.store
      .piece(fragment.object_name, { seq, read, nuid }, fragment.size, PIECE_BYTES)
      .catch((error: unknown) => {
        // NATS away for a moment: the requester may ask for the same piece again.
        if (error instanceof StoreUnavailable) {
          throw new PlatformError('REC_UNAVAILABLE', 'The object store is unavailable', {
            headers: { 'Retry-After': '5' },
          });
        }
        throw error;
      });
    if (piece === 'foreign-cursor') {
      throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'cursor is not one this service gave' });
    }
    if (!piece) {
      throw new PlatformError('REC_SERVER_ERROR', 'A fragment of the attachment is missing from the object store');
    }
    this.metrics.bytes.inc({ direction: 'out' }, piece.bytes.length);
    let cursor: string | undefined;
    if (piece.read < fragment.size) cursor = `${index}.${piece.nextSeq}.${piece.read}.${piece.nuid}`;
    else if (index + 1 < fragments.length) cursor = `${index + 1}.0.0`;
    return { ...base, data: piece.bytes.toString('base64'), ...(cursor ? { cursor } : {}) };
  }
}

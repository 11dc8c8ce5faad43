import { Inject, Injectable } from '@nestjs/common';
import {
  ERROR_STATES,
  REASONS,
  type ReasonCode,
  type StartTransferReply,
  type StartTransferRequest,
  type TransferState,
} from '@platform/contracts-gp2gp';
import type { N3Api } from '@platform/contracts-n3';
import type { PdsApi } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import { isValidNhsNumber } from '@platform/shared-identifiers';
import type { CallContext } from '@platform/shared-nats';
import { Outbox, withTransaction } from '@platform/shared-persistence';
import { GP2GP_N3, GP2GP_PDS } from './clients';
import { appendFailed } from './events';
import { AttachmentLinks } from './links';
import { reasonOf, TransferRepository, type TransferRow } from './transfer.repository';
import { TransferWorker } from './transfer-worker';

/** The states in which the record is ready for the requesting practice (or was, before it acknowledged). */
const DELIVERABLE: readonly TransferState[] = ['EHR_EXTRACT_TRANSLATED', 'FINAL_ACK_SENT', 'MIGRATION_COMPLETED'];

/** The ODS code of the patient's registered practice in a PDS Patient, or undefined. */
function registeredPractice(patient: Record<string, unknown>): string | undefined {
  const practices = patient['generalPractitioner'];
  if (!Array.isArray(practices)) return undefined;
  const value = (practices[0] as { identifier?: { value?: unknown } } | undefined)?.identifier?.value;
  return typeof value === 'string' ? value.toUpperCase() : undefined;
}

export function callerOrganisation(context: CallContext): string {
  const organisation = context.caller?.organisation;
  if (!organisation) {
    throw new PlatformError('GP2GP_NO_ORGANISATION', undefined, {
      diagnostics: 'Record transfers are made for an organisation: send NHSD-End-User-Organisation-ODS',
    });
  }
  return organisation;
}

/**
 * `POST /Patient/$gpc.migratestructuredrecord`: the first request for a conversation checks in PDS that the
 * caller's practice is the patient's registered practice (reason 19 otherwise) and finds the sending
 * practice's GP Connect endpoint in the N3 registry (reason 24 when it has none), then leaves the transfer to
 * the worker. Every later request for the conversation polls it. The conversation ID is the idempotency key:
 * racing or retried starts make one transfer.
 */
@Injectable()
export class StartTransferUseCase {
  constructor(
    private readonly transfers: TransferRepository,
    private readonly outbox: Outbox,
    private readonly links: AttachmentLinks,
    private readonly worker: TransferWorker,
    @Inject(GP2GP_PDS) private readonly pds: PdsApi,
    @Inject(GP2GP_N3) private readonly n3: N3Api,
  ) {}

  async execute(request: StartTransferRequest, context: CallContext): Promise<StartTransferReply> {
    const organisation = callerOrganisation(context);
    if (!isValidNhsNumber(request.nhsNumber)) {
      throw new PlatformError('INVALID_RESOURCE_ID', undefined, { diagnostics: 'Invalid NHS number' });
    }
    const existing = await this.transfers.find(request.conversationId);
    if (existing) return this.poll(existing, request, context);

    // PDS answers 400/404 for an NHS number it cannot use: passed on, and no transfer is recorded.
    const { patient } = await this.pds.getPatient({ nhsNumber: request.nhsNumber }, context);
    let reason: ReasonCode | null = null;
    let detail: string | null = null;
    let endpoint: string | null = null;
    if (registeredPractice(patient) !== organisation) {
      reason = '19';
      detail = `PDS does not name ${organisation} as the patient's registered practice`;
    } else if (request.sendingOds === organisation) {
      reason = '18';
      detail = 'The sending practice is the requesting practice';
    } else {
      endpoint = await this.endpointOf(request.sendingOds, context);
      if (!endpoint) {
        reason = '24';
        detail = `The N3 registry holds no GP Connect endpoint for ${request.sendingOds}`;
      }
    }
    const state: TransferState = reason ? REASONS[reason].state : 'EHR_EXTRACT_REQUEST_ACCEPTED';
    const created = await withTransaction(this.transfers.pool, async (transaction) => {
      const row = await this.transfers.insert(transaction, {
        conversationId: request.conversationId,
        nhsNumber: request.nhsNumber,
        requestingOds: organisation,
        sendingOds: request.sendingOds,
        senderEndpoint: endpoint,
        state,
        reasonCode: reason,
        reasonDetail: detail,
        requestedBy: context.caller?.id ?? 'unknown',
      });
      if (!row) return undefined;
      await this.transfers.log(transaction, row.conversation_id, 'REQUEST_RECEIVED');
      await this.transfers.log(transaction, row.conversation_id, state, detail);
      if (reason) await appendFailed(this.outbox, transaction, row, reason, false, context);
      return row;
    });
    if (!created) {
      // Another request for the same conversation got there first: this one polls it.
      const winner = await this.transfers.find(request.conversationId);
      if (!winner) throw new PlatformError('REC_SERVER_ERROR', 'The transfer vanished');
      return this.poll(winner, request, context);
    }
    this.outbox.kick();
    this.worker.kick();
    if (reason) return { conversationId: created.conversation_id, outcome: 'failed', state, reason: reasonOf(reason)! };
    return { conversationId: created.conversation_id, outcome: 'accepted', state };
  }

  private async endpointOf(odsCode: string, context: CallContext): Promise<string | null> {
    try {
      const organisation = await this.n3.getOrganisation({ odsCode }, context);
      return organisation.gpConnectEndpoint ?? null;
    } catch (error) {
      if (error instanceof PlatformError && error.code === 'ORGANISATION_NOT_FOUND') return null;
      throw error;
    }
  }

  private async poll(
    row: TransferRow,
    request: StartTransferRequest,
    context: CallContext,
  ): Promise<StartTransferReply> {
    // Another practice's conversation is answered as one that does not exist.
    if (row.requesting_ods !== context.caller?.organisation) {
      throw new PlatformError('GP2GP_TRANSFER_NOT_FOUND', undefined, { diagnostics: 'No such conversation' });
    }
    if (row.nhs_number !== request.nhsNumber || row.sending_ods !== request.sendingOds) {
      throw new PlatformError('GP2GP_CONVERSATION_CONFLICT', undefined, {
        diagnostics: 'This conversation ID was used for another patient or sending practice',
      });
    }
    const base = { conversationId: row.conversation_id, state: row.state };
    if (ERROR_STATES.includes(row.state) && row.reason_code) {
      return { ...base, outcome: 'failed', reason: reasonOf(row.reason_code)! };
    }
    if (!DELIVERABLE.includes(row.state) || !row.extract_json) return { ...base, outcome: 'in-progress' };
    const attachments = await this.transfers.attachments(row.conversation_id);
    const bundleJson = withLinks(row.extract_json, (url) => {
      const attachment = attachments.find((candidate) => candidate.source_url === url);
      if (!attachment) return undefined;
      const token = this.links.sign({
        conversationId: row.conversation_id,
        position: attachment.position,
        organisation: row.requesting_ods,
      });
      return `/gp2gp/attachments/${token}`;
    });
    await this.transfers.audit(this.transfers.pool, {
      conversationId: row.conversation_id,
      nhsNumber: row.nhs_number,
      callerId: context.caller?.id ?? 'unknown',
      organisation: context.caller?.organisation ?? null,
      action: 'record.read',
      requestId: context.requestId,
    });
    return { ...base, outcome: 'completed', bundleJson };
  }
}

/** The Bundle with each DocumentReference's attachment address replaced by the caller's signed link. */
export function withLinks(extractJson: string, linkOf: (url: string) => string | undefined): string {
  const bundle = JSON.parse(extractJson) as { entry?: { resource?: Record<string, unknown> }[] };
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource;
    if (resource?.['resourceType'] !== 'DocumentReference') continue;
    for (const content of (resource['content'] as { attachment?: { url?: string } }[] | undefined) ?? []) {
      const url = content.attachment?.url;
      const link = url ? linkOf(url) : undefined;
      if (content.attachment && link) content.attachment.url = link;
    }
  }
  return JSON.stringify(bundle);
}

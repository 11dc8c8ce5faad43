import { PlatformError } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient } from '@platform/shared-nats';
import './errors';
import { TRANSFER_STATES } from './states';
import { GP2GP_SUBJECTS } from './subjects';
import {
  AckTransferRequest,
  ListTransfersRequest,
  ReadAttachmentRequest,
  ResendTransferRequest,
  StartTransferRequest,
  TransferStatusRequest,
  type AttachmentPiece,
  type StartTransferReply,
  type TransferPage,
  type TransferStatus,
} from './transfers';

/** What other projects (the gateway) may ask of gp2gp. */
export interface Gp2gpApi {
  /** Starts the transfer the conversation ID names, or answers how it is going. */
  startTransfer(request: StartTransferRequest, context: CallContext): Promise<StartTransferReply>;
  acknowledge(request: AckTransferRequest, context: CallContext): Promise<TransferStatus>;
  readAttachment(request: ReadAttachmentRequest, context: CallContext): Promise<AttachmentPiece>;
  status(request: TransferStatusRequest, context: CallContext): Promise<TransferStatus>;
  list(request: ListTransfersRequest, context: CallContext): Promise<TransferPage>;
  resend(request: ResendTransferRequest, context: CallContext): Promise<TransferStatus>;
  health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }>;
}

function expect<T>(reply: unknown, what: string, check: (value: Record<string, unknown>) => boolean): T {
  if (typeof reply !== 'object' || reply === null || !check(reply as Record<string, unknown>)) {
    throw new PlatformError('REC_SERVER_ERROR', `gp2gp answered with something that is not ${what}`);
  }
  return reply as T;
}

const isState = (value: unknown): boolean => (TRANSFER_STATES as readonly unknown[]).includes(value);
const isStatus = (value: Record<string, unknown>): boolean =>
  typeof value['conversationId'] === 'string' && isState(value['state']) && Array.isArray(value['attachments']);
const isReply = (value: Record<string, unknown>): boolean =>
  typeof value['conversationId'] === 'string' &&
  isState(value['state']) &&
  ['accepted', 'in-progress', 'completed', 'failed'].includes(value['outcome'] as string) &&
  (value['outcome'] !== 'completed' || typeof value['bundleJson'] === 'string');
const isPiece = (value: Record<string, unknown>): boolean =>
  typeof value['data'] === 'string' && Number.isSafeInteger(value['size']) && typeof value['sha256'] === 'string';

/** Reading an attachment piece may wait for the object store; a start waits for PDS and the N3 registry. */
const TIMEOUT_MS = 15_000;

/** The typed gp2gp client: validates what it sends and the shape of what it receives, over NATS. */
export class Gp2gpClient implements Gp2gpApi {
  constructor(private readonly rpc: NatsRpcClient) {}

  async startTransfer(request: StartTransferRequest, context: CallContext): Promise<StartTransferReply> {
    const reply = await this.rpc.requestValidated(
      GP2GP_SUBJECTS.transferStart,
      StartTransferRequest,
      request,
      context,
      {
        timeoutMs: TIMEOUT_MS,
      },
    );
    return expect(reply, 'a transfer', isReply);
  }

  async acknowledge(request: AckTransferRequest, context: CallContext): Promise<TransferStatus> {
    const reply = await this.rpc.requestValidated(GP2GP_SUBJECTS.transferAck, AckTransferRequest, request, context);
    return expect(reply, 'a transfer status', isStatus);
  }

  async readAttachment(request: ReadAttachmentRequest, context: CallContext): Promise<AttachmentPiece> {
    const reply = await this.rpc.requestValidated(
      GP2GP_SUBJECTS.attachmentRead,
      ReadAttachmentRequest,
      request,
      context,
      { timeoutMs: TIMEOUT_MS },
    );
    return expect(reply, 'an attachment piece', isPiece);
  }

  async status(request: TransferStatusRequest, context: CallContext): Promise<TransferStatus> {
    const reply = await this.rpc.requestValidated(
      GP2GP_SUBJECTS.transferStatus,
      TransferStatusRequest,
      request,
      context,
    );
    return expect(reply, 'a transfer status', isStatus);
  }

  async list(request: ListTransfersRequest, context: CallContext): Promise<TransferPage> {
    const reply = await this.rpc.requestValidated(GP2GP_SUBJECTS.transferList, ListTransfersRequest, request, context);
    return expect(reply, 'a page of transfers', (value) => Array.isArray(value['items']));
  }

  async resend(request: ResendTransferRequest, context: CallContext): Promise<TransferStatus> {
    const reply = await this.rpc.requestValidated(
      GP2GP_SUBJECTS.transferResend,
      ResendTransferRequest,
      request,
      context,
    );
    return expect(reply, 'a transfer status', isStatus);
  }

  async health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }> {
    return this.rpc.request(GP2GP_SUBJECTS.healthCheck, {}, context, timeoutMs);
  }
}

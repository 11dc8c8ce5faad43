export { Gp2gpClient, type Gp2gpApi } from './client';
export { GP2GP_CODE_SYSTEM, GP2GP_ERRORS, GP2GP_OWN_ERRORS, type Gp2gpErrorCode } from './errors';
export type { TransferCompletedEvent, TransferFailedEvent, TransferTimedOutEvent } from './events';
export { GP2GP_OPERATORS, GP2GP_PRACTICE_ROLES, GP2GP_SUBJECT_POLICIES } from './policy';
export {
  AWAITING_ACK_STATE,
  ERROR_STATES,
  INTEGRATION_FAILURE_REASONS,
  REASON_CODE_SYSTEM,
  REASON_CODES,
  REASONS,
  TRANSFER_STATES,
  WORKING_STATES,
  type ReasonCode,
  type TransferState,
} from './states';
export { GP2GP_EVENT_STREAM, GP2GP_EVENTS, GP2GP_FRAGMENT_BUCKET, GP2GP_QUEUE, GP2GP_SUBJECTS } from './subjects';
export {
  AckTransferRequest,
  ListTransfersRequest,
  ReadAttachmentRequest,
  ResendTransferRequest,
  StartTransferRequest,
  TransferStatusRequest,
  type AttachmentPiece,
  type AttachmentStatus,
  type StartTransferReply,
  type TransferLogEntry,
  type TransferOutcome,
  type TransferPage,
  type TransferReason,
  type TransferStatus,
  type TransferSummary,
} from './transfers';

// Legacy (HL7 V3 / MHS) practices.
export {
  GP2GP_LEGACY_ERRORS,
  GP2GP_LEGACY_SUBJECT_POLICIES,
  GP2GP_LEGACY_SUBJECTS,
  Gp2gpLegacyClient,
  LegacyInboundCommitRequest,
  LegacyInboundDiscardRequest,
  LegacyInboundPieceRequest,
  LegacyInboundRequest,
  MHS_INBOUND_MAX_BYTES,
  MHS_INBOUND_PIECE_BYTES,
  OpenLegacyTransferRequest,
  PollLegacyTransferRequest,
  ReadLegacyAttachmentRequest,
  type LegacyAttachmentPiece,
  type LegacyInboundPieceReply,
  type LegacyInboundReply,
  type LegacyReason,
  type LegacyTransferReply,
} from './legacy';

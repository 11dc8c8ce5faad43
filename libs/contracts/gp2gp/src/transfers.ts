import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { REASON_CODES, TRANSFER_STATES, type ReasonCode, type TransferState } from './states';

const ODS = /^[A-Z0-9]{3,6}$/;

/**
 * Starts a record transfer, or polls the one the conversation ID names (the requesting adaptor's
 * `POST /Patient/$gpc.migratestructuredrecord`). The requesting practice is the caller's organisation.
 */
export class StartTransferRequest {
  /** The conversation ID the requesting system chose (the ConversationId header). */
  @IsUUID()
  conversationId!: string;

  /** The NHS number as the caller sent it; the service validates it. */
  @IsString()
  @MaxLength(64)
  nhsNumber!: string;

  /**
   * The previous practice (the requesting adaptor's `to-ods`): PDS holds only the current registration, so
   * the requesting practice names the practice it asks, as it does in the NHS's GP2GP.
   */
  @Matches(ODS, { message: 'sendingOds must be an ODS code (3 to 6 upper-case letters or digits)' })
  sendingOds!: string;
}

/** How a start or poll went: accepted (this request started it), in progress, completed, or failed. */
export type TransferOutcome = 'accepted' | 'in-progress' | 'completed' | 'failed';

export interface TransferReason {
  code: ReasonCode;
  display: string;
  /** The HTTP status the requesting API answers a failed transfer with. */
  httpStatus: number;
}

export interface StartTransferReply {
  conversationId: string;
  outcome: TransferOutcome;
  state: TransferState;
  /** The FHIR Bundle as JSON text, once completed: attachment addresses are signed links for the caller. */
  bundleJson?: string;
  reason?: TransferReason;
}

/** The final acknowledgement (`POST /$gpc.ack`). */
export class AckTransferRequest {
  @IsUUID()
  conversationId!: string;

  @IsIn(['ACCEPTED', 'FAILED_TO_INTEGRATE'])
  confirmationResponse!: 'ACCEPTED' | 'FAILED_TO_INTEGRATE';

  /** Required with FAILED_TO_INTEGRATE: 11, 12, 17, 21, 28 or 99. */
  @IsOptional()
  @IsIn(REASON_CODES)
  reasonCode?: ReasonCode;
}

export class TransferStatusRequest {
  @IsUUID()
  conversationId!: string;
}

export class ResendTransferRequest {
  @IsUUID()
  conversationId!: string;
}

export class ListTransfersRequest {
  @IsOptional()
  @IsIn(TRANSFER_STATES)
  state?: TransferState;

  @IsOptional()
  @Matches(ODS, { message: 'requestingOds must be an ODS code' })
  requestingOds?: string;

  @IsOptional()
  @Matches(ODS, { message: 'sendingOds must be an ODS code' })
  sendingOds?: string;

  /** Only transfers requested at or after this time (ISO 8601). */
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/, { message: 'since must be an ISO 8601 date or time' })
  since?: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit: number = 50;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset: number = 0;
}

export interface AttachmentStatus {
  position: number;
  contentType: string;
  size: number;
  /** Fragments of at most the fragment size (4.5 MB by default), and how many are stored. */
  fragments: number;
  fragmentsStored: number;
  /** SHA-256 (hex) of the whole attachment, once every fragment is stored. */
  sha256: string | null;
  verified: boolean;
}

export interface TransferLogEntry {
  state: TransferState;
  at: string;
  detail: string | null;
}

/** A transfer as operators see it (no patient demographics; the NHS number is not shown). */
export interface TransferStatus {
  conversationId: string;
  state: TransferState;
  requestingOds: string;
  sendingOds: string;
  reason: TransferReason | null;
  requestedAt: string;
  updatedAt: string;
  /** When the final acknowledgement is due (8 days after the record was ready), once it is ready. */
  ackDueAt: string | null;
  resends: number;
  attachments: AttachmentStatus[];
  log: TransferLogEntry[];
}

export interface TransferSummary {
  conversationId: string;
  state: TransferState;
  requestingOds: string;
  sendingOds: string;
  reasonCode: ReasonCode | null;
  requestedAt: string;
  updatedAt: string;
}

export interface TransferPage {
  items: TransferSummary[];
  nextOffset?: number;
}

/** A piece of an attachment through its signed link; `cursor` (from the previous piece) asks for the next. */
export class ReadAttachmentRequest {
  @IsString()
  @MaxLength(1024)
  token!: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export interface AttachmentPiece {
  /** The bytes, base64 (at most 512 KiB of data: a NATS message stays under 1 MB). */
  data: string;
  /** The cursor of the next piece; absent on the last. */
  cursor?: string;
  size: number;
  contentType: string;
  /** SHA-256 (hex) of the whole attachment, for the client's own check. */
  sha256: string;
}

import { Type } from 'class-transformer';
import { IsBase64, IsInt, IsObject, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { defineErrors, PlatformError, type ErrorDefinition } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient, SubjectPolicies } from '@platform/shared-nats';

/**
 * Legacy practices: a practice whose clinical system speaks HL7 V3 through an MHS (ebXML) sends the record
 * through gp2gp as MHS inbound messages (the shape the NHS's MHS adaptor puts on its inbound queue:
 * `{ ebXML, payload, attachments[], external_attachments[] }`). gp2gp reassembles the large-message
 * attachments and hands the requesting practice the HL7 extract as a `Binary` with the attachments as
 * DocumentReferences. It does not translate HL7 V3 clinical content into FHIR.
 */
export const GP2GP_LEGACY_SUBJECTS = {
  /** The requesting practice opens a transfer from a legacy (HL7 V3) practice. */
  legacyOpen: 'gp2gp.legacy.transfer.open.v1',
  /** The requesting practice polls it: the Bundle once every attachment is reassembled. */
  legacyPoll: 'gp2gp.legacy.transfer.poll.v1',
  /** The legacy sending practice's system delivers one MHS inbound message (extract, COPC index or fragment). */
  legacyInbound: 'gp2gp.legacy.inbound.v1',
  /** The requesting practice reads a reassembled attachment, piece by piece. */
  legacyAttachmentRead: 'gp2gp.legacy.attachment.read.v1',
  /** A piece (at most 512 KiB) of an MHS message posted to the gateway (`POST /gp2gp/mhs/inbound`). */
  legacyInboundPiece: 'gp2gp.legacy.inbound.piece.v1',
  /** The posted message is whole: gp2gp reads its pieces as one MHS inbound message and takes it. */
  legacyInboundCommit: 'gp2gp.legacy.inbound.commit.v1',
  /** The post failed before its commit (refused, too large, connection lost): its pieces are dropped. */
  legacyInboundDiscard: 'gp2gp.legacy.inbound.discard.v1',
} as const;

/**
 * The largest MHS message the gateway takes (`POST /gp2gp/mhs/inbound`): a COPC carrying a 5 MB fragment
 * (the NHS's fragment size), base64 in MIME (about 6.7 MB), with its envelope and payload.
 */
export const MHS_INBOUND_MAX_BYTES = 8 * 1024 * 1024;
/** The bytes of a posted message per NATS message: base64 of it stays well under NATS's 1 MB limit. */
export const MHS_INBOUND_PIECE_BYTES = 512 * 1024;
const MAX_INBOUND_PIECES = Math.ceil(MHS_INBOUND_MAX_BYTES / MHS_INBOUND_PIECE_BYTES);

/** The requesting practice's staff and systems, and the sending practice's system (application access). */
const PRACTICE = ['practice-admin', 'clinician'] as const;

/** Checked by gp2gp against the verified caller; each subject also checks the caller's organisation. */
export const GP2GP_LEGACY_SUBJECT_POLICIES: SubjectPolicies = {
  [GP2GP_LEGACY_SUBJECTS.legacyOpen]: { roles: PRACTICE },
  [GP2GP_LEGACY_SUBJECTS.legacyPoll]: { roles: PRACTICE },
  [GP2GP_LEGACY_SUBJECTS.legacyInbound]: { roles: PRACTICE },
  [GP2GP_LEGACY_SUBJECTS.legacyAttachmentRead]: { roles: PRACTICE },
  [GP2GP_LEGACY_SUBJECTS.legacyInboundPiece]: { roles: PRACTICE },
  [GP2GP_LEGACY_SUBJECTS.legacyInboundCommit]: { roles: PRACTICE },
  [GP2GP_LEGACY_SUBJECTS.legacyInboundDiscard]: { roles: PRACTICE },
};

const LEGACY_CODE_SYSTEM = 'urn:nhs-platform:gp2gp:error-code';

function own(status: number, issueCode: string, display: string): ErrorDefinition {
  return { status, issueCode, display, system: LEGACY_CODE_SYSTEM, severity: 'error' };
}

export const GP2GP_LEGACY_ERRORS = defineErrors({
  /** The MHS message is not one gp2gp can read (bad envelope, XML, IDs or attachment encoding). */
  GP2GP_MHS_MESSAGE_INVALID: own(400, 'invalid', 'The MHS message is malformed'),
  /** The message is well formed but is not a GP2GP message this transfer can take (its action or ID). */
  GP2GP_MHS_MESSAGE_UNEXPECTED: own(409, 'conflict', 'The MHS message does not belong to this transfer'),
});

const ODS = /^[A-Z0-9]{3,6}$/;

export class OpenLegacyTransferRequest {
  @IsUUID()
  conversationId!: string;

  /** The legacy practice asked for the record; the requesting practice is the caller's organisation. */
  @Matches(ODS, { message: 'sendingOds must be an ODS code (3 to 6 upper-case letters or digits)' })
  sendingOds!: string;
}

export class PollLegacyTransferRequest {
  @IsUUID()
  conversationId!: string;
}

/** One MHS inbound message for a conversation, as the MHS adaptor's inbound queue carries it. */
export class LegacyInboundRequest {
  @IsUUID()
  conversationId!: string;

  /** `{ ebXML, payload, attachments?, external_attachments? }`: checked in full by gp2gp. */
  @IsOptional()
  @IsObject()
  message?: Record<string, unknown>;

  /** Or the message as an MHS sends it: the raw `multipart/related` MIME entity, headers included. */
  @IsOptional()
  @IsString()
  @MaxLength(1_000_000)
  mime?: string;
}

/** A piece of an MHS message posted to the gateway, in order from 0; kept under the caller's organisation. */
export class LegacyInboundPieceRequest {
  @IsUUID()
  uploadId!: string;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_INBOUND_PIECES - 1)
  index!: number;

  /** The piece's bytes, base64 (at most MHS_INBOUND_PIECE_BYTES of them). */
  @IsBase64()
  @MaxLength(Math.ceil(MHS_INBOUND_PIECE_BYTES / 3) * 4)
  data!: string;
}

export interface LegacyInboundPieceReply {
  uploadId: string;
  index: number;
  size: number;
}

/** The posted message is whole: its pieces 0 to `pieces - 1`, `size` bytes in all, under its Content-Type. */
export class LegacyInboundCommitRequest {
  @IsUUID()
  uploadId!: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_INBOUND_PIECES)
  pieces!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MHS_INBOUND_MAX_BYTES)
  size!: number;

  /** The HTTP request's Content-Type (`multipart/related; boundary=...; start=...`). */
  @IsString()
  @MaxLength(1000)
  contentType!: string;
}

/** Drops the pieces 0 to `pieces - 1` of a post that will not be committed (the caller's organisation's only). */
export class LegacyInboundDiscardRequest {
  @IsUUID()
  uploadId!: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_INBOUND_PIECES)
  pieces!: number;
}

/** A piece of a completed transfer's attachment (the DocumentReference's position); `cursor` asks for the next. */
export class ReadLegacyAttachmentRequest {
  @IsUUID()
  conversationId!: string;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10_000)
  position!: number;

  @IsOptional()
  @Matches(/^\d{1,15}\.\d{1,15}$/, { message: 'cursor must be the cursor of the previous piece' })
  cursor?: string;
}

export interface LegacyAttachmentPiece {
  /** The bytes, base64 (at most 512 KiB of data: a NATS message stays under 1 MB). */
  data: string;
  /** The cursor of the next piece; absent on the last. */
  cursor?: string;
  size: number;
  contentType: string;
  /** SHA-256 (hex) of the whole attachment. */
  sha256: string;
}

export interface LegacyReason {
  code: string;
  display: string;
}

export interface LegacyTransferReply {
  conversationId: string;
  state: string;
  requestingOds: string;
  sendingOds: string;
  reason: LegacyReason | null;
  /** Attachments the extract names, and how many are reassembled and checked. */
  documents: number;
  documentsStored: number;
  /** The FHIR Bundle (JSON text), on a poll once the transfer is MIGRATION_COMPLETED. */
  bundleJson?: string;
}

export interface LegacyInboundReply {
  conversationId: string;
  messageId: string;
  action: string;
  /** `duplicate`: the message ID was already received; nothing changed. */
  outcome: 'accepted' | 'duplicate';
  state: string;
}

function expectShape<T>(reply: unknown, what: string, check: (value: Record<string, unknown>) => boolean): T {
  if (typeof reply !== 'object' || reply === null || !check(reply as Record<string, unknown>)) {
    throw new PlatformError('REC_SERVER_ERROR', `gp2gp answered with something that is not ${what}`);
  }
  return reply as T;
}

const isTransfer = (value: Record<string, unknown>): boolean =>
  typeof value['conversationId'] === 'string' && typeof value['state'] === 'string';

/** The typed client of the legacy subjects (the gateway, a legacy practice's bridge, tests). */
export class Gp2gpLegacyClient {
  constructor(private readonly rpc: NatsRpcClient) {}

  async open(request: OpenLegacyTransferRequest, context: CallContext): Promise<LegacyTransferReply> {
    const reply = await this.rpc.requestValidated(
      GP2GP_LEGACY_SUBJECTS.legacyOpen,
      OpenLegacyTransferRequest,
      request,
      context,
    );
    return expectShape(reply, 'a legacy transfer', isTransfer);
  }

  async poll(request: PollLegacyTransferRequest, context: CallContext): Promise<LegacyTransferReply> {
    const reply = await this.rpc.requestValidated(
      GP2GP_LEGACY_SUBJECTS.legacyPoll,
      PollLegacyTransferRequest,
      request,
      context,
    );
    return expectShape(reply, 'a legacy transfer', isTransfer);
  }

  async readAttachment(request: ReadLegacyAttachmentRequest, context: CallContext): Promise<LegacyAttachmentPiece> {
    const reply = await this.rpc.requestValidated(
      GP2GP_LEGACY_SUBJECTS.legacyAttachmentRead,
      ReadLegacyAttachmentRequest,
      request,
      context,
      { timeoutMs: 15_000 },
    );
    return expectShape(reply, 'an attachment piece', (value) => typeof value['data'] === 'string');
  }

  async deliverPiece(request: LegacyInboundPieceRequest, context: CallContext): Promise<LegacyInboundPieceReply> {
    const reply = await this.rpc.requestValidated(
      GP2GP_LEGACY_SUBJECTS.legacyInboundPiece,
      LegacyInboundPieceRequest,
      request,
      context,
      { timeoutMs: 15_000 },
    );
    return expectShape(reply, 'a piece receipt', (value) => typeof value['uploadId'] === 'string');
  }

  /** Takes the posted message (reassembling attachments it completes): allow it time. */
  async commit(request: LegacyInboundCommitRequest, context: CallContext): Promise<LegacyInboundReply> {
    const reply = await this.rpc.requestValidated(
      GP2GP_LEGACY_SUBJECTS.legacyInboundCommit,
      LegacyInboundCommitRequest,
      request,
      context,
      { timeoutMs: 30_000 },
    );
    return expectShape(reply, 'an inbound receipt', (value) => typeof value['messageId'] === 'string');
  }

  async discard(request: LegacyInboundDiscardRequest, context: CallContext): Promise<{ discarded: number }> {
    const reply = await this.rpc.requestValidated(
      GP2GP_LEGACY_SUBJECTS.legacyInboundDiscard,
      LegacyInboundDiscardRequest,
      request,
      context,
    );
    return expectShape(reply, 'a discard receipt', (value) => typeof value['discarded'] === 'number');
  }

  /** Reassembling a large attachment streams it through the object store: allow it time. */
  async deliver(request: LegacyInboundRequest, context: CallContext, timeoutMs = 30_000): Promise<LegacyInboundReply> {
    const reply = await this.rpc.requestValidated(
      GP2GP_LEGACY_SUBJECTS.legacyInbound,
      LegacyInboundRequest,
      request,
      context,
      { timeoutMs },
    );
    return expectShape(reply, 'an inbound receipt', (value) => typeof value['messageId'] === 'string');
  }
}

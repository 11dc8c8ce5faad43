import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  GP2GP_LEGACY_SUBJECTS,
  LegacyInboundCommitRequest,
  LegacyInboundDiscardRequest,
  LegacyInboundPieceRequest,
  LegacyInboundRequest,
  OpenLegacyTransferRequest,
  PollLegacyTransferRequest,
  ReadLegacyAttachmentRequest,
  type LegacyAttachmentPiece,
  type LegacyInboundPieceReply,
  type LegacyInboundReply,
  type LegacyTransferReply,
} from '@platform/contracts-gp2gp';
import { withCallContext } from '@platform/shared-nats';
import { LegacyTransfers } from './legacy-transfers';
import { LegacyUploads } from './legacy-uploads';

/** The legacy (HL7 V3 / MHS) subjects: opening and polling by the requester, inbound messages by the sender. */
@Controller()
export class LegacyHandler {
  constructor(
    @Inject(LegacyTransfers) private readonly transfers: LegacyTransfers,
    @Inject(LegacyUploads) private readonly uploads: LegacyUploads,
  ) {}

  @MessagePattern(GP2GP_LEGACY_SUBJECTS.legacyOpen)
  open(@Payload() request: OpenLegacyTransferRequest, @Ctx() nats: NatsContext): Promise<LegacyTransferReply> {
    return withCallContext(nats, (call) => this.transfers.open(request, call));
  }

  @MessagePattern(GP2GP_LEGACY_SUBJECTS.legacyPoll)
  poll(@Payload() request: PollLegacyTransferRequest, @Ctx() nats: NatsContext): Promise<LegacyTransferReply> {
    return withCallContext(nats, (call) => this.transfers.poll(request, call));
  }

  @MessagePattern(GP2GP_LEGACY_SUBJECTS.legacyInbound)
  inbound(@Payload() request: LegacyInboundRequest, @Ctx() nats: NatsContext): Promise<LegacyInboundReply> {
    return withCallContext(nats, (call) => this.transfers.receive(request, call));
  }

  @MessagePattern(GP2GP_LEGACY_SUBJECTS.legacyAttachmentRead)
  attachment(
    @Payload() request: ReadLegacyAttachmentRequest,
    @Ctx() nats: NatsContext,
  ): Promise<LegacyAttachmentPiece> {
    return withCallContext(nats, (call) => this.transfers.readAttachment(request, call));
  }

  /** A piece of an MHS message posted to the gateway (POST /gp2gp/mhs/inbound). */
  @MessagePattern(GP2GP_LEGACY_SUBJECTS.legacyInboundPiece)
  piece(@Payload() request: LegacyInboundPieceRequest, @Ctx() nats: NatsContext): Promise<LegacyInboundPieceReply> {
    return withCallContext(nats, (call) => this.uploads.piece(request, call));
  }

  /** The posted message is whole: taken as one MHS inbound message. */
  @MessagePattern(GP2GP_LEGACY_SUBJECTS.legacyInboundCommit)
  commit(@Payload() request: LegacyInboundCommitRequest, @Ctx() nats: NatsContext): Promise<LegacyInboundReply> {
    return withCallContext(nats, (call) => this.uploads.commit(request, call));
  }

  /** A post that failed before its commit: its pieces are dropped. */
  @MessagePattern(GP2GP_LEGACY_SUBJECTS.legacyInboundDiscard)
  discard(@Payload() request: LegacyInboundDiscardRequest, @Ctx() nats: NatsContext): Promise<{ discarded: number }> {
    return withCallContext(nats, (call) => this.uploads.discard(request, call));
  }
}

import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  GP2GP_LEGACY_SUBJECTS,
  LegacyInboundRequest,
  OpenLegacyTransferRequest,
  PollLegacyTransferRequest,
  ReadLegacyAttachmentRequest,
  type LegacyAttachmentPiece,
  type LegacyInboundReply,
  type LegacyTransferReply,
} from '@platform/contracts-gp2gp';
import { withCallContext } from '@platform/shared-nats';
import { LegacyTransfers } from './legacy-transfers';

/** The legacy (HL7 V3 / MHS) subjects: opening and polling by the requester, inbound messages by the sender. */
@Controller()
export class LegacyHandler {
  constructor(@Inject(LegacyTransfers) private readonly transfers: LegacyTransfers) {}

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
}

import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  AckTransferRequest,
  GP2GP_SUBJECTS,
  ListTransfersRequest,
  ReadAttachmentRequest,
  ResendTransferRequest,
  StartTransferRequest,
  TransferStatusRequest,
  type AttachmentPiece,
  type StartTransferReply,
  type TransferPage,
  type TransferStatus,
} from '@platform/contracts-gp2gp';
import { withCallContext } from '@platform/shared-nats';
import { AcknowledgeTransferUseCase, OperatorUseCases, ReadAttachmentUseCase } from './operations.usecases';
import { StartTransferUseCase } from './start-transfer.usecase';

@Controller()
export class TransfersHandler {
  constructor(
    private readonly starts: StartTransferUseCase,
    private readonly acks: AcknowledgeTransferUseCase,
    private readonly operators: OperatorUseCases,
    private readonly attachments: ReadAttachmentUseCase,
  ) {}

  @MessagePattern(GP2GP_SUBJECTS.transferStart)
  start(@Payload() request: StartTransferRequest, @Ctx() nats: NatsContext): Promise<StartTransferReply> {
    return withCallContext(nats, (call) => this.starts.execute(request, call));
  }

  @MessagePattern(GP2GP_SUBJECTS.transferAck)
  ack(@Payload() request: AckTransferRequest, @Ctx() nats: NatsContext): Promise<TransferStatus> {
    return withCallContext(nats, (call) => this.acks.execute(request, call));
  }

  @MessagePattern(GP2GP_SUBJECTS.attachmentRead)
  read(@Payload() request: ReadAttachmentRequest, @Ctx() nats: NatsContext): Promise<AttachmentPiece> {
    return withCallContext(nats, (call) => this.attachments.execute(request, call));
  }

  @MessagePattern(GP2GP_SUBJECTS.transferStatus)
  status(@Payload() request: TransferStatusRequest, @Ctx() nats: NatsContext): Promise<TransferStatus> {
    return withCallContext(nats, () => this.operators.status(request.conversationId));
  }

  @MessagePattern(GP2GP_SUBJECTS.transferList)
  list(@Payload() request: ListTransfersRequest, @Ctx() nats: NatsContext): Promise<TransferPage> {
    return withCallContext(nats, () => this.operators.list(request));
  }

  @MessagePattern(GP2GP_SUBJECTS.transferResend)
  resend(@Payload() request: ResendTransferRequest, @Ctx() nats: NatsContext): Promise<TransferStatus> {
    return withCallContext(nats, (call) => this.operators.resend(request, call));
  }
}

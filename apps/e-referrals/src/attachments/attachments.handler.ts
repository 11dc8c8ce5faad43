import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  AttachmentReadRequest,
  AttachmentUploadRequest,
  ChangeRequest,
  ERS_SUBJECTS,
  type AttachmentPart,
  type FhirReply,
} from '@platform/contracts-ers';
import { withCallContext } from '@platform/shared-nats';
import { AttachmentsUseCase } from './attachments.usecase';

/** A020 upload, A006 read, A012 maintain referral letter. */
@Controller()
export class AttachmentsHandler {
  constructor(private readonly attachments: AttachmentsUseCase) {}

  @MessagePattern(ERS_SUBJECTS.attachmentUpload)
  upload(@Payload() request: AttachmentUploadRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.attachments.upload(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.attachmentRead)
  read(@Payload() request: AttachmentReadRequest, @Ctx() nats: NatsContext): Promise<AttachmentPart> {
    return withCallContext(nats, (call) => this.attachments.read(request, call));
  }

  @MessagePattern(ERS_SUBJECTS.referralLetterMaintain)
  maintain(@Payload() request: ChangeRequest, @Ctx() nats: NatsContext): Promise<FhirReply> {
    return withCallContext(nats, (call) => this.attachments.maintainLetters(request, call));
  }
}

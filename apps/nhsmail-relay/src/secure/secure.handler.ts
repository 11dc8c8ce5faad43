import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  NHSMAIL_SECURE_SUBJECTS,
  SecureAttachmentRequest,
  SecureCodeVerifyRequest,
  SecureLinkRequest,
  SecureReadRequest,
  type SecureAttachment,
  type SecureCodeRequested,
  type SecureCodeVerified,
  type SecureLinkState,
  type SecureMessageView,
} from '@platform/contracts-nhsmail';
import { withCallContext } from '@platform/shared-nats';
import { SecureMail } from './secure-mail';

/** The secure page's requests (from the gateway, as nhsmail-secure-web): the link token is the credential. */
@Controller()
export class SecureHandler {
  constructor(private readonly secure: SecureMail) {}

  @MessagePattern(NHSMAIL_SECURE_SUBJECTS.secureLink)
  link(@Payload() request: SecureLinkRequest, @Ctx() nats: NatsContext): Promise<SecureLinkState> {
    return withCallContext(nats, () => this.secure.link(request.token));
  }

  @MessagePattern(NHSMAIL_SECURE_SUBJECTS.secureCodeRequest)
  requestCode(@Payload() request: SecureLinkRequest, @Ctx() nats: NatsContext): Promise<SecureCodeRequested> {
    return withCallContext(nats, () => this.secure.requestCode(request.token));
  }

  @MessagePattern(NHSMAIL_SECURE_SUBJECTS.secureCodeVerify)
  verifyCode(@Payload() request: SecureCodeVerifyRequest, @Ctx() nats: NatsContext): Promise<SecureCodeVerified> {
    return withCallContext(nats, () => this.secure.verifyCode(request.token, request.code));
  }

  @MessagePattern(NHSMAIL_SECURE_SUBJECTS.secureRead)
  read(@Payload() request: SecureReadRequest, @Ctx() nats: NatsContext): Promise<SecureMessageView> {
    return withCallContext(nats, (call) => this.secure.read(request.token, request.session, call));
  }

  @MessagePattern(NHSMAIL_SECURE_SUBJECTS.secureAttachment)
  attachment(@Payload() request: SecureAttachmentRequest, @Ctx() nats: NatsContext): Promise<SecureAttachment> {
    return withCallContext(nats, (call) => this.secure.attachment(request.token, request.session, request.index, call));
  }
}

import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { CreateMailboxRequest, GetMailboxRequest, NHSMAIL_SUBJECTS, type Mailbox } from '@platform/contracts-nhsmail';
import { PlatformError } from '@platform/shared-errors';
import { withCallContext } from '@platform/shared-nats';
import { CreateMailboxUseCase } from './create-mailbox.usecase';
import { MailboxRepository, publicMailbox } from './mailbox.repository';

@Controller()
export class MailboxHandler {
  constructor(
    private readonly createMailbox: CreateMailboxUseCase,
    private readonly mailboxes: MailboxRepository,
  ) {}

  @MessagePattern(NHSMAIL_SUBJECTS.mailboxCreate)
  create(@Payload() request: CreateMailboxRequest, @Ctx() nats: NatsContext): Promise<Mailbox> {
    return withCallContext(nats, (call) => this.createMailbox.execute(request, call));
  }

  @MessagePattern(NHSMAIL_SUBJECTS.mailboxGet)
  get(@Payload() request: GetMailboxRequest, @Ctx() nats: NatsContext): Promise<Mailbox> {
    return withCallContext(nats, async () => {
      const mailbox = await this.mailboxes.find(request.address);
      if (!mailbox) throw new PlatformError('NHSMAIL_MAILBOX_NOT_FOUND');
      return publicMailbox(mailbox);
    });
  }
}

import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  ListMessagesRequest,
  MarkMessageRequest,
  MessageRef,
  NHSMAIL_SUBJECTS,
  ProvisionSharedMailboxesRequest,
  ProvisionPersonalMailboxRequest,
  type Mailbox,
  SendMessageRequest,
  AttachmentPieceRequest,
  type AttachmentPiece,
  type SentMessage,
  type MessageContent,
  type MessagePage,
  type MessageSummary,
  type MyMailboxes,
  type ProvisionedMailboxes,
} from '@platform/contracts-nhsmail';
import { PlatformError } from '@platform/shared-errors';
import { withCallContext, type CallContext } from '@platform/shared-nats';
import { IdempotentWrites, writeKey } from '@platform/shared-persistence';
import { DirectoryMailboxes } from './directory-mailboxes';
import { MailboxAccess } from './mailbox-access';
import { MailboxMessages } from './mailbox-messages';
import { localPartOfName, PersonalMailboxes } from './personal-mailboxes';
import { SendMessage } from './send-message';

function readerOf(call: CallContext): string {
  return call.caller?.username ?? call.caller?.id ?? 'anonymous';
}

/** The mailbox API over NATS (the gateway serves it at /nhsmail/mailboxes/...). */
@Controller()
export class MailboxApiHandler {
  constructor(
    private readonly personal: PersonalMailboxes,
    private readonly access: MailboxAccess,
    private readonly messages: MailboxMessages,
    private readonly writes: IdempotentWrites,
    private readonly send: SendMessage,
    private readonly directory: DirectoryMailboxes,
  ) {}

  @MessagePattern(NHSMAIL_SUBJECTS.messageAttachment)
  attachment(@Payload() request: AttachmentPieceRequest, @Ctx() nats: NatsContext): Promise<AttachmentPiece> {
    return withCallContext(nats, async (call) => {
      await this.access.authorise(request.mailbox, call.caller);
      return this.messages.attachmentPiece(
        request.mailbox,
        request.id,
        request.index,
        request.offset ?? 0,
        readerOf(call),
        call.requestId,
      );
    });
  }

  @MessagePattern(NHSMAIL_SUBJECTS.messageSend)
  sendMessage(@Payload() request: SendMessageRequest, @Ctx() nats: NatsContext): Promise<SentMessage> {
    return withCallContext(nats, (call) => this.send.execute(request, call.caller, call.requestId));
  }

  @MessagePattern(NHSMAIL_SUBJECTS.mailboxMine)
  mine(@Ctx() nats: NatsContext): Promise<MyMailboxes> {
    return withCallContext(nats, async (call) => ({
      personal: await this.personal.ensure(call.caller),
      shared: await this.personal.sharedFor(call.caller),
    }));
  }

  @MessagePattern(NHSMAIL_SUBJECTS.mailboxProvisionShared)
  provision(
    @Payload() request: ProvisionSharedMailboxesRequest,
    @Ctx() nats: NatsContext,
  ): Promise<ProvisionedMailboxes> {
    return withCallContext(nats, (call) =>
      this.writes.run(writeKey(call, 'mailbox.provision-shared', request), (transaction) =>
        this.personal.provisionPharmacies(request.odsCodes, call.caller?.id ?? 'anonymous', transaction),
      ),
    );
  }

  /** Every active pharmacy of the N3 registry's directory, asked page by page as the registry-admin who called. */
  @MessagePattern(NHSMAIL_SUBJECTS.mailboxProvisionPharmacies)
  provisionPharmacies(@Ctx() nats: NatsContext): Promise<ProvisionedMailboxes> {
    return withCallContext(nats, (call) => this.directory.provision(['pharmacy'], call));
  }

  /** gp.<ods>@ for every active GP practice and pharmacy.<ods>@ for every active pharmacy of the directory. */
  @MessagePattern(NHSMAIL_SUBJECTS.mailboxProvisionDirectory)
  provisionDirectory(@Ctx() nats: NatsContext): Promise<ProvisionedMailboxes> {
    return withCallContext(nats, (call) => this.directory.provision(['gp-practice', 'pharmacy'], call));
  }

  @MessagePattern(NHSMAIL_SUBJECTS.mailboxProvisionPersonal)
  provisionPersonal(@Payload() request: ProvisionPersonalMailboxRequest, @Ctx() nats: NatsContext): Promise<Mailbox> {
    return withCallContext(nats, (call) => {
      const local = localPartOfName(request.firstName, request.lastName);
      if (!local) {
        throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'The names give no usable mail address' });
      }
      return this.personal.ensureFor(
        request.username,
        local,
        `${request.firstName} ${request.lastName}`,
        call.caller?.id ?? 'anonymous',
      );
    });
  }

  @MessagePattern(NHSMAIL_SUBJECTS.messageList)
  list(@Payload() request: ListMessagesRequest, @Ctx() nats: NatsContext): Promise<MessagePage> {
    return withCallContext(nats, async (call) => {
      await this.access.authorise(request.mailbox, call.caller);
      return this.messages.list(request);
    });
  }

  @MessagePattern(NHSMAIL_SUBJECTS.messageRead)
  read(@Payload() request: MessageRef, @Ctx() nats: NatsContext): Promise<MessageContent> {
    return withCallContext(nats, async (call) => {
      await this.access.authorise(request.mailbox, call.caller);
      return this.messages.read(request.mailbox, request.id, readerOf(call), call.requestId);
    });
  }

  @MessagePattern(NHSMAIL_SUBJECTS.messageMark)
  mark(@Payload() request: MarkMessageRequest, @Ctx() nats: NatsContext): Promise<MessageSummary> {
    return withCallContext(nats, async (call) => {
      await this.access.authorise(request.mailbox, call.caller);
      return this.writes.run(writeKey(call, 'message.mark', request), (transaction) =>
        this.messages.mark(request.mailbox, request.id, request.seen, transaction),
      );
    });
  }

  @MessagePattern(NHSMAIL_SUBJECTS.messageDelete)
  delete(@Payload() request: MessageRef, @Ctx() nats: NatsContext): Promise<{ deleted: true }> {
    return withCallContext(nats, async (call) => {
      await this.access.authorise(request.mailbox, call.caller);
      return this.writes.run(writeKey(call, 'message.delete', request), (transaction) =>
        this.messages.delete(request.mailbox, request.id, transaction),
      );
    });
  }
}

import { Readable } from 'node:stream';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  NHSMAIL_MAILBOX_ADMINS,
  NHSMAIL_MAILBOX_USERS,
  NHSMAIL_QUEUE_OPERATORS,
  type ListQueueRequest,
  type PurgeQueueRequest,
  type QueueActionResult,
  type QueuePage,
  type RetryQueueRequest,
  type CreateMailboxRequest,
  type ListMessagesRequest,
  type Mailbox,
  type MessageContent,
  type MessagePage,
  type MessageSummary,
  type MyMailboxes,
  type NhsmailRelayApi,
  type ProvisionedMailboxes,
  type ProvisionPersonalMailboxRequest,
  type ProvisionSharedMailboxesRequest,
  type AttachmentPiece,
  type SendMessageRequest,
  type SentMessage,
} from '@platform/contracts-nhsmail';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { ApiRoute } from '../auth/route-policy';
import { callContextOf } from '../http/call-context';

export const NHSMAIL_RELAY_CLIENT = Symbol('NHSMAIL_RELAY_CLIENT');

/** A message sent through the API goes over NATS in one piece (1 MB); larger mail goes by SMTP submission. */
const SEND_BODY_BYTES = 900 * 1024;

/** A JSON object body, or 400 saying what was expected. */
function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body)) {
    throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'The request body must be a JSON object' });
  }
  return body as Record<string, unknown>;
}

/** A whole number from the query string, or undefined when absent (the relay validates the range). */
function queryNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
}

/** The list/search filters from the query string. */
function listQuery(address: string, query: Record<string, string | undefined>): ListMessagesRequest {
  const unread = query.unread;
  if (unread !== undefined && unread !== 'true' && unread !== 'false') {
    throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'unread must be true or false' });
  }
  const request: ListMessagesRequest = { mailbox: address };
  if (unread !== undefined) request.unreadOnly = unread === 'true';
  for (const key of ['subject', 'from', 'since', 'until'] as const) {
    if (query[key] !== undefined) request[key] = query[key];
  }
  const limit = queryNumber(query.limit);
  const offset = queryNumber(query.offset);
  if (limit !== undefined) request.limit = limit;
  if (offset !== undefined) request.offset = offset;
  return request;
}

@ApiTags('NHSmail, JSON')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Request-ID', required: false, description: 'UUID; required on writes (the idempotency key)' })
@Controller('nhsmail')
export class NhsmailRelayController {
  constructor(@Inject(NHSMAIL_RELAY_CLIENT) private readonly nhsmailRelay: NhsmailRelayApi) {}

  @Post('mailboxes')
  @ApiRoute(NHSMAIL_MAILBOX_ADMINS, { write: true })
  @ApiOperation({
    summary:
      'Create a mailbox: personal, shared (with members) or an application account (exactly once per X-Request-ID)',
    description: 'Roles: registry-admin. A password is stored only as a scrypt hash and never returned.',
  })
  @ApiResponse({ status: 201, description: 'The mailbox, with Location' })
  @ApiResponse({ status: 409, description: 'NHSMAIL_MAILBOX_EXISTS' })
  @ApiResponse({ status: 422, description: 'NHSMAIL_NOT_PLATFORM_DOMAIN' })
  async create(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Mailbox> {
    const mailbox = await this.nhsmailRelay.createMailbox(
      objectBody(body) as unknown as CreateMailboxRequest,
      callContextOf(request),
    );
    void reply.status(201).header('Location', `/nhsmail/mailboxes/${encodeURIComponent(mailbox.address)}`);
    return mailbox;
  }

  @Get('mailboxes/:address')
  @ApiRoute(NHSMAIL_MAILBOX_ADMINS)
  @ApiOperation({ summary: 'A mailbox, its kind, owner and members', description: 'Roles: registry-admin' })
  @ApiResponse({ status: 404, description: 'NHSMAIL_MAILBOX_NOT_FOUND' })
  async get(@Param('address') address: string, @Req() request: FastifyRequest): Promise<Mailbox> {
    return this.nhsmailRelay.getMailbox({ address }, callContextOf(request));
  }

  @Get('me')
  @ApiRoute(NHSMAIL_MAILBOX_USERS)
  @ApiOperation({
    summary: 'Your mailboxes: your personal one (made on first use) and the shared ones you may use',
    description:
      'Roles: every platform user but patients. Shared mailboxes: those listing you as a member, and those of the organisation you act for.',
  })
  mine(@Req() request: FastifyRequest): Promise<MyMailboxes> {
    return this.nhsmailRelay.myMailboxes(callContextOf(request));
  }

  @Post('shared-mailboxes/pharmacies')
  @ApiRoute(NHSMAIL_MAILBOX_ADMINS, { write: true })
  @HttpCode(200)
  @ApiOperation({
    summary: 'Make the shared mailbox pharmacy.<ODS>@nhs.net of each pharmacy organisation given ({"odsCodes": [...]})',
    description:
      'Roles: registry-admin. Existing ones are kept. The users acting for the organisation are its members.',
  })
  provision(@Body() body: unknown, @Req() request: FastifyRequest): Promise<ProvisionedMailboxes> {
    return this.nhsmailRelay.provisionSharedMailboxes(
      objectBody(body) as unknown as ProvisionSharedMailboxesRequest,
      callContextOf(request),
    );
  }

  @Post('shared-mailboxes/pharmacies/from-directory')
  @ApiRoute(NHSMAIL_MAILBOX_ADMINS, { write: true })
  @HttpCode(200)
  @ApiOperation({
    summary: 'Make pharmacy.<ODS>@nhs.net for every active pharmacy in the N3 registry organisation directory',
    description: 'Roles: registry-admin. Existing ones are kept (answered in existing); safe to run again.',
  })
  provisionFromDirectory(@Req() request: FastifyRequest): Promise<ProvisionedMailboxes> {
    return this.nhsmailRelay.provisionPharmacyMailboxes(callContextOf(request));
  }

  @Post('shared-mailboxes/from-directory')
  @ApiRoute(NHSMAIL_MAILBOX_ADMINS, { write: true })
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Make gp.<ODS>@nhs.net for every active GP practice and pharmacy.<ODS>@nhs.net for every active pharmacy in the N3 registry organisation directory',
    description:
      "Roles: registry-admin. Existing ones are kept (answered in existing); safe to run again, even many times at once. The users acting for each organisation are its mailbox's members.",
  })
  provisionDirectory(@Req() request: FastifyRequest): Promise<ProvisionedMailboxes> {
    return this.nhsmailRelay.provisionDirectoryMailboxes(callContextOf(request));
  }

  @Post('personal-mailboxes')
  @ApiRoute(NHSMAIL_MAILBOX_ADMINS, { write: true })
  @HttpCode(200)
  @ApiOperation({
    summary: "A platform user's personal mailbox firstname.lastname@nhs.net ({username, firstName, lastName})",
    description:
      'Roles: registry-admin. A namesake gets a numeric suffix; a user who already has a personal mailbox keeps it.',
  })
  provisionPersonal(@Body() body: unknown, @Req() request: FastifyRequest): Promise<Mailbox> {
    return this.nhsmailRelay.provisionPersonalMailbox(
      objectBody(body) as unknown as ProvisionPersonalMailboxRequest,
      callContextOf(request),
    );
  }

  @Get('mailboxes/:address/messages')
  @ApiRoute(NHSMAIL_MAILBOX_USERS)
  @ApiOperation({
    summary: 'Messages of a mailbox, newest first: unread=true, subject, from, since, until (ISO dates); limit, offset',
    description: 'The mailbox owner, or a member of the shared mailbox (403 NHSMAIL_MAILBOX_FORBIDDEN otherwise)',
  })
  @ApiResponse({ status: 403, description: 'NHSMAIL_MAILBOX_FORBIDDEN' })
  list(
    @Param('address') address: string,
    @Query() query: Record<string, string | undefined>,
    @Req() request: FastifyRequest,
  ): Promise<MessagePage> {
    return this.nhsmailRelay.listMessages(listQuery(address, query), callContextOf(request));
  }

  @Get('mailboxes/:address/messages/:id')
  @ApiRoute(NHSMAIL_MAILBOX_USERS)
  @ApiOperation({
    summary: 'Read a message: headers, text, HTML and the list of attachments; marks it read',
    description: 'Every read is audited (who, which mailbox, which message, when).',
  })
  @ApiResponse({ status: 404, description: 'NHSMAIL_MESSAGE_NOT_FOUND' })
  read(
    @Param('address') address: string,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
  ): Promise<MessageContent> {
    return this.nhsmailRelay.readMessage({ mailbox: address, id }, callContextOf(request));
  }

  @Patch('mailboxes/:address/messages/:id')
  @ApiRoute(NHSMAIL_MAILBOX_USERS, { write: true })
  @ApiOperation({ summary: 'Mark a message read or unread ({"seen": true|false})' })
  mark(
    @Param('address') address: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ): Promise<MessageSummary> {
    const { seen } = objectBody(body);
    return this.nhsmailRelay.markMessage({ mailbox: address, id, seen: seen as boolean }, callContextOf(request));
  }

  @Delete('mailboxes/:address/messages/:id')
  @ApiRoute(NHSMAIL_MAILBOX_USERS, { write: true })
  @ApiOperation({ summary: 'Delete a message from the mailbox (once per X-Request-ID)' })
  remove(
    @Param('address') address: string,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
  ): Promise<{ deleted: true }> {
    return this.nhsmailRelay.deleteMessage({ mailbox: address, id }, callContextOf(request));
  }

  @Get('mailboxes/:address/messages/:id/attachments/:index')
  @ApiRoute(NHSMAIL_MAILBOX_USERS)
  @ApiOperation({
    summary: 'Download an attachment of a message (streamed, with its content type); audited like a read',
  })
  @ApiResponse({ status: 404, description: 'NHSMAIL_MESSAGE_NOT_FOUND' })
  async attachment(
    @Param('address') address: string,
    @Param('id') id: string,
    @Param('index') index: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const context = callContextOf(request);
    const ask = { mailbox: address, id, index: /^\d{1,4}$/.test(index) ? Number(index) : Number.NaN };
    // The first piece before the headers: a refusal is answered with its status, not a broken download.
    const first = await this.nhsmailRelay.readAttachment(ask, context);
    const name = (first.filename ?? `attachment-${index}`).replace(/[^\x20-\x7e]|["\\]/g, '_');
    void reply
      .status(200)
      .header('content-type', first.contentType)
      .header('content-length', String(first.sizeBytes))
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store');
    await reply.send(Readable.from(this.pieces(ask, first, context)));
  }

  /** The attachment piece after piece, asked for when the client has read the last. */
  private async *pieces(
    ask: { mailbox: string; id: string; index: number },
    first: AttachmentPiece,
    context: CallContext,
  ): AsyncGenerator<Buffer> {
    let piece = first;
    for (;;) {
      yield Buffer.from(piece.data, 'base64');
      if (piece.next === null) return;
      piece = await this.nhsmailRelay.readAttachment({ ...ask, offset: piece.next }, context);
    }
  }

  @Post('mailboxes/:address/messages')
  @ApiRoute(NHSMAIL_MAILBOX_USERS, { write: true, maxBodyBytes: SEND_BODY_BYTES })
  @ApiOperation({
    summary:
      'Send from this mailbox ({to, cc?, subject, text?, html?, attachments?: [{filename, contentType?, contentBase64}]})',
    description:
      'Composed into MIME and queued like SMTP submission (exactly once per X-Request-ID): the mailbox must be yours or a shared one you are a member of; the 35 MB limit and the blocked attachment types apply. 202 with the queued message.',
  })
  @ApiResponse({ status: 202, description: 'Queued' })
  @ApiResponse({ status: 403, description: 'NHSMAIL_MAILBOX_FORBIDDEN' })
  @ApiResponse({ status: 413, description: 'NHSMAIL_MESSAGE_TOO_LARGE' })
  @ApiResponse({ status: 422, description: 'NHSMAIL_BLOCKED_ATTACHMENT, NHSMAIL_UNKNOWN_RECIPIENT' })
  async send(
    @Param('address') address: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SentMessage> {
    const sent = await this.nhsmailRelay.sendMessage(
      { ...objectBody(body), mailbox: address } as unknown as SendMessageRequest,
      callContextOf(request),
    );
    void reply.status(202);
    return sent;
  }

  @Get('queue')
  @ApiRoute(NHSMAIL_QUEUE_OPERATORS)
  @ApiOperation({
    summary:
      'The delivery queue, oldest first: state (pending, delivered, bounced), domain, olderThanMinutes; limit, offset',
    description: 'Roles: ops. Recipient addresses and the last SMTP error; never message content.',
  })
  queue(@Query() query: Record<string, string | undefined>, @Req() request: FastifyRequest): Promise<QueuePage> {
    const ask: Record<string, unknown> = {};
    if (query.state !== undefined) ask.state = query.state;
    if (query.domain !== undefined) ask.domain = query.domain;
    for (const key of ['olderThanMinutes', 'limit', 'offset'] as const) {
      const value = queryNumber(query[key]);
      if (value !== undefined) ask[key] = value;
    }
    return this.nhsmailRelay.listQueue(ask as ListQueueRequest, callContextOf(request));
  }

  @Post('queue/retry')
  @ApiRoute(NHSMAIL_QUEUE_OPERATORS, { write: true })
  @HttpCode(200)
  @ApiOperation({
    summary: 'Retry now: {"deliveryId": "..."} or {"domain": "example.org"} (pending deliveries no worker holds)',
    description: 'Roles: ops',
  })
  retry(@Body() body: unknown, @Req() request: FastifyRequest): Promise<QueueActionResult> {
    return this.nhsmailRelay.retryQueue(objectBody(body) as RetryQueueRequest, callContextOf(request));
  }

  @Post('queue/purge')
  @ApiRoute(NHSMAIL_QUEUE_OPERATORS, { write: true })
  @HttpCode(200)
  @ApiOperation({
    summary: 'Purge: {"messageId": "<uuid>"} or {"domain": "example.org"}: pending deliveries bounced without a notice',
    description: 'Roles: ops. Once per X-Request-ID; each purged delivery publishes nhsmail.message.bounced.v1.',
  })
  purge(@Body() body: unknown, @Req() request: FastifyRequest): Promise<QueueActionResult> {
    return this.nhsmailRelay.purgeQueue(objectBody(body) as PurgeQueueRequest, callContextOf(request));
  }
}

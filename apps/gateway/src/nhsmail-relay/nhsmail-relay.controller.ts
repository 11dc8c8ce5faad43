import { Body, Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  NHSMAIL_MAILBOX_ADMINS,
  type CreateMailboxRequest,
  type Mailbox,
  type NhsmailRelayApi,
} from '@platform/contracts-nhsmail';
import { PlatformError } from '@platform/shared-errors';
import { ApiRoute } from '../auth/route-policy';
import { callContextOf } from '../http/call-context';

export const NHSMAIL_RELAY_CLIENT = Symbol('NHSMAIL_RELAY_CLIENT');

/** A JSON object body, or 400 saying what was expected. */
function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body)) {
    throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'The request body must be a JSON object' });
  }
  return body as Record<string, unknown>;
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
}

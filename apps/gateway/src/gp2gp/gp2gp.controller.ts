import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  GP2GP_OPERATORS,
  GP2GP_PRACTICE_ROLES,
  REASON_CODE_SYSTEM,
  type AckTransferRequest,
  type AttachmentPiece,
  type Gp2gpApi,
  type ListTransfersRequest,
  type StartTransferReply,
  type TransferPage,
  type TransferStatus,
} from '@platform/contracts-gp2gp';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { ApiRoute, BODY_LIMITS } from '../auth/route-policy';
import { callContextOf } from '../http/call-context';
import { FHIR_JSON } from '../http/error-response';

export const GP2GP_CLIENT = Symbol('GP2GP_CLIENT');

function invalid(diagnostics: string): PlatformError {
  return new PlatformError('INVALID_VALUE', undefined, { diagnostics });
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The NHS number of a `Parameters` body (`patientNHSNumber`, an identifier), as the requesting adaptor takes it. */
function nhsNumberOf(body: unknown): string {
  const parameters = body as { resourceType?: unknown; parameter?: unknown } | null;
  if (typeof parameters !== 'object' || parameters === null || parameters.resourceType !== 'Parameters') {
    throw invalid('The request body must be a FHIR Parameters resource');
  }
  const list = Array.isArray(parameters.parameter) ? (parameters.parameter as Record<string, unknown>[]) : [];
  const value = (
    list.find((item) => item?.['name'] === 'patientNHSNumber')?.['valueIdentifier'] as { value?: unknown } | undefined
  )?.value;
  if (typeof value !== 'string') throw invalid('Parameters must carry patientNHSNumber (valueIdentifier)');
  return value;
}

/** A failed transfer as the NHS's adaptor answers it: an OperationOutcome with the GP2GP reason code. */
function failedOutcome(reply: StartTransferReply): object {
  const reason = reply.reason!;
  return {
    resourceType: 'OperationOutcome',
    meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1'] },
    issue: [
      {
        severity: 'error',
        code: 'processing',
        details: { coding: [{ system: `urn:oid:${REASON_CODE_SYSTEM}`, code: reason.code, display: reason.display }] },
        diagnostics: `Transfer ${reply.conversationId} ended ${reply.state}: ${reason.display}`,
      },
    ],
  };
}

/**
 * GP2GP record transfer. For the requesting practice (practice-admin or clinician of that practice, or its
 * clinical system with an application token): the NHS requesting adaptor's `Patient/$gpc.migratestructuredrecord`
 * and `$gpc.ack`, and attachment links. For operators (ops): the sending adaptor's `ehr-status` and `ehr-resend`.
 */
@ApiTags('GP2GP record transfer')
@ApiBearerAuth()
@ApiHeader({ name: 'NHSD-End-User-Organisation-ODS', required: false, description: 'The requesting practice' })
@Controller('gp2gp')
export class Gp2gpController {
  constructor(@Inject(GP2GP_CLIENT) private readonly gp2gp: Gp2gpApi) {}

  @Post('Patient/$gpc.migratestructuredrecord')
  @ApiRoute(GP2GP_PRACTICE_ROLES, { maxBodyBytes: BODY_LIMITS.gp2gpRequest })
  @ApiOperation({
    summary: 'Start a record transfer for an NHS number, or poll it (the same request again)',
    description:
      'Roles: practice-admin, clinician (of the requesting practice). Headers: ConversationId (UUID, the transfer), to-ods (the previous practice).',
  })
  @ApiHeader({ name: 'ConversationId', required: true, description: 'UUID naming the transfer' })
  @ApiHeader({ name: 'to-ods', required: true, description: 'ODS code of the previous (sending) practice' })
  @ApiBody({ schema: { type: 'object', description: 'FHIR Parameters with patientNHSNumber' } })
  @ApiResponse({ status: 202, description: 'Started' })
  @ApiResponse({ status: 204, description: 'In progress' })
  @ApiResponse({ status: 200, description: 'The FHIR Bundle; attachment addresses are short-lived links' })
  @ApiResponse({ status: 403, description: 'OperationOutcome with GP2GP reason 19 (not the registered practice)' })
  async migrate(@Body() body: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const conversationId = header(request, 'conversationid');
    const sendingOds = header(request, 'to-ods');
    if (!conversationId) throw invalid('The ConversationId header is required');
    if (!sendingOds) throw invalid('The to-ods header (the previous practice) is required');
    const result = await this.gp2gp.startTransfer(
      {
        conversationId: conversationId.toLowerCase(),
        nhsNumber: nhsNumberOf(body),
        sendingOds: sendingOds.toUpperCase(),
      },
      callContextOf(request),
    );
    void reply.header('ConversationId', result.conversationId);
    switch (result.outcome) {
      case 'accepted':
        await reply.status(202).send();
        return;
      case 'in-progress':
        await reply.status(204).send();
        return;
      case 'completed':
        await reply.status(200).type(FHIR_JSON).send(result.bundleJson);
        return;
      case 'failed':
        await reply.status(result.reason!.httpStatus).type(FHIR_JSON).send(failedOutcome(result));
    }
  }

  @Post('$gpc.ack')
  @HttpCode(200)
  @ApiRoute(GP2GP_PRACTICE_ROLES, { maxBodyBytes: BODY_LIMITS.gp2gpRequest })
  @ApiOperation({
    summary: 'The final acknowledgement: ACCEPTED, or FAILED_TO_INTEGRATE with a reason (11, 12, 17, 21, 28, 99)',
    description: 'Roles: practice-admin, clinician (of the requesting practice). Header: ConversationId.',
  })
  @ApiHeader({ name: 'ConversationId', required: true, description: 'UUID naming the transfer' })
  @ApiBody({ schema: { type: 'object', example: { confirmationResponse: 'FAILED_TO_INTEGRATE', reasonCode: '11' } } })
  @ApiResponse({
    status: 409,
    description: 'GP2GP_OUT_OF_ORDER (record not ready), GP2GP_TRANSFER_CLOSED (already acknowledged)',
  })
  async ack(@Body() body: unknown, @Req() request: FastifyRequest): Promise<TransferStatus> {
    const conversationId = header(request, 'conversationid');
    if (!conversationId) throw invalid('The ConversationId header is required');
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw invalid('The body must be a JSON object');
    const { confirmationResponse, reasonCode } = body as Partial<AckTransferRequest>;
    return this.gp2gp.acknowledge(
      {
        conversationId: conversationId.toLowerCase(),
        confirmationResponse: confirmationResponse!,
        ...(reasonCode === undefined ? {} : { reasonCode }),
      },
      callContextOf(request),
    );
  }

  @Get('attachments/:link')
  @ApiRoute(GP2GP_PRACTICE_ROLES)
  @ApiOperation({
    summary: 'An attachment of a delivered record, streamed, through the link the Bundle gave',
    description:
      'Roles: practice-admin, clinician of the practice the link was made for, before it expires. X-Content-SHA256 carries the SHA-256 of the whole attachment.',
  })
  @ApiResponse({ status: 403, description: 'GP2GP_LINK_INVALID (altered, or another practice’s link)' })
  @ApiResponse({ status: 410, description: 'GP2GP_LINK_EXPIRED' })
  async attachment(
    @Param('link') link: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const context = callContextOf(request);
    // The first piece before the headers: a refused link is answered with its status, not a broken download.
    const first = await this.gp2gp.readAttachment({ token: link }, context);
    void reply
      .status(200)
      .header('content-type', first.contentType)
      .header('content-length', String(first.size))
      .header('x-content-sha256', first.sha256)
      .header('cache-control', 'no-store');
    await reply.send(Readable.from(this.pieces(link, first, context)));
  }

  /**
   * The attachment piece after piece, with the next piece asked for while the client reads this one (at most
   * two pieces in memory). The bytes are hashed as they pass: a download whose bytes do not add up to the
   * attachment's size and SHA-256 ends with an error (the connection is cut before the last byte), so the
   * requester never holds an altered attachment as if it were whole.
   */
  private async *pieces(token: string, first: AttachmentPiece, context: CallContext): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    let length = 0;
    let piece = first;
    for (;;) {
      const next = piece.cursor ? this.gp2gp.readAttachment({ token, cursor: piece.cursor }, context) : undefined;
      // A client gone mid-download leaves the read ahead unawaited: its failure is not an unhandled one.
      next?.catch(() => undefined);
      const bytes = Buffer.from(piece.data, 'base64');
      hash.update(bytes);
      length += bytes.length;
      // Checked before the last piece goes out: the client has not yet had every byte it was promised.
      if (!next && (length !== first.size || hash.digest('hex') !== first.sha256)) {
        throw new PlatformError('REC_SERVER_ERROR', 'The attachment does not match its size and SHA-256');
      }
      yield bytes;
      if (!next) return;
      piece = await next;
    }
  }

  @Get('ehr-status')
  @ApiRoute(GP2GP_OPERATORS)
  @ApiOperation({
    summary: 'Transfers, newest first: filter by state, requestingOds, sendingOds, since; limit and offset',
    description: 'Roles: ops',
  })
  list(@Query() query: Record<string, string>, @Req() request: FastifyRequest): Promise<TransferPage> {
    return this.gp2gp.list(query as unknown as ListTransfersRequest, callContextOf(request));
  }

  @Get('ehr-status/:conversationId')
  @ApiRoute(GP2GP_OPERATORS)
  @ApiOperation({
    summary: "A transfer's state, attachments (fragments stored, SHA-256) and log",
    description: 'Roles: ops',
  })
  @ApiResponse({ status: 404, description: 'GP2GP_TRANSFER_NOT_FOUND' })
  status(@Param('conversationId') conversationId: string, @Req() request: FastifyRequest): Promise<TransferStatus> {
    return this.gp2gp.status({ conversationId: conversationId.toLowerCase() }, callContextOf(request));
  }

  @Post('ehr-resend/:conversationId')
  @HttpCode(200)
  @ApiRoute(GP2GP_OPERATORS, { write: true, maxBodyBytes: BODY_LIMITS.gp2gpRequest })
  @ApiOperation({
    summary: 'Send a failed or timed-out transfer again from the sending practice’s record',
    description: 'Roles: ops',
  })
  @ApiResponse({ status: 409, description: 'GP2GP_NOT_RESENDABLE' })
  resend(@Param('conversationId') conversationId: string, @Req() request: FastifyRequest): Promise<TransferStatus> {
    return this.gp2gp.resend({ conversationId: conversationId.toLowerCase() }, callContextOf(request));
  }
}

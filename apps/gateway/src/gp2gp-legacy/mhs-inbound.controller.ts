import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Body, Controller, Headers, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import {
  GP2GP_PRACTICE_ROLES,
  MHS_INBOUND_MAX_BYTES,
  MHS_INBOUND_PIECE_BYTES,
  type Gp2gpLegacyClient,
  type LegacyInboundReply,
} from '@platform/contracts-gp2gp';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { ApiRoute } from '../auth/route-policy';
import { callContextOf } from '../http/call-context';
import { payloadTooLarge } from '../http/edge-checks';

export const GP2GP_LEGACY_CLIENT = Symbol('GP2GP_LEGACY_CLIENT');

/**
 * The MHS inbound face of gp2gp for legacy (HL7 V3) practices: the practice's MHS posts each ebXML message
 * (`multipart/related`: the ebXML envelope, the HL7 payload, inline attachments; COPC fragment indexes and
 * fragments of up to 5 MB) as the NHS MHS does. The body is never held whole: it is passed on to gp2gp in
 * pieces of at most 512 KiB as it arrives (NATS's 1 MB message limit stays), then committed; gp2gp reads the
 * message, checks that the caller's organisation is the conversation's sending practice, and takes it into
 * the transfer (reassembling attachments the message completes).
 */
@ApiTags('GP2GP record transfer')
@ApiBearerAuth()
@Controller('gp2gp/mhs')
export class MhsInboundController {
  constructor(@Inject(GP2GP_LEGACY_CLIENT) private readonly legacy: Gp2gpLegacyClient) {}

  @Post('inbound')
  @HttpCode(202)
  @ApiRoute(GP2GP_PRACTICE_ROLES, { maxBodyBytes: MHS_INBOUND_MAX_BYTES })
  @ApiOperation({
    summary:
      'A legacy (HL7 V3) sending practice’s MHS message: EHR extract, COPC fragment index or fragment, acknowledgement',
    description:
      'Roles: practice-admin, clinician (application access of the sending practice’s system, for its own organisation). The body is the ebXML multipart/related message as an MHS sends it, at most 8 MiB (a 5 MB fragment in base64); the conversation is the one its ebXML names. A message sent again (same MessageId) changes nothing (outcome duplicate).',
  })
  @ApiConsumes('multipart/related')
  @ApiBody({ schema: { type: 'string', format: 'binary', description: 'multipart/related ebXML message' } })
  @ApiResponse({ status: 202, description: 'Taken: {conversationId, messageId, action, outcome, state}' })
  @ApiResponse({ status: 400, description: 'GP2GP_MHS_MESSAGE_INVALID (malformed MIME, ebXML or HL7)' })
  @ApiResponse({ status: 404, description: 'GP2GP_TRANSFER_NOT_FOUND (unknown conversation, or not the caller’s)' })
  @ApiResponse({ status: 409, description: 'GP2GP_TRANSFER_CLOSED, GP2GP_MHS_MESSAGE_UNEXPECTED' })
  @ApiResponse({ status: 413, description: 'The message is over 8 MiB' })
  async inbound(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Req() request: FastifyRequest,
  ): Promise<LegacyInboundReply> {
    if (!(body instanceof Readable) || !contentType) {
      throw new PlatformError('GP2GP_MHS_MESSAGE_INVALID', undefined, {
        diagnostics: 'Send the ebXML message as the body, with Content-Type: multipart/related',
      });
    }
    const context = callContextOf(request);
    const uploadId = randomUUID();
    const sent = { pieces: 0 };
    let passed: { pieces: number; size: number };
    try {
      passed = await this.passOn(body, uploadId, context, sent);
    } catch (error) {
      // Refused, too large, or the client went away: what was passed on is dropped, not left in the store.
      if (sent.pieces > 0) {
        await this.legacy.discard({ uploadId, pieces: sent.pieces }, context).catch(() => undefined);
      }
      throw error;
    }
    const { pieces, size } = passed;
    if (size === 0) {
      throw new PlatformError('GP2GP_MHS_MESSAGE_INVALID', undefined, { diagnostics: 'The body is empty' });
    }
    return this.legacy.commit({ uploadId, pieces, size, contentType: contentType.slice(0, 1000) }, context);
  }

  /** Sends the body on as it arrives, a piece at a time (the next is read once the previous is stored). */
  private async passOn(
    body: Readable,
    uploadId: string,
    context: CallContext,
    sent: { pieces: number },
  ): Promise<{ pieces: number; size: number }> {
    let held: Buffer[] = [];
    let heldBytes = 0;
    let size = 0;
    let pieces = 0;
    const send = async (bytes: Buffer): Promise<void> => {
      // Counted before it is sent: a piece whose answer is lost may still have been stored.
      sent.pieces = pieces + 1;
      await this.legacy.deliverPiece({ uploadId, index: pieces, data: bytes.toString('base64') }, context);
      pieces += 1;
    };
    for await (const chunk of body) {
      const bytes = chunk as Buffer;
      size += bytes.length;
      if (size > MHS_INBOUND_MAX_BYTES) {
        // Read on without keeping or passing on (so that the client, still sending, gets the 413 rather than a
        // reset), but not past twice the limit.
        if (size > 2 * MHS_INBOUND_MAX_BYTES) body.destroy();
        if (body.destroyed) break;
        continue;
      }
      held.push(bytes);
      heldBytes += bytes.length;
      while (heldBytes >= MHS_INBOUND_PIECE_BYTES) {
        const all = Buffer.concat(held, heldBytes);
        await send(all.subarray(0, MHS_INBOUND_PIECE_BYTES));
        const rest = all.subarray(MHS_INBOUND_PIECE_BYTES);
        held = rest.length > 0 ? [rest] : [];
        heldBytes = rest.length;
      }
    }
    if (size > MHS_INBOUND_MAX_BYTES) throw payloadTooLarge(MHS_INBOUND_MAX_BYTES);
    if (heldBytes > 0) await send(Buffer.concat(held, heldBytes));
    return { pieces, size };
  }
}

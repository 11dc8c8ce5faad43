import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { NatsConnection } from 'nats';
import {
  ERS_ATTACHMENT_MAX_BYTES,
  ERS_REFERRERS,
  ERS_USERS,
  uploadBucket,
  type AttachmentsClient,
  type FhirResource,
} from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { FhirRoute, BODY_LIMITS } from '../auth/route-policy';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway.settings';
import { GATEWAY_NATS } from '../n3/n3-body';
import { FHIR_JSON } from '../http/error-response';
import { BinaryLinks, type LinkHolder } from './binary-links';
import { ErsCaller, ifMatchOf } from './ers-call';
import { ON_BEHALF_OF_API_HEADER } from './ers-http';

export const ATTACHMENTS_CLIENT = Symbol('ATTACHMENTS_CLIENT');

/** What the route reads at most: a byte over the NHS limit, so that a larger file gets FILE_SIZE_ERROR. */
const UPLOAD_ROUTE_LIMIT = 6 * 1024 * 1024;
/** Who a temporary location is for: the verified caller and the organisation they act for. */
function holderOf(context: CallContext): LinkHolder {
  return { id: context.caller?.id ?? '', organisation: context.caller?.organisation };
}

/** A query value given once (a repeated one is refused, not guessed at). */
function single(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function fileSizeError(): PlatformError {
  return new PlatformError('FILE_SIZE_ERROR', undefined, {
    diagnostics: `The file must hold between 1 byte and ${ERS_ATTACHMENT_MAX_BYTES} bytes`,
  });
}

/**
 * The body, kept up to the NHS limit. A larger one is read on to its end without being kept (so the client,
 * still sending, gets the 422 FILE_SIZE_ERROR rather than a reset), but never past the route limit.
 * It is held (at most 5 MB) rather than streamed into the upload bucket because the gateway may put into
 * that bucket but not purge it (only e-referrals, its owner, may): a file refused half way would otherwise
 * stay there until the bucket's one-hour TTL.
 */
async function readUpload(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > UPLOAD_ROUTE_LIMIT) {
      body.destroy();
      break;
    }
    if (size <= ERS_ATTACHMENT_MAX_BYTES) chunks.push(bytes);
  }
  if (size > ERS_ATTACHMENT_MAX_BYTES) throw fileSizeError();
  return Buffer.concat(chunks, size);
}

/**
 * e-RS letters and attachments, as the NHS API: A020 upload a file to the document store (the body is the
 * file, in one of the NHS's types, at most 5 MB), A006 read it back, A012 maintain a referral's referral
 * letter attachments. The upload goes through the `ers-uploads` object store: a file is larger than a NATS
 * message.
 */
@ApiTags('e-Referral Service (FHIR STU3 and R4, as the NHS e-RS API)')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Request-ID', required: true, description: 'UUID; a retried upload with the same ID stores once' })
@ApiHeader({
  name: 'NHSD-eRS-Business-Function',
  required: true,
  description: 'The business function the user acts in',
})
@ApiHeader(ON_BEHALF_OF_API_HEADER)
@Controller('referrals/FHIR')
export class ErsAttachmentsController {
  constructor(
    @Inject(ATTACHMENTS_CLIENT) private readonly attachments: AttachmentsClient,
    @Inject(GATEWAY_NATS) private readonly nats: NatsConnection,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
    @Inject(BinaryLinks) private readonly links: BinaryLinks,
  ) {}

  @Post('STU3/Binary')
  @HttpCode(201)
  @FhirRoute(ERS_USERS, { maxBodyBytes: UPLOAD_ROUTE_LIMIT })
  @ApiHeader({ name: 'NHSD-eRS-File-Name', required: true, description: 'The file name with its extension' })
  @ApiHeader({
    name: 'NHSD-eRS-Referral-ID',
    required: false,
    description: 'The UBRN the file is for (needed for A012)',
  })
  @ApiOperation({
    summary:
      'A020 upload a file (txt, pdf, xml, rtf, au, mp3, png, gif, jpeg, tiff, mpeg, doc, docx, dcm; at most 5 MB); Location: Binary/{id}',
  })
  async upload(
    @Body() body: unknown,
    @Headers('nhsd-ers-file-name') fileName: string | undefined,
    @Headers('nhsd-ers-referral-id') referralId: string | undefined,
    @Headers('content-type') contentType: string | undefined,
    @ErsCaller() caller: ErsCaller,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (!fileName) {
      throw new PlatformError('MISSING_VALUE', undefined, {
        diagnostics: 'The NHSD-eRS-File-Name header is required',
        status: 422,
      });
    }
    if (!(body instanceof Readable)) throw fileSizeError();
    const data = await readUpload(body);
    if (data.length === 0) throw fileSizeError();
    const { context } = caller;
    const object = `upload-${randomUUID()}`;
    const bucket = await uploadBucket(this.nats);
    await bucket.putBlob({ name: object }, data);
    // e-referrals deletes what it took or refused; one it never answered for expires with the bucket's TTL.
    const stored = await this.attachments.upload(
      {
        ...caller.acting,
        object,
        fileName: fileName.slice(0, 255),
        contentType: contentType ?? '',
        size: data.length,
        ...(referralId ? { referralId: referralId.slice(0, 40) } : {}),
      },
      context,
    );
    void reply
      .status(201)
      .header('Location', `${this.settings.publicUrl}/referrals/FHIR/${stored.location ?? ''}`)
      .send();
  }

  @Get('R4/Binary/:id')
  @FhirRoute(ERS_USERS)
  @ApiOperation({
    summary:
      'A042 an attachment (R4): 307 to a temporary location of its content (follow it with the same credentials; it expires after a minute)',
  })
  @ApiResponse({ status: 307, description: 'Location: the temporary address of the content' })
  async readR4(@Param('id') id: string, @ErsCaller() caller: ErsCaller, @Res() reply: FastifyReply): Promise<void> {
    // The caller's access is checked (and the read audited) by e-referrals before any address is given out.
    const { context } = caller;
    await this.attachments.read({ id, offset: 0, ...caller.acting }, context);
    const query = this.links.sign(id, holderOf(context));
    void reply
      .status(307)
      .header(
        'Location',
        `${this.settings.publicUrl}/referrals/FHIR/R4/Binary/${encodeURIComponent(id)}/$content?${query}`,
      )
      .header('Cache-Control', 'no-store')
      .send();
  }

  /**
   * A042's temporary location. The gateway signed it (HMAC of the id, the expiry and the caller it was given
   * to): a changed id or expiry, another caller or organisation, an expired or unsigned location is 404
   * REC_NOT_FOUND. It carries no authority of its own either: the caller's token and business function are
   * needed again and e-referrals checks the relationship again.
   */
  @Get('R4/Binary/:id/$content')
  @FhirRoute(ERS_USERS)
  @ApiOperation({ summary: "A042's temporary content location (signed; the same caller, within a minute)" })
  async readR4Content(
    @Param('id') id: string,
    @Query('expires') expires: string | undefined,
    @Query('signature') signature: string | undefined,
    @ErsCaller() caller: ErsCaller,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const holder = holderOf(caller.context);
    if (!this.links.verify(id, holder, single(expires), single(signature))) {
      throw new PlatformError('REC_NOT_FOUND', undefined, {
        diagnostics: 'The download location has expired or is not valid: retrieve the attachment again (A042)',
      });
    }
    return this.read(id, caller, reply);
  }

  @Get('STU3/Binary/:id')
  @FhirRoute(ERS_USERS)
  @ApiOperation({ summary: 'A006 an attachment, as uploaded (its own Content-Type)' })
  async read(@Param('id') id: string, @ErsCaller() caller: ErsCaller, @Res() reply: FastifyReply): Promise<void> {
    const { context } = caller;
    const parts: Buffer[] = [];
    let offset = 0;
    let contentType = 'application/octet-stream';
    let fileName = 'attachment';
    for (;;) {
      const part = await this.attachments.read({ id, offset, ...caller.acting }, context);
      const data = Buffer.from(part.data, 'base64');
      contentType = part.contentType;
      fileName = part.fileName;
      parts.push(data);
      offset += data.length;
      if (offset >= part.size || data.length === 0) break;
    }
    void reply
      .status(200)
      .header('Content-Type', contentType)
      .header('Content-Disposition', `attachment; filename="${fileName.replace(/[^\w.-]/g, '_')}"`)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Cache-Control', 'no-store')
      .send(Buffer.concat(parts));
  }

  @Post('STU3/ReferralRequest/:ubrn/$ers.maintainReferralLetter')
  @HttpCode(200)
  @FhirRoute(ERS_REFERRERS, { maxBodyBytes: BODY_LIMITS.ersWrite })
  @ApiHeader({ name: 'If-Match', required: true, description: 'W/"<version>" of the referral' })
  @ApiOperation({ summary: "A012 replace the referral's referral letter attachments (uploaded by A020 for it)" })
  async maintainLetters(
    @Param('ubrn') ubrn: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @ErsCaller() caller: ErsCaller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new PlatformError('INVALID_VALUE', undefined, {
        diagnostics: 'The request body must be a FHIR Parameters',
        status: 422,
      });
    }
    const answer = await this.attachments.maintainLetters(
      {
        id: ubrn,
        resource: body as FhirResource,
        ...ifMatchOf(ifMatch),
        ...caller.acting,
      },
      caller.context,
    );
    void reply.status(200).type(FHIR_JSON);
    if (answer.versionId !== undefined) void reply.header('ETag', `W/"${answer.versionId}"`);
    return answer.resource;
  }
}

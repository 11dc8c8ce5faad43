import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Pool } from 'pg';
import {
  ERS_ATTACHMENT_MAX_BYTES,
  ERS_ATTACHMENT_PART_BYTES,
  ERS_ATTACHMENT_TYPES,
  ERS_EVENTS,
  READER_FUNCTIONS,
  REFERRER_FUNCTIONS,
  uploadBucket,
  type AttachmentPart,
  type AttachmentReadRequest,
  type AttachmentUploadRequest,
  type BusinessFunction,
  type ChangeRequest,
  type FhirReply,
} from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { E_REFERRALS_DATABASE, type EReferralsDatabase } from '../database/database.provider';
import { isReferrerOf, ReferralChanges } from '../referrals/referral-changes';
import { Actors, type Actor } from '../shared/caller';
import { invalid, parametersOf } from '../shared/fhir';

export const ERS_NATS = Symbol('ERS_NATS');

/** Who uploads (A020, as the NHS specification lists): referring and provider clinicians and their admins. */
const UPLOAD_FUNCTIONS: readonly BusinessFunction[] = [
  'REFERRING_CLINICIAN',
  'REFERRING_CLINICIAN_ADMIN',
  'SERVICE_PROVIDER_CLINICIAN',
  'SERVICE_PROVIDER_CLINICIAN_ADMIN',
];
const MAX_LETTERS = 20;

function unsupported(diagnostics: string): PlatformError {
  return new PlatformError('REC_UNSUPPORTED_MEDIA_TYPE', undefined, { diagnostics });
}

const startsWith = (data: Buffer, bytes: number[] | string, at = 0): boolean => {
  const expected = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
  return data.length >= at + expected.length && data.subarray(at, at + expected.length).equals(expected);
};

const utf8 = new TextDecoder('utf-8', { fatal: true });
function isText(data: Buffer): boolean {
  if (data.includes(0)) return false;
  try {
    utf8.decode(data);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the bytes are what the media type says: a program renamed to .pdf, or a zip sent as a Word file, is
 * refused like a blocked type. The checks are the formats' own signatures.
 */
export function contentMatches(mediaType: string, data: Buffer): boolean {
  switch (mediaType) {
    case 'text/plain':
      return isText(data);
    case 'text/xml':
    case 'application/xml':
      return isText(data) && /^\s*</.test(data.subarray(0, 64).toString('utf8'));
    case 'application/rtf':
    case 'text/rtf':
    case 'text/richtext':
      return startsWith(data, '{\\rtf');
    case 'application/pdf':
      return startsWith(data, '%PDF-');
    case 'image/png':
      return startsWith(data, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    case 'image/gif':
      return startsWith(data, 'GIF87a') || startsWith(data, 'GIF89a');
    case 'image/jpeg':
      return startsWith(data, [0xff, 0xd8, 0xff]);
    case 'image/tiff':
      return startsWith(data, [0x49, 0x49, 0x2a, 0x00]) || startsWith(data, [0x4d, 0x4d, 0x00, 0x2a]);
    case 'audio/basic':
      return startsWith(data, '.snd');
    case 'audio/mpeg':
      return startsWith(data, 'ID3') || (data.length > 1 && data[0] === 0xff && ((data[1] ?? 0) & 0xe0) === 0xe0);
    case 'video/mpeg':
      return startsWith(data, [0x00, 0x00, 0x01, 0xba]) || startsWith(data, [0x00, 0x00, 0x01, 0xb3]);
    case 'application/msword':
      return startsWith(data, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
    case 'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
      return startsWith(data, [0x50, 0x4b, 0x03, 0x04]) && data.includes(Buffer.from('word/', 'latin1'));
    case 'application/dicom':
      return startsWith(data, 'DICM', 128);
    default:
      return false;
  }
}

interface AttachmentRow {
  id: string;
  ubrn: string | null;
  advice_ubrn: string | null;
  file_name: string;
  content_type: string;
  size: number;
  uploaded_by_ods: string;
}

/**
 * A020 upload, A006 read and A012 maintain referral letter. Files arrive through the upload bucket (the
 * gateway streams the body there: a 5 MB file is larger than a NATS message), are checked here (size, the NHS
 * types, the bytes against the type) and stored in PostgreSQL with the event, once per X-Request-ID; the
 * staged object is then deleted. Reads go out a part at a time, each checked against who may see the file.
 */
@Injectable()
export class AttachmentsUseCase implements OnModuleInit {
  private readonly pool: Pool;
  private readonly s: string;

  constructor(
    private readonly actors: Actors,
    @Inject(E_REFERRALS_DATABASE) database: EReferralsDatabase,
    @Inject(ERS_NATS) private readonly nats: NatsConnection,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
    private readonly changes: ReferralChanges,
  ) {
    this.pool = database.pool;
    this.s = `"${database.schema}"`;
  }

  /** The upload bucket exists before the gateway puts into it (the gateway may only put). */
  async onModuleInit(): Promise<void> {
    await uploadBucket(this.nats);
  }

  private async parties(
    ubrn: string,
  ): Promise<{ referrerOds: string; providerOds: string | null; shortlist: string[] } | undefined> {
    const result = await this.pool.query<{ referrer_ods: string; provider_ods: string | null; shortlist: string[] }>(
      `SELECT r.referrer_ods, r.provider_ods,
              ARRAY(SELECT h.ods_code FROM ${this.s}.referral_shortlist l
                      JOIN ${this.s}.healthcare_service h ON h.id = l.service_id WHERE l.ubrn = r.ubrn) AS shortlist
         FROM ${this.s}.referral r WHERE r.ubrn = $1`,
      [ubrn],
    );
    const row = result.rows[0];
    return row ? { referrerOds: row.referrer_ods, providerOds: row.provider_ods, shortlist: row.shortlist } : undefined;
  }

  /** Whether the actor's organisation is the referrer or the provider of the Advice and Guidance request `ubrn`. */
  private async mayUseAdvice(actor: Actor, ubrn: string): Promise<boolean> {
    const result = await this.pool.query(
      `SELECT 1 FROM ${this.s}.advice_request WHERE ubrn = $1 AND (referrer_ods = $2 OR provider_ods = $2)`,
      [ubrn, actor.organisation],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Whether the file is an attachment of a referral the actor may use (A012's letters, A027's files). */
  private async attachedToReferralOf(actor: Actor, id: string): Promise<boolean> {
    const result = await this.pool.query<{ ubrn: string }>(
      `SELECT ubrn FROM ${this.s}.referral_letter WHERE attachment_id = $1`,
      [id],
    );
    for (const { ubrn } of result.rows) if (await this.mayUseReferral(actor, ubrn)) return true;
    return false;
  }

  private async mayUseReferral(actor: Actor, ubrn: string): Promise<boolean> {
    const parties = await this.parties(ubrn);
    if (!parties) return false;
    return (
      parties.referrerOds === actor.organisation ||
      parties.providerOds === actor.organisation ||
      parties.shortlist.includes(actor.organisation)
    );
  }

  async upload(request: AttachmentUploadRequest, context: CallContext): Promise<FhirReply> {
    const bucket = await uploadBucket(this.nats);
    try {
      return await this.store(request, context, bucket);
    } finally {
      await bucket.delete(request.object).catch(() => undefined);
    }
  }

  private async store(
    request: AttachmentUploadRequest,
    context: CallContext,
    bucket: Awaited<ReturnType<typeof uploadBucket>>,
  ): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, UPLOAD_FUNCTIONS);
    const mediaType = request.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
    const extensions = ERS_ATTACHMENT_TYPES[mediaType];
    if (!extensions) throw unsupported(`Files of type '${mediaType.slice(0, 60)}' are not accepted by e-RS`);
    const fileName = request.fileName.trim();
    if (!fileName) throw invalid('NHSD-eRS-File-Name is required', 'MISSING_VALUE');
    if (/[/\\\0]/.test(fileName)) throw invalid('NHSD-eRS-File-Name must be a file name, not a path');
    const extension = /\.([A-Za-z0-9]{1,8})$/.exec(fileName)?.[1]?.toLowerCase();
    if (!extension || !Object.values(ERS_ATTACHMENT_TYPES).some((list) => list.includes(extension))) {
      throw unsupported(`Files named '.${(extension ?? '').slice(0, 8)}' are not accepted by e-RS`);
    }
    if (!extensions.includes(extension)) {
      throw invalid(`A .${extension} file is not of type ${mediaType}`, 'CONFLICTING_VALUES');
    }
    if (request.size <= 0 || request.size > ERS_ATTACHMENT_MAX_BYTES) {
      throw new PlatformError('FILE_SIZE_ERROR', undefined, {
        diagnostics: `The file must hold between 1 byte and ${ERS_ATTACHMENT_MAX_BYTES} bytes`,
      });
    }
    // NHSD-eRS-Referral-ID names a referral or an Advice and Guidance request (A027 associates files uploaded for
    // the request it converts); both, where a store seeded with the NHS examples numbers one of each the same.
    let ubrn: string | null = null;
    let adviceUbrn: string | null = null;
    if (request.referralId !== undefined) {
      if (!/^[0-9]{12}$/.test(request.referralId)) {
        throw invalid('NHSD-eRS-Referral-ID must be a UBRN (12 digits)');
      }
      if (await this.mayUseReferral(actor, request.referralId)) ubrn = request.referralId;
      if (await this.mayUseAdvice(actor, request.referralId)) adviceUbrn = request.referralId;
      if (ubrn === null && adviceUbrn === null) {
        throw new PlatformError('NO_RELATIONSHIP', undefined, {
          diagnostics: `${actor.organisation} has no relationship with referral ${request.referralId}`,
        });
      }
    }
    const data = await bucket.getBlob(request.object);
    if (!data) throw invalid('The uploaded file was not found: send it again', 'MISSING_VALUE');
    const content = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (content.length !== request.size || content.length > ERS_ATTACHMENT_MAX_BYTES) {
      throw new PlatformError('FILE_SIZE_ERROR', undefined, { diagnostics: 'The file is not the size announced' });
    }
    if (!contentMatches(mediaType, content)) {
      throw unsupported(`The file's content is not ${mediaType}`);
    }
    const sha256 = createHash('sha256').update(content).digest();
    // Retries name the file by content, not by the staged object (each HTTP attempt stages its own).
    const key = writeKey(context, 'attachment.upload', {
      fileName,
      mediaType,
      size: content.length,
      sha256: sha256.toString('hex'),
      ubrn: request.referralId ?? null,
    });
    const reply = await this.writes.run(key, async (transaction) => {
      const id = randomUUID();
      await transaction.query(
        `INSERT INTO ${this.s}.attachment (id, ubrn, advice_ubrn, file_name, content_type, size, sha256, content, uploaded_by, uploaded_by_ods)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [id, ubrn, adviceUbrn, fileName, mediaType, content.length, sha256, content, actor.userId, actor.organisation],
      );
      await this.outbox.append(
        transaction,
        ERS_EVENTS.attachmentUploaded,
        {
          attachmentId: id,
          ...(request.referralId ? { ubrn: request.referralId } : {}),
          contentType: mediaType,
          size: content.length,
          uploadedByOdsCode: actor.organisation,
          occurredAt: new Date().toISOString(),
        },
        context,
      );
      const created: FhirReply = {
        resource: { resourceType: 'Binary', id, contentType: mediaType },
        location: `STU3/Binary/${id}`,
      };
      return created;
    });
    this.outbox.kick();
    return reply;
  }

  /** A006: one part of an attachment, for the uploader's organisation or the parties to its referral. */
  async read(request: AttachmentReadRequest, context: CallContext): Promise<AttachmentPart> {
    const actor = await this.actors.resolve(context, request, READER_FUNCTIONS);
    const notFound = new PlatformError('RESOURCE_NOT_FOUND', undefined, {
      diagnostics: `No attachment ${request.id.slice(0, 40)}`,
    });
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(request.id)) throw notFound;
    const found = await this.pool.query<AttachmentRow>(
      `SELECT id, ubrn, advice_ubrn, file_name, content_type, size, uploaded_by_ods FROM ${this.s}.attachment
        WHERE id = $1`,
      [request.id],
    );
    const row = found.rows[0];
    if (!row) throw notFound;
    const allowed =
      row.uploaded_by_ods === actor.organisation ||
      (row.ubrn !== null && (await this.mayUseReferral(actor, row.ubrn))) ||
      (row.advice_ubrn !== null && (await this.mayUseAdvice(actor, row.advice_ubrn))) ||
      (await this.attachedToReferralOf(actor, row.id));
    if (!allowed) {
      throw new PlatformError('FORBIDDEN', undefined, {
        diagnostics: `${actor.organisation} has no relationship with attachment ${request.id}`,
      });
    }
    if (request.offset > row.size) throw invalid('offset is past the end of the file');
    if (request.offset === 0) {
      await this.pool.query(
        `INSERT INTO ${this.s}.read_audit (ubrn, action, actor_id, organisation, business_function, request_id, correlation_id, on_behalf_of)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          row.ubrn ?? row.advice_ubrn ?? '',
          `A006 ${row.id}`,
          actor.userId,
          actor.organisation,
          actor.businessFunction,
          context.requestId,
          context.correlationId ?? null,
          actor.onBehalfOf ?? null,
        ],
      );
    }
    const part = await this.pool.query<{ data: Buffer }>(
      `SELECT substring(content FROM $2 FOR $3) AS data FROM ${this.s}.attachment WHERE id = $1`,
      [row.id, request.offset + 1, ERS_ATTACHMENT_PART_BYTES],
    );
    return {
      contentType: row.content_type,
      fileName: row.file_name,
      size: row.size,
      offset: request.offset,
      data: (part.rows[0]?.data ?? Buffer.alloc(0)).toString('base64'),
    };
  }

  /**
   * A012: the referral's referral letter attachments become exactly those listed (at least one, each uploaded
   * for this referral by A020 with NHSD-eRS-Referral-ID; the provider's files of A027 stay), as a change of the referral: If-Match, 423 on a
   * concurrent change, once per X-Request-ID, its next version and ers.referral.letters-changed.v1.
   */
  async maintainLetters(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, REFERRER_FUNCTIONS);
    const parameters = parametersOf(request.resource, 'eRS-MaintainReferralLetter-Parameters');
    const letters: { id: string; description: string | null }[] = [];
    for (const item of parameters) {
      if (item['name'] !== 'referralLetterFile') {
        throw invalid(`Unexpected parameter '${String(item['name']).slice(0, 40)}'`, 'UNEXPECTED_FIELD');
      }
      const document = item['resource'] as Record<string, unknown> | undefined;
      if (document?.['resourceType'] !== 'DocumentReference') {
        throw invalid('referralLetterFile must be a DocumentReference', 'INVALID_VALUE');
      }
      const url = (document['content'] as { attachment?: { url?: unknown } }[] | undefined)?.[0]?.attachment?.url;
      const id = typeof url === 'string' ? /^Binary\/([0-9a-f-]{36})$/.exec(url)?.[1] : undefined;
      if (!id) throw invalid("content[0].attachment.url must be 'Binary/{id}'", 'MISSING_VALUE');
      if (letters.some((letter) => letter.id === id)) throw invalid(`Attachment ${id} is listed twice`);
      const description = typeof document['description'] === 'string' ? document['description'].slice(0, 1000) : null;
      letters.push({ id, description });
    }
    if (letters.length === 0) throw invalid('At least one referralLetterFile is required', 'MISSING_VALUE');
    if (letters.length > MAX_LETTERS) throw invalid(`At most ${MAX_LETTERS} referral letter files`, 'TOO_MANY_ITEMS');
    const version = request.ifMatch === undefined ? undefined : /^W\/"([0-9]{1,9})"$/.exec(request.ifMatch)?.[1];
    if (version === undefined) {
      throw new PlatformError('PRECONDITION_FAILED', undefined, {
        diagnostics: 'If-Match must be supplied with the version of the referral (W/"<version>")',
      });
    }
    return this.changes.run(
      {
        context,
        actor,
        operation: 'referral.letters',
        request,
        ubrn: request.id,
        version: Number(version),
        mayAct: isReferrerOf,
      },
      async (transaction, referral) => {
        if (referral.state === 'CANCELLED_REFERRAL') {
          throw invalid('The referral is cancelled: its letters cannot change', 'INVALID_REQUEST_STATE');
        }
        const found = await transaction.query<{ id: string; ubrn: string | null }>(
          `SELECT id, ubrn FROM ${this.s}.attachment WHERE id = ANY($1::uuid[])`,
          [letters.map((letter) => letter.id)],
        );
        for (const letter of letters) {
          const attachment = found.rows.find((row) => row.id === letter.id);
          if (!attachment) throw invalid(`No attachment ${letter.id}`, 'REFERENCE_NOT_FOUND');
          if (attachment.ubrn !== referral.ubrn) {
            throw invalid(
              `Attachment ${letter.id} was not uploaded for referral ${referral.ubrn} (NHSD-eRS-Referral-ID)`,
              'INAPPROPRIATE_VALUE',
            );
          }
        }
        // The referrer's letters only: the files a provider attached when converting a request (A027) stay.
        await transaction.query(`DELETE FROM ${this.s}.referral_letter WHERE ubrn = $1 AND type = 'REFERRER'`, [
          referral.ubrn,
        ]);
        await transaction.query(
          `INSERT INTO ${this.s}.referral_letter (ubrn, attachment_id, position, description)
           SELECT $1, id, n, d FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS t(id, d, n)`,
          [referral.ubrn, letters.map((letter) => letter.id), letters.map((letter) => letter.description)],
        );
        return {
          referral,
          action: 'MAINTAIN_REFERRAL_LETTER',
          event: ERS_EVENTS.referralLettersChanged,
        };
      },
    );
  }
}

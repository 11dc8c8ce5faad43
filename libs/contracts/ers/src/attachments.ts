import type { NatsConnection, ObjectStore } from 'nats';
import { nanos } from 'nats';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { defineErrors, PlatformError, type ErrorDefinition } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient } from '@platform/shared-nats';
import { BUSINESS_FUNCTION_CODES, type BusinessFunction } from './business-functions';
import { ERS_CODE_SYSTEM } from './errors';
import { ChangeRequest, ON_BEHALF_OF_MAX_LENGTH, type FhirReply } from './payloads';
import { ERS_SUBJECTS } from './subjects';

/** The largest attachment e-RS takes (A020): 5 MB. */
export const ERS_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024;

/**
 * The file types e-RS accepts (A020, as the NHS specification lists them): media type -> extensions. Anything
 * else is refused with 415 before it is stored.
 */
export const ERS_ATTACHMENT_TYPES: Readonly<Record<string, readonly string[]>> = {
  'text/plain': ['txt'],
  'application/pdf': ['pdf'],
  'text/xml': ['xml'],
  'application/xml': ['xml'],
  'application/rtf': ['rtf', 'rtx'],
  'text/rtf': ['rtf', 'rtx'],
  'text/richtext': ['rtx', 'rtf'],
  'audio/basic': ['au'],
  'audio/mpeg': ['mp3'],
  'image/png': ['png'],
  'image/gif': ['gif'],
  'image/jpeg': ['jpg', 'jpe', 'jpeg'],
  'image/tiff': ['tif', 'tiff'],
  'video/mpeg': ['mpg', 'mpeg', 'mpe'],
  'application/msword': ['doc'],
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': ['docx'],
  'application/dicom': ['dcm'],
};
export const ERS_ATTACHMENT_MEDIA_TYPES = Object.keys(ERS_ATTACHMENT_TYPES);

/** Uploads wait here (a JetStream object store) between the gateway and e-referrals: bodies over a NATS message. */
export const ERS_UPLOAD_BUCKET = 'ers-uploads';

export function uploadBucket(nats: NatsConnection): Promise<ObjectStore> {
  return nats.jetstream().views.os(ERS_UPLOAD_BUCKET, {
    description: 'e-RS attachments on their way from the gateway to e-referrals (A020)',
    ttl: nanos(60 * 60 * 1000),
  });
}

function ers(status: number, issueCode: string, display: string): ErrorDefinition {
  return { status, issueCode, display, system: ERS_CODE_SYSTEM, severity: 'error' };
}

/** A020's own code (its 422 table). */
export const ERS_ATTACHMENT_ERRORS = defineErrors({
  FILE_SIZE_ERROR: ers(422, 'business-rule', 'The file is either empty or too large'),
  CONFLICTING_VALUES: ers(422, 'business-rule', 'Two or more supplied values are contradictory'),
});

/** A020: a file the gateway has put in the upload bucket, to check and store. */
export class AttachmentUploadRequest {
  @IsOptional()
  @IsIn(BUSINESS_FUNCTION_CODES)
  businessFunction?: BusinessFunction;

  /** NHSD-eRS-On-Behalf-Of-User-ID (see ResourceRequest). */
  @IsOptional()
  @IsString()
  @MaxLength(ON_BEHALF_OF_MAX_LENGTH)
  onBehalfOf?: string;

  /** The object's name in ERS_UPLOAD_BUCKET. */
  @Matches(/^upload-[0-9a-f-]{36}$/)
  object!: string;

  /** NHSD-eRS-File-Name. */
  @IsString()
  @MaxLength(255)
  fileName!: string;

  @IsString()
  @MaxLength(200)
  contentType!: string;

  @IsInt()
  @Min(0)
  @Max(ERS_ATTACHMENT_MAX_BYTES + 1)
  size!: number;

  /** NHSD-eRS-Referral-ID: the referral the file is for (needed before A012 may attach it). */
  @IsOptional()
  @IsString()
  @MaxLength(40)
  referralId?: string;
}

/** A006: one part of an attachment (NATS messages are smaller than a file). */
export class AttachmentReadRequest {
  @IsOptional()
  @IsIn(BUSINESS_FUNCTION_CODES)
  businessFunction?: BusinessFunction;

  /** NHSD-eRS-On-Behalf-Of-User-ID (see ResourceRequest). */
  @IsOptional()
  @IsString()
  @MaxLength(ON_BEHALF_OF_MAX_LENGTH)
  onBehalfOf?: string;

  @IsString()
  @MaxLength(64)
  id!: string;

  @IsInt()
  @Min(0)
  offset!: number;
}

/** The part read: base64 `data` from `offset`, the whole file's size and type. */
export interface AttachmentPart {
  contentType: string;
  fileName: string;
  size: number;
  offset: number;
  data: string;
}

/** The size of each part read (base64 of it stays under NATS's 1 MB message). */
export const ERS_ATTACHMENT_PART_BYTES = 512 * 1024;

export class AttachmentsClient {
  constructor(private readonly rpc: NatsRpcClient) {}

  async upload(request: AttachmentUploadRequest, context: CallContext): Promise<FhirReply> {
    const reply = await this.rpc.requestValidated<FhirReply>(
      ERS_SUBJECTS.attachmentUpload,
      AttachmentUploadRequest,
      request,
      context,
    );
    if (typeof reply?.location !== 'string') {
      throw new PlatformError('REC_SERVER_ERROR', 'e-referrals answered an upload without its location');
    }
    return reply;
  }

  async read(request: AttachmentReadRequest, context: CallContext): Promise<AttachmentPart> {
    const reply = await this.rpc.requestValidated<AttachmentPart>(
      ERS_SUBJECTS.attachmentRead,
      AttachmentReadRequest,
      request,
      context,
    );
    if (typeof reply?.data !== 'string' || typeof reply.size !== 'number') {
      throw new PlatformError('REC_SERVER_ERROR', 'e-referrals answered with something that is not an attachment');
    }
    return reply;
  }

  /** A012: replace the referral's set of referral letter attachments. */
  maintainLetters(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    return this.rpc.requestValidated<FhirReply>(ERS_SUBJECTS.referralLetterMaintain, ChangeRequest, request, context);
  }
}

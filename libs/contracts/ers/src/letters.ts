import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient } from '@platform/shared-nats';
import { BUSINESS_FUNCTION_CODES, type BusinessFunction } from './business-functions';
import { ON_BEHALF_OF_MAX_LENGTH } from './payloads';
import { ERS_SUBJECTS } from './subjects';

/** A019: the patient's letter for a referral (booking reference, password, shortlist, how to book), as a PDF. */
export class PatientLetterRequest {
  @IsString()
  @MaxLength(64)
  id!: string;

  @IsOptional()
  @IsIn(BUSINESS_FUNCTION_CODES)
  businessFunction?: BusinessFunction;

  /** NHSD-eRS-On-Behalf-Of-User-ID (see ResourceRequest). */
  @IsOptional()
  @IsString()
  @MaxLength(ON_BEHALF_OF_MAX_LENGTH)
  onBehalfOf?: string;

  /** Where the patient books (the gateway's public address of the patient page). */
  @Matches(/^https?:\/\/[^\s]{1,200}$/)
  bookingUrl!: string;
}

export interface PatientLetterReply {
  /** The PDF, base64 (a letter is a few kilobytes). */
  pdf: string;
}

export class PatientLettersClient {
  constructor(private readonly rpc: NatsRpcClient) {}

  async patientLetter(request: PatientLetterRequest, context: CallContext): Promise<PatientLetterReply> {
    const reply = await this.rpc.requestValidated<PatientLetterReply>(
      ERS_SUBJECTS.patientLetter,
      PatientLetterRequest,
      request,
      context,
    );
    if (typeof reply?.pdf !== 'string') {
      throw new PlatformError('REC_SERVER_ERROR', 'e-referrals answered with something that is not a letter');
    }
    return reply;
  }
}

import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient } from '@platform/shared-nats';
import { GetPatientRequest, type GetPatientReply, type HealthReply } from './payloads';
import { PDS_SUBJECTS } from './subjects';

/** What other projects may ask of PDS. */
export interface PdsApi {
  getPatient(request: GetPatientRequest, context: CallContext): Promise<GetPatientReply>;
  health(context: CallContext, timeoutMs?: number): Promise<HealthReply>;
}

async function validated<T extends object>(type: new () => T, payload: T): Promise<T> {
  const instance = plainToInstance(type, payload);
  const problems = await validate(instance, { whitelist: true, forbidNonWhitelisted: true });
  if (problems.length > 0) {
    const diagnostics = problems.flatMap((problem) => Object.values(problem.constraints ?? {})).join('; ');
    throw new PlatformError('INVALID_VALUE', 'Provided value is invalid', { diagnostics });
  }
  return instance;
}

function checkPatientReply(reply: GetPatientReply): GetPatientReply {
  if (reply?.patient?.resourceType !== 'Patient' || !Number.isInteger(reply.versionId)) {
    throw new PlatformError('REC_SERVER_ERROR', 'PDS answered with something that is not a Patient');
  }
  return reply;
}

/** The typed PDS client: validates what it sends and what it receives, over NATS with the call context. */
export class PdsClient implements PdsApi {
  constructor(private readonly rpc: NatsRpcClient) {}

  async getPatient(request: GetPatientRequest, context: CallContext): Promise<GetPatientReply> {
    const payload = await validated(GetPatientRequest, request);
    return checkPatientReply(await this.rpc.request<GetPatientReply>(PDS_SUBJECTS.patientGet, payload, context));
  }

  async health(context: CallContext, timeoutMs?: number): Promise<HealthReply> {
    return this.rpc.request<HealthReply>(PDS_SUBJECTS.healthCheck, {}, context, timeoutMs);
  }
}

import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient } from '@platform/shared-nats';
import {
  GetPatientRequest,
  ListRelatedPersonsRequest,
  type GetPatientReply,
  type ListRelatedPersonsReply,
  type GetPatientWireReply,
  type HealthReply,
  type Patient,
  type PatientDocument,
} from './payloads';
import { PDS_SUBJECTS } from './subjects';

/** What other projects may ask of PDS. */
export interface PdsApi {
  getPatient(request: GetPatientRequest, context: CallContext): Promise<GetPatientReply>;
  /** The same read, as FHIR JSON text: for callers that only pass the record on. */
  getPatientDocument(request: GetPatientRequest, context: CallContext): Promise<PatientDocument>;
  listRelatedPersons(request: ListRelatedPersonsRequest, context: CallContext): Promise<ListRelatedPersonsReply>;
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

function notAPatient(): PlatformError {
  return new PlatformError('REC_SERVER_ERROR', 'PDS answered with something that is not a Patient');
}

/** A cheap check of the text (the full parse is what passing it on avoids): a JSON object with a version. */
function checkDocument(reply: GetPatientWireReply): PatientDocument {
  const json = reply?.patientJson;
  if (typeof json !== 'string' || !json.startsWith('{') || !json.endsWith('}') || !Number.isInteger(reply.versionId)) {
    throw notAPatient();
  }
  return { json, versionId: reply.versionId };
}

/** The typed PDS client: validates what it sends and what it receives, over NATS with the call context. */
export class PdsClient implements PdsApi {
  constructor(private readonly rpc: NatsRpcClient) {}

  async getPatientDocument(request: GetPatientRequest, context: CallContext): Promise<PatientDocument> {
    const payload = await validated(GetPatientRequest, request);
    return checkDocument(await this.rpc.request<GetPatientWireReply>(PDS_SUBJECTS.patientGet, payload, context));
  }

  async getPatient(request: GetPatientRequest, context: CallContext): Promise<GetPatientReply> {
    const { json, versionId } = await this.getPatientDocument(request, context);
    let patient: Patient;
    try {
      patient = JSON.parse(json) as Patient;
    } catch {
      throw notAPatient();
    }
    if (patient?.resourceType !== 'Patient') throw notAPatient();
    return { patient, versionId };
  }

  async listRelatedPersons(request: ListRelatedPersonsRequest, context: CallContext): Promise<ListRelatedPersonsReply> {
    const payload = await validated(ListRelatedPersonsRequest, request);
    const reply = await this.rpc.request<ListRelatedPersonsReply>(PDS_SUBJECTS.relatedPersonList, payload, context);
    const valid =
      typeof reply?.nhsNumber === 'string' &&
      Array.isArray(reply.relatedPersons) &&
      reply.relatedPersons.every((person) => person?.resourceType === 'RelatedPerson' && typeof person.id === 'string');
    if (!valid)
      throw new PlatformError('REC_SERVER_ERROR', 'PDS answered with something that is not a list of RelatedPerson');
    return reply;
  }

  async health(context: CallContext, timeoutMs?: number): Promise<HealthReply> {
    return this.rpc.request<HealthReply>(PDS_SUBJECTS.healthCheck, {}, context, timeoutMs);
  }
}

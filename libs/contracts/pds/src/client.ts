import { PlatformError } from '@platform/shared-errors';
import { validatePayload, type CallContext, type NatsRpcClient } from '@platform/shared-nats';
import {
  GetPatientRequest,
  ListRelatedPersonsRequest,
  PATIENT_VERSION_HEADER,
  plainGetPatientRequest,
  type GetPatientReply,
  type ListRelatedPersonsReply,
  type GetPatientWireReply,
  type HealthReply,
  type Patient,
  type PatientDocument,
} from './payloads';
import { PDS_SUBJECTS } from './subjects';
import { checkSearchReply, SearchPatientsRequest, type SearchPatientsReply } from './search';
import { CreatePatientRequest, type CreatePatientReply } from './create';
import { UpdatePatientRequest } from './update';
import { GetCoverageRequest, UpdateCoverageRequest, type CoverageReply } from './coverage';

/** What other projects may ask of PDS. */
export interface PdsApi {
  getPatient(request: GetPatientRequest, context: CallContext): Promise<GetPatientReply>;
  /** Allocates a new NHS number for a patient PDS does not hold yet (SINGLE_MATCH / MULTIPLE_MATCHES otherwise). */
  createPatient(request: CreatePatientRequest, context: CallContext): Promise<CreatePatientReply>;
  /** Applies a JSON Patch (all or nothing); answers the updated Patient as FHIR JSON text. */
  updatePatient(request: UpdatePatientRequest, context: CallContext): Promise<PatientDocument>;
  /** The same read, as FHIR JSON text: for callers that only pass the record on. */
  getPatientDocument(request: GetPatientRequest, context: CallContext): Promise<PatientDocument>;
  listRelatedPersons(request: ListRelatedPersonsRequest, context: CallContext): Promise<ListRelatedPersonsReply>;
  /** Patient search (FHIR query string); matches best first, or `tooManyMatches`. */
  searchPatients(request: SearchPatientsRequest, context: CallContext): Promise<SearchPatientsReply>;
  /** A patient's EHIC details (`subscriber:identifier=<NHS number>`) and their record's version. */
  getCoverage(request: GetCoverageRequest, context: CallContext): Promise<CoverageReply>;
  /** Replaces a patient's EHIC details (If-Match on the patient's version); answers the new version. */
  updateCoverage(request: UpdateCoverageRequest, context: CallContext): Promise<CoverageReply>;
  health(context: CallContext, timeoutMs?: number): Promise<HealthReply>;
}

const textDecoder = new TextDecoder();

/** The reply as the contract describes it, or REC_SERVER_ERROR. */
function checkCoverageReply(reply: CoverageReply): CoverageReply {
  const valid =
    typeof reply?.nhsNumber === 'string' &&
    Number.isInteger(reply.versionId) &&
    (reply.coverage === undefined || reply.coverage?.resourceType === 'Coverage');
  if (!valid) throw new PlatformError('REC_SERVER_ERROR', 'PDS answered with something that is not a Coverage reply');
  return reply;
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
    // The common case checked by hand; anything else through class-validator, for its exact problems.
    const checked = plainGetPatientRequest(request) ?? (await validatePayload(GetPatientRequest, request));
    const answer = await this.rpc.requestRaw(PDS_SUBJECTS.patientGet, checked, context);
    if (!answer.raw) return checkDocument(answer.response as GetPatientWireReply);
    return checkDocument({
      patientJson: textDecoder.decode(answer.body),
      versionId: Number(answer.header(PATIENT_VERSION_HEADER) ?? Number.NaN),
    });
  }

  async createPatient(request: CreatePatientRequest, context: CallContext): Promise<CreatePatientReply> {
    const reply = await this.rpc.requestValidated<CreatePatientReply>(
      PDS_SUBJECTS.patientCreate,
      CreatePatientRequest,
      request,
      context,
      { code: 'INVALID_CREATE' },
    );
    const { json } = checkDocument({ patientJson: reply?.patientJson, versionId: reply?.versionId });
    if (typeof reply.nhsNumber !== 'string' || !/^\d{10}$/.test(reply.nhsNumber)) throw notAPatient();
    return { nhsNumber: reply.nhsNumber, patientJson: json, versionId: reply.versionId };
  }

  async updatePatient(request: UpdatePatientRequest, context: CallContext): Promise<PatientDocument> {
    return checkDocument(
      await this.rpc.requestValidated<GetPatientWireReply>(
        PDS_SUBJECTS.patientUpdate,
        UpdatePatientRequest,
        request,
        context,
        { code: 'INVALID_UPDATE' },
      ),
    );
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
    const reply = await this.rpc.requestValidated<ListRelatedPersonsReply>(
      PDS_SUBJECTS.relatedPersonList,
      ListRelatedPersonsRequest,
      request,
      context,
    );
    const valid =
      typeof reply?.nhsNumber === 'string' &&
      Array.isArray(reply.relatedPersons) &&
      reply.relatedPersons.every((person) => person?.resourceType === 'RelatedPerson' && typeof person.id === 'string');
    if (!valid)
      throw new PlatformError('REC_SERVER_ERROR', 'PDS answered with something that is not a list of RelatedPerson');
    return reply;
  }

  async searchPatients(request: SearchPatientsRequest, context: CallContext): Promise<SearchPatientsReply> {
    return checkSearchReply(
      await this.rpc.requestValidated<unknown>(PDS_SUBJECTS.patientSearch, SearchPatientsRequest, request, context),
    );
  }

  async getCoverage(request: GetCoverageRequest, context: CallContext): Promise<CoverageReply> {
    return checkCoverageReply(
      await this.rpc.requestValidated<CoverageReply>(PDS_SUBJECTS.coverageGet, GetCoverageRequest, request, context),
    );
  }

  async updateCoverage(request: UpdateCoverageRequest, context: CallContext): Promise<CoverageReply> {
    return checkCoverageReply(
      await this.rpc.requestValidated<CoverageReply>(
        PDS_SUBJECTS.coverageUpdate,
        UpdateCoverageRequest,
        request,
        context,
        { code: 'INVALID_UPDATE' },
      ),
    );
  }

  async health(context: CallContext, timeoutMs?: number): Promise<HealthReply> {
    return this.rpc.request<HealthReply>(PDS_SUBJECTS.healthCheck, {}, context, timeoutMs);
  }
}

import { PlatformError } from '@platform/shared-errors';
import { validatePayload, type CallContext, type NatsRpcClient } from '@platform/shared-nats';
import './errors';
import {
  ChangeRequest,
  ERS_ENCODING_HEADER,
  ERS_LOCATION_HEADER,
  ERS_VERSION_HEADER,
  plainQueryRequest,
  plainResourceRequest,
  QueryRequest,
  ReadRequest,
  ResourceRequest,
  type FhirDocument,
  type FhirReply,
} from './payloads';
import { ERS_SUBJECTS } from './subjects';
import { worklistBody, type WorklistReply } from './worklist';

type Subject = (typeof ERS_SUBJECTS)[keyof typeof ERS_SUBJECTS];

/** What other projects may ask of e-referrals: one method per NHS operation. */
export interface EReferralsApi {
  businessFunctions(request: QueryRequest, context: CallContext): Promise<FhirReply>;
  codeSystem(request: ReadRequest, context: CallContext): Promise<FhirReply>;
  publishService(request: ResourceRequest, context: CallContext): Promise<FhirReply>;
  publishSlots(request: ResourceRequest, context: CallContext): Promise<FhirReply>;
  searchServices(request: ResourceRequest, context: CallContext): Promise<FhirReply>;
  getService(request: ReadRequest, context: CallContext): Promise<FhirReply>;
  listServices(request: QueryRequest, context: CallContext): Promise<FhirReply>;
  createReferral(request: ResourceRequest, context: CallContext): Promise<FhirReply>;
  createReferralForTriage(request: ResourceRequest, context: CallContext): Promise<FhirReply>;
  getReferral(request: ReadRequest, context: CallContext): Promise<FhirReply>;
  availableActions(request: QueryRequest, context: CallContext): Promise<FhirReply>;
  changeShortlist(request: ChangeRequest, context: CallContext): Promise<FhirReply>;
  changeShortlistForTriage(request: ChangeRequest, context: CallContext): Promise<FhirReply>;
  cancelReferral(request: ChangeRequest, context: CallContext): Promise<FhirReply>;
  acceptReferral(request: ChangeRequest, context: CallContext): Promise<FhirReply>;
  rejectReferral(request: ChangeRequest, context: CallContext): Promise<FhirReply>;
  recordReviewOutcome(request: ChangeRequest, context: CallContext): Promise<FhirReply>;
  cancelAppointmentActionLater(request: ChangeRequest, context: CallContext): Promise<FhirReply>;
  practitionersOnBehalfOf(request: QueryRequest, context: CallContext): Promise<FhirReply>;
  /** A008: the FHIR List (eRS-FetchWorklist-List-1) as e-referrals wrote it (gzipped: `encoding`), to pass on. */
  worklist(request: ResourceRequest, context: CallContext): Promise<FhirDocument>;
  searchSlots(request: QueryRequest, context: CallContext): Promise<FhirReply>;
  createAppointment(request: ResourceRequest, context: CallContext): Promise<FhirReply>;
  /** A010, A015 and A016 as the bytes e-referrals wrote, for callers that pass the answer on unparsed. */
  searchServicesDocument(request: ResourceRequest, context: CallContext): Promise<FhirDocument>;
  searchSlotsDocument(request: QueryRequest, context: CallContext): Promise<FhirDocument>;
  createAppointmentDocument(request: ResourceRequest, context: CallContext): Promise<FhirDocument>;
  cancelAppointment(request: ChangeRequest, context: CallContext): Promise<FhirReply>;
  getAppointment(request: ReadRequest, context: CallContext): Promise<FhirReply>;
  searchServiceRequests(request: QueryRequest, context: CallContext): Promise<FhirReply>;
  health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }>;
}

function expectReply(reply: unknown): FhirReply {
  const candidate = reply as Partial<FhirReply> | null;
  const valid =
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.resource === 'object' &&
    candidate.resource !== null &&
    (candidate.versionId === undefined || typeof candidate.versionId === 'string') &&
    (candidate.location === undefined || typeof candidate.location === 'string');
  if (!valid)
    throw new PlatformError('REC_SERVER_ERROR', 'e-referrals answered with something that is not a FHIR reply');
  return candidate as FhirReply;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const GZIP_MAGIC = [0x1f, 0x8b];

/** A ResourceRequest checked by hand in the common case, else by its class (its exact problems). */
function resourceRequest(request: ResourceRequest): ResourceRequest | Promise<ResourceRequest> {
  return plainResourceRequest(request) ?? validatePayload(ResourceRequest, request);
}

/** A raw FHIR answer parsed, for callers that read it. */
function replyOf(document: FhirDocument): FhirReply {
  let resource: unknown;
  try {
    resource = JSON.parse(decoder.decode(document.body));
  } catch {
    throw new PlatformError('REC_SERVER_ERROR', 'e-referrals answered with something that is not a FHIR reply');
  }
  return expectReply({
    resource,
    ...(document.versionId ? { versionId: document.versionId } : {}),
    ...(document.location ? { location: document.location } : {}),
  });
}

/** A worklist answered in Nest's envelope, compactly (as e-referrals answered before it wrote the List itself). */
function worklistOf(response: unknown): Uint8Array {
  const reply = response as WorklistReply | null;
  if (typeof reply !== 'object' || reply === null || !Array.isArray(reply.rows) || typeof reply.listType !== 'string') {
    throw new PlatformError('REC_SERVER_ERROR', 'e-referrals answered with something that is not a worklist');
  }
  return worklistBody(reply);
}

/** The typed e-referrals client: validates what it sends and the shape of what it receives, over NATS. */
export class EReferralsClient implements EReferralsApi {
  constructor(private readonly rpc: NatsRpcClient) {}

  /**
   * A subject e-referrals answers raw (`serveDirect`): the answer's bytes and its version and location headers.
   * The request is checked by hand in the common case (`plain*Request`), else by its class, as `call` does.
   */
  private async document(
    subject: Subject,
    request: object | Promise<object>,
    context: CallContext,
    fromEnvelope: (response: unknown) => Uint8Array = (response) =>
      encoder.encode(JSON.stringify(expectReply(response).resource)),
  ): Promise<FhirDocument> {
    const answer = await this.rpc.requestRaw(subject, await request, context);
    if (!answer.raw) {
      // A service answering in Nest's envelope (as before raw replies): the same answer as bytes.
      const body = fromEnvelope(answer.response);
      const reply = answer.response as Partial<FhirReply>;
      return {
        body,
        ...(typeof reply.versionId === 'string' ? { versionId: reply.versionId } : {}),
        ...(typeof reply.location === 'string' ? { location: reply.location } : {}),
      };
    }
    // A cheap check of the bytes (the full parse is what passing them on avoids): a JSON object, or gzip.
    const body = answer.body;
    const encoding = answer.header(ERS_ENCODING_HEADER);
    const whole =
      encoding === 'gzip'
        ? body.length > 2 && body[0] === GZIP_MAGIC[0] && body[1] === GZIP_MAGIC[1]
        : encoding === undefined && body.length >= 2 && body[0] === OPEN_BRACE && body[body.length - 1] === CLOSE_BRACE;
    if (!whole) {
      throw new PlatformError('REC_SERVER_ERROR', 'e-referrals answered with something that is not a FHIR resource');
    }
    const versionId = answer.header(ERS_VERSION_HEADER);
    const location = answer.header(ERS_LOCATION_HEADER);
    return {
      body,
      ...(versionId ? { versionId } : {}),
      ...(location ? { location } : {}),
      ...(encoding === 'gzip' ? { encoding } : {}),
    };
  }

  private async call(
    subject: Subject,
    type: new () => object,
    request: object,
    context: CallContext,
  ): Promise<FhirReply> {
    return expectReply(await this.rpc.requestValidated(subject, type, request, context));
  }

  businessFunctions(request: QueryRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.businessFunctionsGet, QueryRequest, request, context);
  }
  codeSystem(request: ReadRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.codeSystemGet, ReadRequest, request, context);
  }
  publishService(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.servicePublish, ResourceRequest, request, context);
  }
  publishSlots(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.slotsPublish, ResourceRequest, request, context);
  }
  async searchServices(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    return replyOf(await this.searchServicesDocument(request, context));
  }
  searchServicesDocument(request: ResourceRequest, context: CallContext): Promise<FhirDocument> {
    return this.document(ERS_SUBJECTS.serviceSearch, resourceRequest(request), context);
  }
  getService(request: ReadRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.serviceGet, ReadRequest, request, context);
  }
  listServices(request: QueryRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.serviceList, QueryRequest, request, context);
  }
  createReferral(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.referralCreate, ResourceRequest, request, context);
  }
  createReferralForTriage(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.referralCreateForTriage, ResourceRequest, request, context);
  }
  getReferral(request: ReadRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.referralGet, ReadRequest, request, context);
  }
  availableActions(request: QueryRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.referralActions, QueryRequest, request, context);
  }
  changeShortlist(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.shortlistChange, ChangeRequest, request, context);
  }
  changeShortlistForTriage(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.shortlistChangeForTriage, ChangeRequest, request, context);
  }
  cancelReferral(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.referralCancel, ChangeRequest, request, context);
  }
  acceptReferral(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.referralAccept, ChangeRequest, request, context);
  }
  rejectReferral(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.referralReject, ChangeRequest, request, context);
  }
  recordReviewOutcome(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.reviewOutcome, ChangeRequest, request, context);
  }
  cancelAppointmentActionLater(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.cancelAppointmentActionLater, ChangeRequest, request, context);
  }
  practitionersOnBehalfOf(request: QueryRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.practitionersOnBehalfOf, QueryRequest, request, context);
  }
  worklist(request: ResourceRequest, context: CallContext): Promise<FhirDocument> {
    return this.document(ERS_SUBJECTS.worklistGet, resourceRequest(request), context, worklistOf);
  }
  async searchSlots(request: QueryRequest, context: CallContext): Promise<FhirReply> {
    return replyOf(await this.searchSlotsDocument(request, context));
  }
  searchSlotsDocument(request: QueryRequest, context: CallContext): Promise<FhirDocument> {
    const checked = plainQueryRequest(request);
    return this.document(ERS_SUBJECTS.slotSearch, checked ?? validatePayload(QueryRequest, request), context);
  }
  async createAppointment(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    return replyOf(await this.createAppointmentDocument(request, context));
  }
  createAppointmentDocument(request: ResourceRequest, context: CallContext): Promise<FhirDocument> {
    return this.document(ERS_SUBJECTS.appointmentCreate, resourceRequest(request), context);
  }
  cancelAppointment(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.appointmentCancel, ChangeRequest, request, context);
  }
  getAppointment(request: ReadRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.appointmentGet, ReadRequest, request, context);
  }
  searchServiceRequests(request: QueryRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.serviceRequestSearch, QueryRequest, request, context);
  }

  async health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }> {
    return this.rpc.request(ERS_SUBJECTS.healthCheck, {}, context, timeoutMs);
  }
}

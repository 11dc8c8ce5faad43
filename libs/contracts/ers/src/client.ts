import { PlatformError } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient } from '@platform/shared-nats';
import './errors';
import { ChangeRequest, QueryRequest, ReadRequest, ResourceRequest, type FhirReply } from './payloads';
import { ERS_SUBJECTS } from './subjects';
import type { WorklistReply } from './worklist';

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
  worklist(request: ResourceRequest, context: CallContext): Promise<WorklistReply>;
  searchSlots(request: QueryRequest, context: CallContext): Promise<FhirReply>;
  createAppointment(request: ResourceRequest, context: CallContext): Promise<FhirReply>;
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

/** The typed e-referrals client: validates what it sends and the shape of what it receives, over NATS. */
export class EReferralsClient implements EReferralsApi {
  constructor(private readonly rpc: NatsRpcClient) {}

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
  searchServices(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.serviceSearch, ResourceRequest, request, context);
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
  async worklist(request: ResourceRequest, context: CallContext): Promise<WorklistReply> {
    const reply = await this.rpc.requestValidated<WorklistReply>(
      ERS_SUBJECTS.worklistGet,
      ResourceRequest,
      request,
      context,
    );
    if (
      typeof reply !== 'object' ||
      reply === null ||
      !Array.isArray(reply.rows) ||
      typeof reply.listType !== 'string'
    ) {
      throw new PlatformError('REC_SERVER_ERROR', 'e-referrals answered with something that is not a worklist');
    }
    return reply;
  }
  searchSlots(request: QueryRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.slotSearch, QueryRequest, request, context);
  }
  createAppointment(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    return this.call(ERS_SUBJECTS.appointmentCreate, ResourceRequest, request, context);
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

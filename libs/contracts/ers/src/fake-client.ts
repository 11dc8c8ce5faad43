import { PlatformError } from '@platform/shared-errors';
import { validatePayload, type CallContext } from '@platform/shared-nats';
import type { EReferralsApi } from './client';
import './errors';
import {
  ChangeRequest,
  QueryRequest,
  ReadRequest,
  ResourceRequest,
  type FhirDocument,
  type FhirReply,
} from './payloads';
import { worklistBody, type WorklistReply } from './worklist';

type Method = Exclude<
  keyof EReferralsApi,
  'health' | 'worklist' | 'searchServicesDocument' | 'searchSlotsDocument' | 'createAppointmentDocument'
>;

/** A reply as the bytes a raw answer carries. */
function documentOf(reply: FhirReply): FhirDocument {
  return {
    body: Buffer.from(JSON.stringify(reply.resource)),
    ...(reply.versionId === undefined ? {} : { versionId: reply.versionId }),
    ...(reply.location === undefined ? {} : { location: reply.location }),
  };
}

/**
 * e-referrals for consumers' unit tests: the same payload validation as the real client; each method answers
 * what the test set for it (`answer`), or RESOURCE_NOT_FOUND. Calls are recorded in `calls`.
 */
export class FakeEReferralsClient implements EReferralsApi {
  readonly calls: { method: string; request: object; context: CallContext }[] = [];
  private readonly answers = new Map<string, FhirReply | PlatformError>();
  private worklistReply: WorklistReply = { listType: 'REFERRALS_FOR_REVIEW', total: 0, rows: [], services: {} };

  answer(method: Method, reply: FhirReply | PlatformError): this {
    this.answers.set(method, reply);
    return this;
  }

  withWorklist(reply: WorklistReply): this {
    this.worklistReply = reply;
    return this;
  }

  private async reply(
    method: Method,
    type: new () => object,
    request: object,
    context: CallContext,
  ): Promise<FhirReply> {
    await validatePayload(type, request);
    this.calls.push({ method, request, context });
    const answer = this.answers.get(method);
    if (answer instanceof PlatformError) throw answer;
    if (!answer) throw new PlatformError('RESOURCE_NOT_FOUND');
    return answer;
  }

  businessFunctions = (r: QueryRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('businessFunctions', QueryRequest, r, c);
  codeSystem = (r: ReadRequest, c: CallContext): Promise<FhirReply> => this.reply('codeSystem', ReadRequest, r, c);
  publishService = (r: ResourceRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('publishService', ResourceRequest, r, c);
  publishSlots = (r: ResourceRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('publishSlots', ResourceRequest, r, c);
  searchServices = (r: ResourceRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('searchServices', ResourceRequest, r, c);
  getService = (r: ReadRequest, c: CallContext): Promise<FhirReply> => this.reply('getService', ReadRequest, r, c);
  listServices = (r: QueryRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('listServices', QueryRequest, r, c);
  createReferral = (r: ResourceRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('createReferral', ResourceRequest, r, c);
  createReferralForTriage = (r: ResourceRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('createReferralForTriage', ResourceRequest, r, c);
  getReferral = (r: ReadRequest, c: CallContext): Promise<FhirReply> => this.reply('getReferral', ReadRequest, r, c);
  availableActions = (r: QueryRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('availableActions', QueryRequest, r, c);
  changeShortlist = (r: ChangeRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('changeShortlist', ChangeRequest, r, c);
  changeShortlistForTriage = (r: ChangeRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('changeShortlistForTriage', ChangeRequest, r, c);
  cancelReferral = (r: ChangeRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('cancelReferral', ChangeRequest, r, c);
  acceptReferral = (r: ChangeRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('acceptReferral', ChangeRequest, r, c);
  rejectReferral = (r: ChangeRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('rejectReferral', ChangeRequest, r, c);
  recordReviewOutcome = (r: ChangeRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('recordReviewOutcome', ChangeRequest, r, c);
  cancelAppointmentActionLater = (r: ChangeRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('cancelAppointmentActionLater', ChangeRequest, r, c);
  practitionersOnBehalfOf = (r: QueryRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('practitionersOnBehalfOf', QueryRequest, r, c);
  searchSlots = (r: QueryRequest, c: CallContext): Promise<FhirReply> => this.reply('searchSlots', QueryRequest, r, c);
  createAppointment = (r: ResourceRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('createAppointment', ResourceRequest, r, c);
  cancelAppointment = (r: ChangeRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('cancelAppointment', ChangeRequest, r, c);
  getAppointment = (r: ReadRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('getAppointment', ReadRequest, r, c);
  searchServiceRequests = (r: QueryRequest, c: CallContext): Promise<FhirReply> =>
    this.reply('searchServiceRequests', QueryRequest, r, c);

  searchServicesDocument = async (r: ResourceRequest, c: CallContext): Promise<FhirDocument> =>
    documentOf(await this.searchServices(r, c));
  searchSlotsDocument = async (r: QueryRequest, c: CallContext): Promise<FhirDocument> =>
    documentOf(await this.searchSlots(r, c));
  createAppointmentDocument = async (r: ResourceRequest, c: CallContext): Promise<FhirDocument> =>
    documentOf(await this.createAppointment(r, c));

  async worklist(request: ResourceRequest, context: CallContext): Promise<FhirDocument> {
    await validatePayload(ResourceRequest, request);
    this.calls.push({ method: 'worklist', request, context });
    return { body: worklistBody(this.worklistReply) };
  }

  health(): Promise<{ status: 'ok'; service: string }> {
    return Promise.resolve({ status: 'ok', service: 'e-referrals' });
  }
}

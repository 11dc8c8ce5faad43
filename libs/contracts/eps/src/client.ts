import { PlatformError } from '@platform/shared-errors';
import { validatePayload, type CallContext, type NatsRpcClient } from '@platform/shared-nats';
import {
  CreatePrescriptionRequest,
  GetPrescriptionRequest,
  PrepareRequest,
  RegisterPrescriberKeyRequest,
  PharmacyRequest,
  ReleaseRequest,
  ReturnRequest,
  type CreatePrescriptionReply,
  type FhirResource,
  type PrescriptionTracking,
} from './payloads';
import { EPS_SUBJECTS } from './subjects';

export interface EpsApi {
  prepare(request: PrepareRequest, context: CallContext): Promise<FhirResource>;
  createPrescription(request: CreatePrescriptionRequest, context: CallContext): Promise<CreatePrescriptionReply>;
  release(request: ReleaseRequest, context: CallContext): Promise<FhirResource>;
  /** Gives a released prescription back (OperationOutcome, informational). */
  returnPrescription(request: ReturnRequest, context: CallContext): Promise<FhirResource>;
  /** A dispense notification (or amendment): OperationOutcome, informational. */
  dispense(request: CreatePrescriptionRequest, context: CallContext): Promise<FhirResource>;
  /** Withdraws the latest dispense notification (a Task). */
  withdraw(request: PharmacyRequest, context: CallContext): Promise<FhirResource>;
  /** Claims for a dispensed prescription (a Claim). */
  claim(request: PharmacyRequest, context: CallContext): Promise<FhirResource>;
  /** Cancels items (prescription-order-update); answers the NHS's prescription-order-response Bundle. */
  cancel(request: CreatePrescriptionRequest, context: CallContext): Promise<FhirResource>;
  getPrescription(request: GetPrescriptionRequest, context: CallContext): Promise<PrescriptionTracking>;
  registerPrescriberKey(request: RegisterPrescriberKeyRequest, context: CallContext): Promise<{ sdsUserId: string }>;
  health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }>;
}

function resource(reply: unknown, type: string): FhirResource {
  if ((reply as FhirResource | null)?.resourceType !== type) {
    throw new PlatformError('REC_SERVER_ERROR', `EPS answered with something that is not a ${type}`);
  }
  return reply as FhirResource;
}

/** The typed EPS client over NATS. */
export class EpsClient implements EpsApi {
  constructor(private readonly rpc: NatsRpcClient) {}

  async prepare(request: PrepareRequest, context: CallContext): Promise<FhirResource> {
    const payload = await validatePayload(PrepareRequest, request);
    return resource(await this.rpc.request(EPS_SUBJECTS.prepare, payload, context), 'Parameters');
  }

  async createPrescription(request: CreatePrescriptionRequest, context: CallContext): Promise<CreatePrescriptionReply> {
    const payload = await validatePayload(CreatePrescriptionRequest, request);
    const reply = await this.rpc.request<CreatePrescriptionReply>(EPS_SUBJECTS.create, payload, context);
    if (typeof reply?.shortFormId !== 'string')
      throw new PlatformError('REC_SERVER_ERROR', 'EPS answered without a prescription ID');
    resource(reply.outcome, 'OperationOutcome');
    return reply;
  }

  async release(request: ReleaseRequest, context: CallContext): Promise<FhirResource> {
    const payload = await validatePayload(ReleaseRequest, request);
    return resource(await this.rpc.request(EPS_SUBJECTS.release, payload, context), 'Parameters');
  }

  async returnPrescription(request: ReturnRequest, context: CallContext): Promise<FhirResource> {
    const payload = await validatePayload(ReturnRequest, request);
    return resource(await this.rpc.request(EPS_SUBJECTS.return, payload, context), 'OperationOutcome');
  }

  async dispense(request: CreatePrescriptionRequest, context: CallContext): Promise<FhirResource> {
    const payload = await validatePayload(CreatePrescriptionRequest, request);
    return resource(await this.rpc.request(EPS_SUBJECTS.dispense, payload, context), 'OperationOutcome');
  }

  async withdraw(request: PharmacyRequest, context: CallContext): Promise<FhirResource> {
    const payload = await validatePayload(PharmacyRequest, request);
    return resource(await this.rpc.request(EPS_SUBJECTS.withdraw, payload, context), 'OperationOutcome');
  }

  async claim(request: PharmacyRequest, context: CallContext): Promise<FhirResource> {
    const payload = await validatePayload(PharmacyRequest, request);
    return resource(await this.rpc.request(EPS_SUBJECTS.claim, payload, context), 'OperationOutcome');
  }

  async cancel(request: CreatePrescriptionRequest, context: CallContext): Promise<FhirResource> {
    const payload = await validatePayload(CreatePrescriptionRequest, request);
    return resource(await this.rpc.request(EPS_SUBJECTS.cancel, payload, context), 'Bundle');
  }

  async getPrescription(request: GetPrescriptionRequest, context: CallContext): Promise<PrescriptionTracking> {
    const payload = await validatePayload(GetPrescriptionRequest, request);
    const reply = await this.rpc.request<PrescriptionTracking>(EPS_SUBJECTS.get, payload, context);
    if (typeof reply?.status !== 'string' || !Array.isArray(reply.history)) {
      throw new PlatformError('REC_SERVER_ERROR', 'EPS answered with something that is not a prescription');
    }
    return reply;
  }

  async registerPrescriberKey(
    request: RegisterPrescriberKeyRequest,
    context: CallContext,
  ): Promise<{ sdsUserId: string }> {
    const payload = await validatePayload(RegisterPrescriberKeyRequest, request);
    return this.rpc.request(EPS_SUBJECTS.registerKey, payload, context);
  }

  health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }> {
    return this.rpc.request(EPS_SUBJECTS.healthCheck, {}, context, timeoutMs);
  }
}

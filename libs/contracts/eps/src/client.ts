import { PlatformError } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient } from '@platform/shared-nats';
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
  type RegisterPrescriberKeyReply,
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
  registerPrescriberKey(
    request: RegisterPrescriberKeyRequest,
    context: CallContext,
  ): Promise<RegisterPrescriberKeyReply>;
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
    return resource(
      await this.rpc.requestValidated(EPS_SUBJECTS.prepare, PrepareRequest, request, context),
      'Parameters',
    );
  }

  async createPrescription(request: CreatePrescriptionRequest, context: CallContext): Promise<CreatePrescriptionReply> {
    const reply = await this.rpc.requestValidated<CreatePrescriptionReply>(
      EPS_SUBJECTS.create,
      CreatePrescriptionRequest,
      request,
      context,
    );
    if (typeof reply?.shortFormId !== 'string')
      throw new PlatformError('REC_SERVER_ERROR', 'EPS answered without a prescription ID');
    resource(reply.outcome, 'OperationOutcome');
    return reply;
  }

  async release(request: ReleaseRequest, context: CallContext): Promise<FhirResource> {
    return resource(
      await this.rpc.requestValidated(EPS_SUBJECTS.release, ReleaseRequest, request, context),
      'Parameters',
    );
  }

  async returnPrescription(request: ReturnRequest, context: CallContext): Promise<FhirResource> {
    return resource(
      await this.rpc.requestValidated(EPS_SUBJECTS.return, ReturnRequest, request, context),
      'OperationOutcome',
    );
  }

  async dispense(request: CreatePrescriptionRequest, context: CallContext): Promise<FhirResource> {
    return resource(
      await this.rpc.requestValidated(EPS_SUBJECTS.dispense, CreatePrescriptionRequest, request, context),
      'OperationOutcome',
    );
  }

  async withdraw(request: PharmacyRequest, context: CallContext): Promise<FhirResource> {
    return resource(
      await this.rpc.requestValidated(EPS_SUBJECTS.withdraw, PharmacyRequest, request, context),
      'OperationOutcome',
    );
  }

  async claim(request: PharmacyRequest, context: CallContext): Promise<FhirResource> {
    return resource(
      await this.rpc.requestValidated(EPS_SUBJECTS.claim, PharmacyRequest, request, context),
      'OperationOutcome',
    );
  }

  async cancel(request: CreatePrescriptionRequest, context: CallContext): Promise<FhirResource> {
    return resource(
      await this.rpc.requestValidated(EPS_SUBJECTS.cancel, CreatePrescriptionRequest, request, context),
      'Bundle',
    );
  }

  async getPrescription(request: GetPrescriptionRequest, context: CallContext): Promise<PrescriptionTracking> {
    const reply = await this.rpc.requestValidated<PrescriptionTracking>(
      EPS_SUBJECTS.get,
      GetPrescriptionRequest,
      request,
      context,
    );
    if (typeof reply?.status !== 'string' || !Array.isArray(reply.history)) {
      throw new PlatformError('REC_SERVER_ERROR', 'EPS answered with something that is not a prescription');
    }
    return reply;
  }

  async registerPrescriberKey(
    request: RegisterPrescriberKeyRequest,
    context: CallContext,
  ): Promise<RegisterPrescriberKeyReply> {
    return this.rpc.requestValidated(EPS_SUBJECTS.registerKey, RegisterPrescriberKeyRequest, request, context);
  }

  health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }> {
    return this.rpc.request(EPS_SUBJECTS.healthCheck, {}, context, timeoutMs);
  }
}

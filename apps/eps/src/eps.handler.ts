import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  CreatePrescriptionRequest,
  EPS_SUBJECTS,
  GetPrescriptionRequest,
  PharmacyRequest,
  PrepareRequest,
  RegisterPrescriberKeyRequest,
  ReleaseRequest,
  ReturnRequest,
  type CreatePrescriptionReply,
  type FhirResource,
  type PrescriptionTracking,
} from '@platform/contracts-eps';
import { withCallContext } from '@platform/shared-nats';
import { DispensingUseCase } from './dispensing/dispensing.usecase';
import { ReleaseUseCase } from './dispensing/release.usecase';
import { ReturnUseCase } from './dispensing/return.usecase';
import type { Bundle } from './prescribing/fhir';
import { CancelUseCase } from './prescribing/cancel.usecase';
import { PrescribingUseCase } from './prescribing/prescribing.usecase';
import { PrescriptionRepository } from './prescribing/prescription.repository';
import { TrackingUseCase } from './prescribing/tracking.usecase';

@Controller()
export class EpsHandler {
  constructor(
    private readonly prescribing: PrescribingUseCase,
    private readonly releases: ReleaseUseCase,
    private readonly returns: ReturnUseCase,
    private readonly cancels: CancelUseCase,
    private readonly dispensing: DispensingUseCase,
    private readonly tracking: TrackingUseCase,
    private readonly prescriptions: PrescriptionRepository,
  ) {}

  @MessagePattern(EPS_SUBJECTS.prepare)
  prepare(@Payload() request: PrepareRequest, @Ctx() nats: NatsContext): Promise<FhirResource> {
    return withCallContext(nats, (call) => this.prescribing.prepare(request.bundle as Bundle, call));
  }

  @MessagePattern(EPS_SUBJECTS.create)
  create(@Payload() request: CreatePrescriptionRequest, @Ctx() nats: NatsContext): Promise<CreatePrescriptionReply> {
    return withCallContext(nats, (call) => this.prescribing.create(request.bundle as Bundle, call));
  }

  @MessagePattern(EPS_SUBJECTS.cancel)
  cancel(@Payload() request: CreatePrescriptionRequest, @Ctx() nats: NatsContext): Promise<FhirResource> {
    return withCallContext(nats, (call) => this.cancels.cancel(request.bundle as Bundle, call));
  }

  @MessagePattern(EPS_SUBJECTS.dispense)
  dispense(@Payload() request: CreatePrescriptionRequest, @Ctx() nats: NatsContext): Promise<FhirResource> {
    return withCallContext(nats, (call) => this.dispensing.notify(request.bundle as Bundle, call));
  }

  @MessagePattern(EPS_SUBJECTS.withdraw)
  withdraw(@Payload() request: PharmacyRequest, @Ctx() nats: NatsContext): Promise<FhirResource> {
    return withCallContext(nats, (call) => this.dispensing.withdraw(request.resource, call));
  }

  @MessagePattern(EPS_SUBJECTS.claim)
  claim(@Payload() request: PharmacyRequest, @Ctx() nats: NatsContext): Promise<FhirResource> {
    return withCallContext(nats, (call) => this.dispensing.claim(request.resource, call));
  }

  @MessagePattern(EPS_SUBJECTS.release)
  release(@Payload() request: ReleaseRequest, @Ctx() nats: NatsContext): Promise<FhirResource> {
    return withCallContext(nats, (call) => this.releases.release(request.parameters, call));
  }

  @MessagePattern(EPS_SUBJECTS.return)
  returnPrescription(@Payload() request: ReturnRequest, @Ctx() nats: NatsContext): Promise<FhirResource> {
    return withCallContext(nats, (call) => this.returns.returnPrescription(request.task, call));
  }

  @MessagePattern(EPS_SUBJECTS.get)
  get(@Payload() request: GetPrescriptionRequest, @Ctx() nats: NatsContext): Promise<PrescriptionTracking> {
    return withCallContext(nats, (call) => this.tracking.get(request.shortFormId, call));
  }

  @MessagePattern(EPS_SUBJECTS.registerKey)
  async registerKey(@Payload() request: RegisterPrescriberKeyRequest): Promise<{ sdsUserId: string }> {
    await this.prescriptions.registerKey(request.sdsUserId, request.publicKeyPem);
    return { sdsUserId: request.sdsUserId };
  }
}

import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  CreatePrescriptionRequest,
  EPS_SUBJECTS,
  PharmacyRequest,
  ReleaseRequest,
  ReturnRequest,
  type FhirResource,
} from '@platform/contracts-eps';
import { withCallContext } from '@platform/shared-nats';
import type { Bundle } from '../shared/fhir';
import { ClaimPrescriptionUseCase } from './claim-prescription.usecase';
import { NotifyDispenseUseCase } from './notify-dispense.usecase';
import { ReleasePrescriptionsUseCase } from './release-prescriptions.usecase';
import { ReturnPrescriptionUseCase } from './return-prescription.usecase';
import { WithdrawDispenseUseCase } from './withdraw-dispense.usecase';

@Controller()
export class DispensingHandler {
  constructor(
    private readonly releasePrescriptions: ReleasePrescriptionsUseCase,
    private readonly returns: ReturnPrescriptionUseCase,
    private readonly notifyDispense: NotifyDispenseUseCase,
    private readonly withdrawDispense: WithdrawDispenseUseCase,
    private readonly claimPrescription: ClaimPrescriptionUseCase,
  ) {}

  @MessagePattern(EPS_SUBJECTS.release)
  release(@Payload() request: ReleaseRequest, @Ctx() nats: NatsContext): Promise<FhirResource> {
    return withCallContext(nats, (call) => this.releasePrescriptions.execute(request.parameters, call));
  }

  @MessagePattern(EPS_SUBJECTS.return)
  returnPrescription(@Payload() request: ReturnRequest, @Ctx() nats: NatsContext): Promise<FhirResource> {
    return withCallContext(nats, (call) => this.returns.execute(request.task, call));
  }

  @MessagePattern(EPS_SUBJECTS.dispense)
  dispense(@Payload() request: CreatePrescriptionRequest, @Ctx() nats: NatsContext): Promise<FhirResource> {
    return withCallContext(nats, (call) => this.notifyDispense.execute(request.bundle as Bundle, call));
  }

  @MessagePattern(EPS_SUBJECTS.withdraw)
  withdraw(@Payload() request: PharmacyRequest, @Ctx() nats: NatsContext): Promise<FhirResource> {
    return withCallContext(nats, (call) => this.withdrawDispense.execute(request.resource, call));
  }

  @MessagePattern(EPS_SUBJECTS.claim)
  claim(@Payload() request: PharmacyRequest, @Ctx() nats: NatsContext): Promise<FhirResource> {
    return withCallContext(nats, (call) => this.claimPrescription.execute(request.resource, call));
  }
}

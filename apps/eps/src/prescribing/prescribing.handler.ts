import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  CreatePrescriptionRequest,
  EPS_SUBJECTS,
  PrepareRequest,
  RegisterPrescriberKeyRequest,
  type CreatePrescriptionReply,
  type FhirResource,
  type RegisterPrescriberKeyReply,
} from '@platform/contracts-eps';
import { withCallContext } from '@platform/shared-nats';
import type { Bundle } from '../shared/fhir';
import { CancelPrescriptionUseCase } from './cancel-prescription.usecase';
import { CreatePrescriptionUseCase } from './create-prescription.usecase';
import { PreparePrescriptionUseCase } from './prepare-prescription.usecase';
import { RegisterPrescriberKeyUseCase } from './register-prescriber-key.usecase';

@Controller()
export class PrescribingHandler {
  constructor(
    private readonly preparePrescription: PreparePrescriptionUseCase,
    private readonly createPrescription: CreatePrescriptionUseCase,
    private readonly cancelPrescription: CancelPrescriptionUseCase,
    private readonly registerPrescriberKey: RegisterPrescriberKeyUseCase,
  ) {}

  @MessagePattern(EPS_SUBJECTS.prepare)
  prepare(@Payload() request: PrepareRequest, @Ctx() nats: NatsContext): Promise<FhirResource> {
    return withCallContext(nats, (call) => this.preparePrescription.execute(request.bundle as Bundle, call));
  }

  @MessagePattern(EPS_SUBJECTS.create)
  create(@Payload() request: CreatePrescriptionRequest, @Ctx() nats: NatsContext): Promise<CreatePrescriptionReply> {
    return withCallContext(nats, (call) => this.createPrescription.execute(request.bundle as Bundle, call));
  }

  @MessagePattern(EPS_SUBJECTS.cancel)
  cancel(@Payload() request: CreatePrescriptionRequest, @Ctx() nats: NatsContext): Promise<FhirResource> {
    return withCallContext(nats, (call) => this.cancelPrescription.execute(request.bundle as Bundle, call));
  }

  @MessagePattern(EPS_SUBJECTS.registerKey)
  registerKey(
    @Payload() request: RegisterPrescriberKeyRequest,
    @Ctx() nats: NatsContext,
  ): Promise<RegisterPrescriberKeyReply> {
    return withCallContext(nats, (call) => this.registerPrescriberKey.execute(request, call));
  }
}

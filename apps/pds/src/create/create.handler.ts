import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { CreatePatientRequest, PDS_SUBJECTS, type CreatePatientReply } from '@platform/contracts-pds';
import { withCallContext } from '@platform/shared-nats';
import { CreatePatientUseCase } from './create-patient.usecase';

@Controller()
export class CreateHandler {
  constructor(private readonly createPatient: CreatePatientUseCase) {}

  @MessagePattern(PDS_SUBJECTS.patientCreate)
  create(@Payload() request: CreatePatientRequest, @Ctx() nats: NatsContext): Promise<CreatePatientReply> {
    return withCallContext(nats, (call) => this.createPatient.execute(request, call));
  }
}

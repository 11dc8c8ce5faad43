import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { GetPatientRequest, PDS_SUBJECTS, type GetPatientReply, type HealthReply } from '@platform/contracts-pds';
import { callContextOf } from '@platform/shared-nats';
import { ReadPatientUseCase } from './read-patient.usecase';

@Controller()
export class PatientHandler {
  constructor(private readonly readPatient: ReadPatientUseCase) {}

  @MessagePattern(PDS_SUBJECTS.patientGet)
  get(@Payload() request: GetPatientRequest, @Ctx() context: NatsContext): Promise<GetPatientReply> {
    return this.readPatient.execute(request.nhsNumber, callContextOf(context));
  }

  @MessagePattern(PDS_SUBJECTS.healthCheck)
  health(): HealthReply {
    return { status: 'ok', service: 'pds' };
  }
}

import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { GetPatientRequest, PDS_SUBJECTS, type GetPatientWireReply, type HealthReply } from '@platform/contracts-pds';
import { withCallContext } from '@platform/shared-nats';
import { ReadPatientUseCase } from './read-patient.usecase';

@Controller()
export class PatientHandler {
  constructor(private readonly readPatient: ReadPatientUseCase) {}

  @MessagePattern(PDS_SUBJECTS.patientGet)
  async get(@Payload() request: GetPatientRequest, @Ctx() nats: NatsContext): Promise<GetPatientWireReply> {
    const { json, versionId } = await withCallContext(nats, (call) =>
      this.readPatient.execute(request.nhsNumber, call),
    );
    return { patientJson: json, versionId };
  }

  @MessagePattern(PDS_SUBJECTS.healthCheck)
  health(): HealthReply {
    return { status: 'ok', service: 'pds' };
  }
}

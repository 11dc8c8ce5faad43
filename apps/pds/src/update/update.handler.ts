import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { PDS_SUBJECTS, UpdatePatientRequest, type GetPatientWireReply } from '@platform/contracts-pds';
import { withCallContext } from '@platform/shared-nats';
import { UpdatePatientUseCase } from './update-patient.usecase';

@Controller()
export class UpdateHandler {
  constructor(private readonly updatePatient: UpdatePatientUseCase) {}

  @MessagePattern(PDS_SUBJECTS.patientUpdate)
  async update(@Payload() request: UpdatePatientRequest, @Ctx() nats: NatsContext): Promise<GetPatientWireReply> {
    const { json, versionId } = await withCallContext(nats, (call) => this.updatePatient.execute(request, call));
    return { patientJson: json, versionId };
  }
}

import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  GetPatientRequest,
  ListRelatedPersonsRequest,
  PDS_SUBJECTS,
  type GetPatientWireReply,
  type ListRelatedPersonsReply,
} from '@platform/contracts-pds';
import { withCallContext } from '@platform/shared-nats';
import { ListRelatedPersonsUseCase } from './list-related-persons.usecase';
import { ReadPatientUseCase } from './read-patient.usecase';

@Controller()
export class PatientHandler {
  constructor(
    private readonly readPatient: ReadPatientUseCase,
    private readonly listRelatedPersons: ListRelatedPersonsUseCase,
  ) {}

  @MessagePattern(PDS_SUBJECTS.patientGet)
  async get(@Payload() request: GetPatientRequest, @Ctx() nats: NatsContext): Promise<GetPatientWireReply> {
    const { json, versionId } = await withCallContext(nats, (call) =>
      this.readPatient.execute(request.nhsNumber, call),
    );
    return { patientJson: json, versionId };
  }

  @MessagePattern(PDS_SUBJECTS.relatedPersonList)
  related(@Payload() request: ListRelatedPersonsRequest, @Ctx() nats: NatsContext): Promise<ListRelatedPersonsReply> {
    return withCallContext(nats, (call) => this.listRelatedPersons.execute(request.nhsNumber, call));
  }
}

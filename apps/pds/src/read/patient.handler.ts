import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { ListRelatedPersonsRequest, PDS_SUBJECTS, type ListRelatedPersonsReply } from '@platform/contracts-pds';
import { withCallContext } from '@platform/shared-nats';
import { ListRelatedPersonsUseCase } from './list-related-persons.usecase';

/** The related-people read; pds.patient.get.v1 is served outside Nest (patient-get.subscription.ts). */
@Controller()
export class PatientHandler {
  constructor(private readonly listRelatedPersons: ListRelatedPersonsUseCase) {}

  @MessagePattern(PDS_SUBJECTS.relatedPersonList)
  related(@Payload() request: ListRelatedPersonsRequest, @Ctx() nats: NatsContext): Promise<ListRelatedPersonsReply> {
    return withCallContext(nats, (call) => this.listRelatedPersons.execute(request.nhsNumber, call));
  }
}

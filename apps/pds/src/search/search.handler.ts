import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { PDS_SUBJECTS, SearchPatientsRequest, type SearchPatientsReply } from '@platform/contracts-pds';
import { withCallContext } from '@platform/shared-nats';
import { SearchPatientsUseCase } from './search-patients.usecase';

@Controller()
export class SearchHandler {
  constructor(private readonly searchPatients: SearchPatientsUseCase) {}

  @MessagePattern(PDS_SUBJECTS.patientSearch)
  search(@Payload() request: SearchPatientsRequest, @Ctx() nats: NatsContext): Promise<SearchPatientsReply> {
    return withCallContext(nats, (call) =>
      this.searchPatients.execute(request.query, call, { sandbox: request.sandbox }),
    );
  }
}

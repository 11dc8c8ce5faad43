import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  GetOrganisationRequest,
  ImportOrganisationsRequest,
  N3_SUBJECTS,
  SearchOrganisationsRequest,
  UpsertOrganisationRequest,
  type ImportReport,
  type Organisation,
  type Page,
} from '@platform/contracts-n3';
import { withCallContext } from '@platform/shared-nats';
import { OrganisationsUseCase } from './organisations.usecase';

@Controller()
export class OrganisationsHandler {
  constructor(private readonly organisations: OrganisationsUseCase) {}

  @MessagePattern(N3_SUBJECTS.organisationGet)
  get(@Payload() request: GetOrganisationRequest): Promise<Organisation> {
    return this.organisations.get(request.odsCode);
  }

  @MessagePattern(N3_SUBJECTS.organisationSearch)
  search(@Payload() request: SearchOrganisationsRequest): Promise<Page<Organisation>> {
    return this.organisations.search(request);
  }

  @MessagePattern(N3_SUBJECTS.organisationUpsert)
  upsert(@Payload() request: UpsertOrganisationRequest, @Ctx() nats: NatsContext): Promise<Organisation> {
    return withCallContext(nats, (call) => this.organisations.upsert(request, call));
  }

  @MessagePattern(N3_SUBJECTS.organisationImport)
  import(@Payload() request: ImportOrganisationsRequest, @Ctx() nats: NatsContext): Promise<ImportReport> {
    return withCallContext(nats, (call) => this.organisations.import(request, call));
  }
}

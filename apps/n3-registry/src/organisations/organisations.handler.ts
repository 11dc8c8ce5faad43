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
import { GetOrganisationUseCase } from './get-organisation.usecase';
import { ImportOrganisationsUseCase } from './import-organisations.usecase';
import { SearchOrganisationsUseCase } from './search-organisations.usecase';
import { UpsertOrganisationUseCase } from './upsert-organisation.usecase';

@Controller()
export class OrganisationsHandler {
  constructor(
    private readonly getOrganisation: GetOrganisationUseCase,
    private readonly searchOrganisations: SearchOrganisationsUseCase,
    private readonly upsertOrganisation: UpsertOrganisationUseCase,
    private readonly importOrganisations: ImportOrganisationsUseCase,
  ) {}

  @MessagePattern(N3_SUBJECTS.organisationGet)
  get(@Payload() request: GetOrganisationRequest): Promise<Organisation> {
    return this.getOrganisation.execute(request.odsCode);
  }

  @MessagePattern(N3_SUBJECTS.organisationSearch)
  search(@Payload() request: SearchOrganisationsRequest): Promise<Page<Organisation>> {
    return this.searchOrganisations.execute(request);
  }

  @MessagePattern(N3_SUBJECTS.organisationUpsert)
  upsert(@Payload() request: UpsertOrganisationRequest, @Ctx() nats: NatsContext): Promise<Organisation> {
    return withCallContext(nats, (call) => this.upsertOrganisation.execute(request, call));
  }

  @MessagePattern(N3_SUBJECTS.organisationImport)
  import(@Payload() request: ImportOrganisationsRequest, @Ctx() nats: NatsContext): Promise<ImportReport> {
    return withCallContext(nats, (call) => this.importOrganisations.execute(request, call));
  }
}

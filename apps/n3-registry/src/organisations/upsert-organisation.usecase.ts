import { Injectable } from '@nestjs/common';
import type { Organisation, UpsertOrganisationRequest } from '@platform/contracts-n3';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, writeKey } from '@platform/shared-persistence';
import { checkDate, fieldError } from '../rules';
import { OrganisationRepository } from '../shared/organisation.repository';
import { OwnerIndex } from '../shared/owner-index';

/** Creates or replaces an organisation (dates real and in order), exactly once per X-Request-ID. */
@Injectable()
export class UpsertOrganisationUseCase {
  constructor(
    private readonly organisations: OrganisationRepository,
    private readonly writes: IdempotentWrites,
    private readonly owners: OwnerIndex,
  ) {}

  async execute(request: UpsertOrganisationRequest, context: CallContext): Promise<Organisation> {
    const organisation = {
      ...request,
      openDate: request.openDate ?? null,
      closeDate: request.closeDate ?? null,
      postcode: request.postcode ?? null,
      parentOdsCode: request.parentOdsCode ?? null,
      telephone: request.telephone ?? null,
      gpConnectEndpoint: request.gpConnectEndpoint ?? null,
    };
    checkDate(organisation.openDate, 'openDate');
    checkDate(organisation.closeDate, 'closeDate');
    if (organisation.openDate && organisation.closeDate && organisation.closeDate < organisation.openDate) {
      throw fieldError('closeDate', `${organisation.closeDate} is before openDate ${organisation.openDate}`);
    }
    const key = writeKey(context, 'organisation.upsert', request);
    const saved = await this.writes.run(key, (transaction) => this.organisations.upsert(transaction, organisation));
    // The owner table carries organisation names and statuses.
    this.owners.reloadSoon();
    return saved;
  }
}

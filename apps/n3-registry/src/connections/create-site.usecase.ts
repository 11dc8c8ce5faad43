import { Injectable } from '@nestjs/common';
import type { CreateSiteRequest, Site } from '@platform/contracts-n3';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, writeKey } from '@platform/shared-persistence';
import { OrganisationChecks } from './organisation-checks';
import { SiteRepository } from './site.repository';

/** A site of an open organisation, exactly once per X-Request-ID. */
@Injectable()
export class CreateSiteUseCase {
  constructor(
    private readonly sites: SiteRepository,
    private readonly organisations: OrganisationChecks,
    private readonly writes: IdempotentWrites,
  ) {}

  execute(request: CreateSiteRequest, context: CallContext): Promise<Site> {
    return this.writes.run(writeKey(context, 'site.create', request), async (transaction) => {
      await this.organisations.requireOpen(transaction, request.odsCode);
      return this.sites.create(transaction, request);
    });
  }
}

import { Injectable } from '@nestjs/common';
import type { ListSitesRequest, Site } from '@platform/contracts-n3';
import { odsCodeOf } from '../rules';
import { OrganisationChecks } from './organisation-checks';
import { SiteRepository } from './site.repository';

/** An organisation's sites; ORGANISATION_NOT_FOUND for an organisation the directory does not hold. */
@Injectable()
export class ListSitesUseCase {
  constructor(
    private readonly sites: SiteRepository,
    private readonly organisations: OrganisationChecks,
  ) {}

  /** At most `limit` sites from `offset`, in the order they were added. */
  async execute(request: ListSitesRequest): Promise<Site[]> {
    const odsCode = odsCodeOf(request.odsCode);
    await this.organisations.requireKnown(odsCode);
    return this.sites.list(odsCode, { limit: request.limit, offset: request.offset });
  }
}

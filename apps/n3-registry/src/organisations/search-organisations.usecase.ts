import { Injectable } from '@nestjs/common';
import type { Organisation, Page, SearchOrganisationsRequest } from '@platform/contracts-n3';
import { fieldError } from '../rules';
import { OrganisationRepository } from '../shared/organisation.repository';

/** Organisations by name words, postcode prefix, role and status; at least one of name, postcode or role. */
@Injectable()
export class SearchOrganisationsUseCase {
  constructor(private readonly organisations: OrganisationRepository) {}

  execute(request: SearchOrganisationsRequest): Promise<Page<Organisation>> {
    if (!request.name && !request.postcode && !request.role) {
      throw fieldError('name', 'search by at least one of name, postcode or role');
    }
    return this.organisations.search(request);
  }
}

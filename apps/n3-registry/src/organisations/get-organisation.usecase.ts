import { Injectable } from '@nestjs/common';
import type { Organisation } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import { odsCodeOf } from '../rules';
import { OrganisationRepository } from '../shared/organisation.repository';

/** One organisation by ODS code; a malformed code is refused without a lookup. */
@Injectable()
export class GetOrganisationUseCase {
  constructor(private readonly organisations: OrganisationRepository) {}

  async execute(odsCodeText: string): Promise<Organisation> {
    const odsCode = odsCodeOf(odsCodeText);
    const organisation = await this.organisations.get(odsCode);
    if (!organisation) {
      throw new PlatformError('ORGANISATION_NOT_FOUND', undefined, {
        diagnostics: `No organisation has ODS code ${odsCode}`,
      });
    }
    return organisation;
  }
}

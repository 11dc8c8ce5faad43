import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { PlatformError } from '@platform/shared-errors';
import { OrganisationRepository } from '../shared/organisation.repository';

function organisationNotFound(odsCode: string): PlatformError {
  return new PlatformError('ORGANISATION_NOT_FOUND', undefined, {
    diagnostics: `No organisation has ODS code ${odsCode}`,
  });
}

/** What sites and connections ask of the organisation directory: the organisation exists (and is open). */
@Injectable()
export class OrganisationChecks {
  constructor(private readonly organisations: OrganisationRepository) {}

  /** A site or a connection is made only for an organisation that exists and has not closed. */
  async requireOpen(transaction: PoolClient, odsCode: string): Promise<void> {
    const organisation = await this.organisations.get(odsCode, transaction);
    if (!organisation) throw organisationNotFound(odsCode);
    if (organisation.status === 'closed') {
      throw new PlatformError('ORGANISATION_CLOSED', undefined, {
        diagnostics: `${odsCode} (${organisation.name}) closed${organisation.closeDate ? ` on ${organisation.closeDate}` : ''}`,
      });
    }
  }

  async requireKnown(odsCode: string): Promise<void> {
    if (!(await this.organisations.get(odsCode))) throw organisationNotFound(odsCode);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type { N3Api, Organisation } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { ERS_N3 } from './clients';
import { invalid } from './fhir';

const PROVIDER_ROLES = ['nhs-trust', 'trust-site', 'other'];

/** Organisations checked in the N3 registry's directory (n3.organisation.get.v1) on the caller's behalf. */
@Injectable()
export class Organisations {
  constructor(@Inject(ERS_N3) private readonly n3: N3Api) {}

  private async find(odsCode: string, context: CallContext): Promise<Organisation | undefined> {
    return this.n3.getOrganisation({ odsCode }, context).catch((error: unknown) => {
      if (error instanceof PlatformError && ['ORGANISATION_NOT_FOUND', 'INVALID_VALUE'].includes(error.code)) {
        return undefined;
      }
      throw error;
    });
  }

  /** A provider that publishes services: an active trust (or trust site) in the directory. */
  async requireProvider(odsCode: string, context: CallContext): Promise<Organisation> {
    const organisation = await this.find(odsCode, context);
    if (!organisation)
      throw invalid(`Organisation ${odsCode} is not in the organisation directory`, 'REFERENCE_NOT_FOUND');
    if (organisation.status !== 'active') {
      throw invalid(`Organisation ${odsCode} is not active in the organisation directory`, 'INAPPROPRIATE_VALUE');
    }
    if (!PROVIDER_ROLES.includes(organisation.role)) {
      throw invalid(`Organisation ${odsCode} is a ${organisation.role}, not a provider`, 'INAPPROPRIATE_VALUE');
    }
    return organisation;
  }

  /** A referrer's organisation: active in the directory. */
  async requireActive(odsCode: string, context: CallContext): Promise<Organisation> {
    const organisation = await this.find(odsCode, context);
    if (!organisation || organisation.status !== 'active') {
      throw new PlatformError('FORBIDDEN', undefined, {
        diagnostics: `Organisation ${odsCode} is not an active organisation in the directory`,
      });
    }
    return organisation;
  }
}

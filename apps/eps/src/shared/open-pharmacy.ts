import { Inject, Injectable } from '@nestjs/common';
import type { N3Api } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { EPS_N3 } from './clients';

/**
 * The check that an ODS code is an open pharmacy in the N3 registry's directory: a prescription's nominated
 * pharmacy when it is prepared or created, the releasing pharmacy when it releases.
 */
@Injectable()
export class OpenPharmacy {
  constructor(@Inject(EPS_N3) private readonly n3: N3Api) {}

  async check(odsCode: string, context: CallContext): Promise<void> {
    const unknown = (): PlatformError =>
      new PlatformError('INVALID_VALUE', undefined, {
        diagnostics: `Nominated pharmacy ${odsCode} is not an open pharmacy in the organisation directory`,
        expression: ['MedicationRequest.dispenseRequest.performer'],
      });
    const organisation = await this.n3.getOrganisation({ odsCode }, context).catch((error: unknown) => {
      if (error instanceof PlatformError && error.code === 'ORGANISATION_NOT_FOUND') throw unknown();
      throw error;
    });
    if (organisation.role !== 'pharmacy' || organisation.status !== 'active') throw unknown();
  }
}

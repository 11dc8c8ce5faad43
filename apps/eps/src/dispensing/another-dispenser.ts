import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { N3Api, Organisation } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { EPS_N3 } from '../shared/clients';
import { SYSTEMS } from '../shared/fhir';
import { PrescriptionRepository } from '../shared/prescription.repository';

/** The pharmacy as the NHS shows a holder: a contained Organization an extension points at. */
function holderDetails(organisation: Organisation | null, odsCode: string): Record<string, unknown> {
  const id = randomUUID();
  return {
    contained: [
      {
        resourceType: 'Organization',
        id,
        identifier: [{ system: SYSTEMS.odsCode, value: odsCode }],
        ...(organisation
          ? {
              name: organisation.name,
              ...(organisation.telephone
                ? { telecom: [{ system: 'phone', use: 'work', value: organisation.telephone }] }
                : {}),
              address: [
                {
                  use: 'work',
                  line: organisation.addressLines,
                  ...(organisation.postcode ? { postalCode: organisation.postcode } : {}),
                },
              ],
            }
          : {}),
      },
    ],
    extension: [
      {
        url: 'https://fhir.nhs.uk/StructureDefinition/Extension-Spine-supportingInfo',
        valueReference: { reference: `#${id}` },
      },
    ],
  };
}

/**
 * PRESCRIPTION_WITH_ANOTHER_DISPENSER, as the NHS answers a pharmacy acting on a prescription another one
 * holds: the holder's ODS code and, when the directory knows it, its name, telephone and address.
 */
@Injectable()
export class AnotherDispenser {
  constructor(
    private readonly prescriptions: PrescriptionRepository,
    @Inject(EPS_N3) private readonly n3: N3Api,
  ) {}

  /** The error for `shortFormId`, held by `known` (or by whoever holds it now, when not known). */
  async error(shortFormId: string, context: CallContext, known?: string | null): Promise<PlatformError> {
    const holder = known ?? (await this.prescriptions.get(shortFormId))?.dispenser ?? 'unknown';
    const organisation = await this.n3.getOrganisation({ odsCode: holder }, context).catch(() => null);
    return new PlatformError('PRESCRIPTION_WITH_ANOTHER_DISPENSER', undefined, {
      diagnostics: `Prescription ${shortFormId} is with ${holder}${organisation ? ` (${organisation.name})` : ''}`,
      details: { holder, ...holderDetails(organisation, holder) },
    });
  }
}

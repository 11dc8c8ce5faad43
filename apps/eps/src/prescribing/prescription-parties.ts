import { Inject, Injectable } from '@nestjs/common';
import type { PdsApi } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { EPS_PDS } from '../shared/clients';
import { OpenPharmacy } from '../shared/open-pharmacy';
import type { PrescriptionOrder } from './prescription-order';

/** The parties a prescription names, checked for `$prepare` and for the signed order alike. */
@Injectable()
export class PrescriptionParties {
  constructor(
    @Inject(EPS_PDS) private readonly pds: PdsApi,
    private readonly pharmacies: OpenPharmacy,
  ) {}

  /** The patient exists in PDS and is alive; a nominated pharmacy is an open pharmacy. */
  async check(order: PrescriptionOrder, context: CallContext): Promise<void> {
    const [patient] = await Promise.all([
      this.pds.getPatient({ nhsNumber: order.patientNhsNumber }, context).catch((error: unknown) => {
        if (error instanceof PlatformError && ['RESOURCE_NOT_FOUND', 'INVALIDATED_RESOURCE'].includes(error.code)) {
          throw new PlatformError('INVALID_VALUE', undefined, {
            diagnostics: `Patient ${order.patientNhsNumber} is not known to PDS`,
            expression: ['Patient.identifier'],
          });
        }
        throw error;
      }),
      order.nominatedPharmacy ? this.pharmacies.check(order.nominatedPharmacy, context) : Promise.resolve(null),
    ]);
    const deceased = patient.patient['deceasedDateTime'] ?? patient.patient['deceasedBoolean'];
    if (deceased !== undefined && deceased !== false) {
      throw new PlatformError('PATIENT_DECEASED', undefined, {
        diagnostics: `Patient ${order.patientNhsNumber} is recorded in PDS as deceased`,
        expression: ['Patient.identifier'],
      });
    }
  }
}

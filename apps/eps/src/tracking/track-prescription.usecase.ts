import { Injectable } from '@nestjs/common';
import type { PrescriptionTracking } from '@platform/contracts-eps';
import { PlatformError } from '@platform/shared-errors';
import { isValidShortFormPrescriptionId } from '@platform/shared-identifiers';
import type { CallContext } from '@platform/shared-nats';
import { prescriptionNotFound } from '../shared/outcomes';
import { PrescriptionHistoryRepository } from '../shared/prescription-history.repository';
import { PrescriptionRepository } from '../shared/prescription.repository';

/** A prescription's status and history, for its prescriber's organisation, the pharmacy holding it or nominated, and its patient. */
@Injectable()
export class TrackPrescriptionUseCase {
  constructor(
    private readonly prescriptions: PrescriptionRepository,
    private readonly history: PrescriptionHistoryRepository,
  ) {}

  async execute(shortFormId: string, context: CallContext): Promise<PrescriptionTracking> {
    if (!isValidShortFormPrescriptionId(shortFormId)) {
      throw new PlatformError('INVALID_VALUE', undefined, {
        diagnostics: `'${shortFormId.slice(0, 32)}' is not a short-form prescription ID`,
      });
    }
    const prescription = await this.prescriptions.get(shortFormId);
    const caller = context.caller;
    // Fails closed: a caller who acts for no organisation is never one of the prescription's organisations.
    const organisation = caller?.organisation?.trim() ? caller.organisation : null;
    const asOrganisation =
      organisation !== null &&
      prescription !== null &&
      [prescription.prescriberOds, prescription.dispenser, prescription.nominatedPharmacy].includes(organisation);
    // A patient sees their own prescriptions: the NHS number in their token is the prescription's.
    const asPatient =
      caller?.roles.includes('patient') === true &&
      caller.nhsNumber !== undefined &&
      caller.nhsNumber === prescription?.patientNhsNumber;
    const entitled = prescription && (asOrganisation || asPatient);
    if (!prescription || !entitled) {
      // The same answer for "no such prescription" and "not yours": the ID says nothing to the wrong caller.
      throw prescriptionNotFound(shortFormId);
    }
    return {
      shortFormId: prescription.shortFormId,
      longFormId: prescription.longFormId,
      status: prescription.status,
      patientNhsNumber: prescription.patientNhsNumber,
      prescriberOds: prescription.prescriberOds,
      nominatedPharmacy: prescription.nominatedPharmacy,
      dispenser: prescription.dispenser,
      issue: { current: prescription.currentIssue, total: prescription.issuesTotal },
      history: await this.history.list(shortFormId),
    };
  }
}

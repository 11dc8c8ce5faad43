import { Injectable } from '@nestjs/common';
import { EPS_EVENTS, PRESCRIPTION_STATUS, type FhirResource } from '@platform/contracts-eps';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { checkedShortFormId, invalid } from '../shared/outcomes';
import { PrescriptionRepository } from '../shared/prescription.repository';
import { AnotherDispenser } from './another-dispenser';
import { PharmacyChange } from './pharmacy-change';
import { RepeatIssueRepository } from './repeat-issue.repository';

const ENDORSEMENT_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/medicationdispense-endorsement';

/** What a Claim says: which prescription; every item must carry an endorsement. */
export function readClaim(claim: FhirResource): { shortFormId: string } {
  if (claim.resourceType !== 'Claim') throw invalid('The request body must be a FHIR Claim', 'Claim');
  const group = (
    (
      claim['prescription'] as
        | { extension?: { url?: string; extension?: { url?: string; valueIdentifier?: { value?: string } }[] }[] }
        | undefined
    )?.extension ?? []
  ).find((extension) => extension.url?.endsWith('Extension-DM-GroupIdentifier'));
  const shortFormId = group?.extension?.find((extension) => extension.url === 'shortForm')?.valueIdentifier?.value;
  const details = (
    (claim['item'] ?? []) as { detail?: { programCode?: { coding?: { system?: string }[] }[] }[] }[]
  ).flatMap((item) => item.detail ?? []);
  if (details.length === 0)
    throw new PlatformError('MISSING_FIELD', undefined, { diagnostics: 'The Claim has no item details' });
  for (const detail of details) {
    const endorsed = (detail.programCode ?? []).some((code) =>
      (code.coding ?? []).some((coding) => coding.system === ENDORSEMENT_SYSTEM),
    );
    if (!endorsed)
      throw invalid(
        'Every claimed item needs an endorsement code (medicationdispense-endorsement)',
        'Claim.item.detail.programCode',
      );
  }
  return { shortFormId: checkedShortFormId(shortFormId, 'Claim.prescription.extension') };
}

/**
 * The claim (0008) of a dispensed (0006) or not dispensed (0007) prescription by the pharmacy that
 * dispensed it; for repeat dispensing, the earliest issue it dispensed and has not claimed.
 */
@Injectable()
export class ClaimPrescriptionUseCase {
  constructor(
    private readonly change: PharmacyChange,
    private readonly prescriptions: PrescriptionRepository,
    private readonly issues: RepeatIssueRepository,
    private readonly anotherDispenser: AnotherDispenser,
  ) {}

  execute(claim: FhirResource, context: CallContext): Promise<FhirResource> {
    const { shortFormId } = readClaim(claim);
    return this.change.run(
      'prescription.claim',
      claim,
      shortFormId,
      context,
      async (transaction, prescription, pharmacy) => {
        const current = [PRESCRIPTION_STATUS.dispensed, PRESCRIPTION_STATUS.notDispensed].includes(
          prescription.status as '0006',
        );
        if (current && prescription.dispenser === pharmacy) {
          await this.prescriptions.setStatus(transaction, shortFormId, PRESCRIPTION_STATUS.claimed);
          return { kind: 'claimed', to: PRESCRIPTION_STATUS.claimed, detail: null, subject: EPS_EVENTS.claimed };
        }
        // Repeat dispensing: an earlier issue this pharmacy dispensed, claimed after the next one started.
        const issue = await this.issues.claimEarliest(transaction, shortFormId, pharmacy);
        if (issue !== null) {
          return {
            kind: 'claimed',
            to: PRESCRIPTION_STATUS.claimed,
            detail: `issue ${issue}`,
            subject: EPS_EVENTS.claimed,
          };
        }
        if (prescription.dispenser && prescription.dispenser !== pharmacy) {
          throw await this.anotherDispenser.error(shortFormId, context, prescription.dispenser);
        }
        throw invalid(
          `Prescription ${shortFormId} is ${prescription.status}: only a dispensed (0006) or not dispensed (0007) prescription is claimed`,
          'Claim.prescription',
        );
      },
      { holderOnly: false },
    );
  }
}

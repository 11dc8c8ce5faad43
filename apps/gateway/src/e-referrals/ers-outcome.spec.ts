import { ERS_CODE_SYSTEM } from '@platform/contracts-ers';
import { operationOutcomeFor, PlatformError, SPINE_CODE_SYSTEM } from '@platform/shared-errors';
import { outcomeForTarget } from './ers-outcome';

describe('e-RS OperationOutcomes on the STU3 paths', () => {
  const invalid = operationOutcomeFor(new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'bad' }));

  it('codes a shared code in eRS-APIErrorCode-1 with the eRS profile, as the NHS example does', () => {
    expect(invalid.issue[0]?.details?.coding[0]?.system).toBe(SPINE_CODE_SYSTEM);
    const outcome = outcomeForTarget('/referrals/FHIR/STU3/ReferralRequest/000000070000', invalid) as unknown as {
      meta: unknown;
      issue: { details: { coding: Record<string, unknown>[] }; diagnostics: string }[];
    };
    expect(outcome.meta).toEqual({ profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-OperationOutcome-1'] });
    expect(outcome.issue[0]?.details.coding).toEqual([
      { system: ERS_CODE_SYSTEM, code: 'INVALID_VALUE', display: invalid.issue[0]?.details?.coding[0]?.display },
    ]);
    expect(outcome.issue[0]?.diagnostics).toBe('bad');
    for (const code of ['MISSING_VALUE', 'RESOURCE_NOT_FOUND', 'PRECONDITION_FAILED', 'RESOURCE_VERSION_MISMATCH']) {
      const mapped = outcomeForTarget('/referrals/FHIR/STU3/Slot?x=1', operationOutcomeFor(new PlatformError(code)));
      expect(mapped.issue[0]?.details?.coding[0]).toMatchObject({ system: ERS_CODE_SYSTEM, code });
    }
  });

  it('leaves e-RS codes, the HTTP codes, the R4 paths and other APIs as they are', () => {
    const own = operationOutcomeFor(new PlatformError('NO_RELATIONSHIP'));
    expect(outcomeForTarget('/referrals/FHIR/STU3/ReferralRequest/1', own).issue).toEqual(own.issue);
    const http = operationOutcomeFor(new PlatformError('REC_BAD_REQUEST'));
    expect(outcomeForTarget('/referrals/FHIR/STU3/Task', http).issue).toEqual(http.issue);
    expect(outcomeForTarget('/referrals/FHIR/R4/Practitioner', invalid)).toBe(invalid);
    expect(outcomeForTarget('/personal-demographics/FHIR/R4/Patient/9000000009', invalid)).toBe(invalid);
    expect(outcomeForTarget('/referrals/FHIR/STU31/x', invalid)).toBe(invalid);
  });
});

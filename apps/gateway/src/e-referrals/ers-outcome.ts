import { ERS_CODE_SYSTEM } from '@platform/contracts-ers';
import { SPINE_CODE_SYSTEM, type OperationOutcome } from '@platform/shared-errors';

/** The e-RS STU3 API's paths: its errors are eRS-OperationOutcome-1 with the codes in eRS-APIErrorCode-1. */
const ERS_STU3_PATH = /^\/referrals\/FHIR\/STU3(\/|$|\?)/;
const ERS_OUTCOME_PROFILE = 'https://fhir.nhs.uk/STU3/StructureDefinition/eRS-OperationOutcome-1';

/**
 * The OperationOutcome as e-RS answers it on an STU3 path: codes the platform shares with Spine
 * (INVALID_VALUE, MISSING_VALUE, RESOURCE_NOT_FOUND, PRECONDITION_FAILED, RESOURCE_VERSION_MISMATCH, ...) are
 * coded in e-RS's own eRS-APIErrorCode-1 there, as the NHS e-RS examples show; other paths are unchanged.
 */
export function outcomeForTarget(url: string, outcome: OperationOutcome): OperationOutcome {
  if (!ERS_STU3_PATH.test(url)) return outcome;
  return {
    meta: { profile: [ERS_OUTCOME_PROFILE] },
    ...outcome,
    issue: outcome.issue.map((issue) => {
      if (!issue.details) return issue;
      return {
        ...issue,
        details: {
          coding: issue.details.coding.map((coding) => {
            if (coding.system !== SPINE_CODE_SYSTEM) return coding;
            const { version: _version, ...rest } = coding;
            return { ...rest, system: ERS_CODE_SYSTEM };
          }),
        },
      };
    }),
  } as OperationOutcome;
}

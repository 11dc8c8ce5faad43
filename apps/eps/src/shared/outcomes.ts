import type { FhirResource } from '@platform/contracts-eps';
import { PlatformError } from '@platform/shared-errors';
import { isValidShortFormPrescriptionId } from '@platform/shared-identifiers';

/** INVALID_VALUE with the NHS's text and the FHIRPath of the element at fault. */
export function invalid(diagnostics: string, expression?: string): PlatformError {
  return new PlatformError('INVALID_VALUE', undefined, {
    diagnostics,
    ...(expression ? { expression: [expression] } : {}),
  });
}

/** RESOURCE_NOT_FOUND for a prescription: no such one, or (the same answer) not one the caller may see. */
export function prescriptionNotFound(shortFormId: string): PlatformError {
  return new PlatformError('RESOURCE_NOT_FOUND', undefined, { diagnostics: `Prescription ${shortFormId} not found` });
}

export function missing(diagnostics: string): PlatformError {
  return new PlatformError('MISSING_FIELD', undefined, { diagnostics });
}

/** A short-form prescription ID with its MOD 37-2 check character, or FAILURE_TO_PROCESS_MESSAGE as the NHS words it. */
export function checkedShortFormId(value: unknown, expression: string): string {
  if (typeof value !== 'string' || !isValidShortFormPrescriptionId(value)) {
    throw new PlatformError('FAILURE_TO_PROCESS_MESSAGE', undefined, {
      diagnostics: 'Unable to process message. Information missing or invalid - prescriptionID has invalid checksum',
      expression: [expression],
    });
  }
  return value;
}

/** The OperationOutcome the NHS answers an accepted message or Task with. */
export function accepted(now = new Date()): FhirResource {
  return {
    resourceType: 'OperationOutcome',
    meta: { lastUpdated: now.toISOString() },
    issue: [{ severity: 'information', code: 'informational' }],
  };
}

/**
 * The organisation (ODS code) the verified caller acts for, or ACCESS_DENIED: every check that depends on the
 * caller's organisation fails closed, so a caller whose statement names none is refused, never waved through.
 */
export function actingOrganisation(context: { caller?: { organisation?: string } }, refusal: string): string {
  const organisation = context.caller?.organisation;
  if (typeof organisation !== 'string' || organisation.trim() === '') {
    throw new PlatformError('ACCESS_DENIED', undefined, {
      diagnostics: `${refusal}: the caller acts for no organisation`,
    });
  }
  return organisation;
}

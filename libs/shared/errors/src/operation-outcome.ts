import { errorDefinition, type IssueSeverity } from './codes';
import type { PlatformError } from './platform-error';

export interface OperationOutcomeIssue {
  severity: IssueSeverity;
  code: string;
  details?: { coding: { system: string; version?: string; code: string; display: string }[] };
  diagnostics?: string;
  expression?: string[];
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: OperationOutcomeIssue[];
  /** Resources the issue refers to (EPS: the pharmacy holding a prescription), and extensions pointing at them. */
  contained?: unknown[];
  extension?: unknown[];
}

/** Builds the FHIR OperationOutcome the NHS returns for an error code. */
export function operationOutcome(code: string, diagnostics?: string, severity?: IssueSeverity): OperationOutcome {
  const definition = errorDefinition(code);
  const coding = {
    system: definition.system,
    ...(definition.version ? { version: definition.version } : {}),
    code,
    display: definition.display,
  };
  const issue: OperationOutcomeIssue = {
    severity: severity ?? definition.severity,
    code: definition.issueCode,
    details: { coding: [coding] },
  };
  if (diagnostics !== undefined) issue.diagnostics = diagnostics;
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

export function operationOutcomeFor(error: PlatformError): OperationOutcome {
  const outcome = operationOutcome(error.code, error.diagnostics ?? error.message);
  const [issue] = outcome.issue;
  if (issue && error.expression?.length) issue.expression = error.expression;
  const contained = error.details?.['contained'];
  const extension = error.details?.['extension'];
  if (Array.isArray(contained)) outcome.contained = contained;
  if (Array.isArray(extension)) outcome.extension = extension;
  return outcome;
}

/** RFC 9457 problem details, for the platform's non-FHIR endpoints; an error's details are extension members. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  [extension: string]: unknown;
}

export function problemDetails(error: PlatformError): ProblemDetails {
  const definition = errorDefinition(error.code);
  return {
    ...error.details,
    type: `${definition.system}#${error.code}`,
    title: definition.display,
    status: error.httpStatus,
    code: error.code,
    ...((error.diagnostics ?? error.message) ? { detail: error.diagnostics ?? error.message } : {}),
  };
}

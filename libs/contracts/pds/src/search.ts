import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';
import { defineErrors, PlatformError, SPINE_CODE_SYSTEM } from '@platform/shared-errors';
import type { Patient } from './payloads';

/** The most results one search may ask for (`_max-results`), and what it gets when it does not say. */
export const MAX_SEARCH_RESULTS = 50;

/** Spine codes of patient search, as the NHS PDS FHIR API answers them. */
export const PDS_SEARCH_ERRORS = defineErrors({
  /** An unknown search parameter. */
  ADDITIONAL_PROPERTIES: {
    status: 400,
    issueCode: 'invariant',
    display: 'Additional properties should not be included',
    system: SPINE_CODE_SYSTEM,
    severity: 'error',
    version: '1',
  },
  /** A search that is not allowed: no family name, a misplaced wildcard, a bad date range... */
  INVALID_SEARCH_DATA: {
    status: 400,
    issueCode: 'value',
    display: 'Search data is invalid',
    system: SPINE_CODE_SYSTEM,
    severity: 'error',
    version: '1',
  },
  /** Not an error: more patients match than `_max-results`. Spine answers HTTP 200 with this outcome. */
  TOO_MANY_MATCHES: {
    status: 200,
    issueCode: 'multiple-matches',
    display: 'Too Many Matches',
    system: SPINE_CODE_SYSTEM,
    severity: 'information',
    version: '1',
  },
});

/**
 * An application-restricted search (no user present) asks for one result: `_max-results` absent (then 1) or 1,
 * else 403 INVALID_VALUE, as the specification's `_max-results` says ("for application-restricted access, this
 * must be 1, and the default is 1"). More than one match then answers TOO_MANY_MATCHES, never a list. Applied by
 * the gateway and again by pds, from the access mode signed into the caller statement.
 */
export function singleMatchQuery(query: string): string {
  const limits = new URLSearchParams(query).getAll('_max-results');
  if (limits.length === 0) return query === '' ? query : `${query}&_max-results=1`;
  if (limits.length === 1 && limits[0] === '1') return query;
  throw new PlatformError('INVALID_VALUE', 'Provided value is invalid', {
    status: 403,
    diagnostics: "Invalid value - '_max-results' must be 1 in application-restricted access: a single unique match",
  });
}

export class SearchPatientsRequest {
  /**
   * The FHIR search query string as the caller sent it, without the `?` (e.g.
   * `family=Smith&given=Jane&birthdate=ge2010-01-01&birthdate=le2010-12-31`). Repeated parameters keep
   * their order. The service parses and validates it with the NHS's error precedence.
   */
  @IsString()
  @MaxLength(4096)
  query!: string;

  /**
   * Sent by a gateway in NHS sandbox mode: the search answers as the NHS sandbox does, the documented example
   * searches their example's answer and any other valid search `noExample`. A pds not started with
   * PDS_SEED=sandbox refuses it.
   */
  @IsOptional()
  @IsBoolean()
  sandbox?: boolean;
}

/** One matched patient as search shows it (the NHS's search view; restricted patients redacted). */
export interface PatientSearchMatch {
  patient: Patient;
  /** 0..1; 1 is an exact match. */
  score: number;
}

export interface SearchPatientsReply {
  /** Best first; empty when nothing matched or when `tooManyMatches`. */
  matches: PatientSearchMatch[];
  /** More patients matched than `_max-results`: nothing is returned and the caller should narrow the search. */
  tooManyMatches: boolean;
  /** Sandbox mode only: a valid search that is not one of the documented examples (HTTP 200 and a warning). */
  noExample?: boolean;
}

function isMatch(value: unknown): value is PatientSearchMatch {
  const match = value as Partial<PatientSearchMatch> | null;
  const patient = match?.patient as Partial<Patient> | undefined;
  return (
    typeof match?.score === 'number' &&
    match.score >= 0 &&
    match.score <= 1 &&
    patient?.resourceType === 'Patient' &&
    typeof patient.id === 'string' &&
    typeof patient.meta?.versionId === 'string'
  );
}

/** The reply as the contract describes it, or REC_SERVER_ERROR (used by the typed client). */
export function checkSearchReply(reply: unknown): SearchPatientsReply {
  const candidate = reply as Partial<SearchPatientsReply> | null;
  if (
    typeof candidate?.tooManyMatches !== 'boolean' ||
    !Array.isArray(candidate.matches) ||
    !candidate.matches.every(isMatch) ||
    (candidate.tooManyMatches && candidate.matches.length > 0)
  ) {
    throw new PlatformError('REC_SERVER_ERROR', 'PDS answered a search with something that is not a search result');
  }
  return {
    matches: candidate.matches,
    tooManyMatches: candidate.tooManyMatches,
    ...(candidate.noExample === true ? { noExample: true } : {}),
  };
}

import type { FastifyRequest } from 'fastify';
import { PlatformError } from '@platform/shared-errors';

/**
 * The NHS PDS access modes the gateway applies from the verified token. Application-restricted access (an
 * application's own token, no user): a search answers a single unique match only, and reads of a record and
 * its related people are allowed; no update, no create, no EHIC details (patient access only).
 */
export function refuseApplication(request: FastifyRequest, operation: string): void {
  if (request.applicationRestricted === true) {
    throw new PlatformError('ACCESS_DENIED', 'Access Denied - Unauthorised', {
      diagnostics: `Application-restricted access cannot ${operation}: it needs a user (healthcare worker or patient access)`,
    });
  }
}

/**
 * An application-restricted search asks for one result: `_max-results` absent (then 1) or 1, else 403
 * INVALID_VALUE, as the specification says. More than one match then answers TOO_MANY_MATCHES, never a list.
 */
export function singleMatchQuery(request: FastifyRequest, query: string): string {
  if (request.applicationRestricted !== true) return query;
  const limits = new URLSearchParams(query).getAll('_max-results');
  if (limits.length === 0) return query === '' ? query : `${query}&_max-results=1`;
  if (limits.length === 1 && limits[0] === '1') return query;
  throw new PlatformError('INVALID_VALUE', 'Provided value is invalid', {
    status: 403,
    diagnostics: "Invalid value - '_max-results' must be 1 in application-restricted access: a single unique match",
  });
}

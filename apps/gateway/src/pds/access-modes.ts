import type { FastifyRequest } from 'fastify';
import { singleMatchQuery as applicationQuery } from '@platform/contracts-pds';
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
 * pds applies the same rule again from the signed access mode.
 */
export function singleMatchQuery(request: FastifyRequest, query: string): string {
  return request.applicationRestricted === true ? applicationQuery(query) : query;
}

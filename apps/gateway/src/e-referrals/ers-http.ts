import type { FastifyReply } from 'fastify';
import type { BusinessFunction, FhirReply, FhirResource } from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { GatewaySettings } from '../gateway.settings';
import { FHIR_JSON } from '../http/error-response';

/** The header an e-RS caller names its business function in (lower case, as Fastify gives headers). */
export const FUNCTION_HEADER = 'nhsd-ers-business-function';

/** The caller's business function for a request payload: absent when the header was not sent. */
export function businessFunctionOf(value: string | undefined): { businessFunction?: BusinessFunction } {
  return value === undefined ? {} : { businessFunction: value as BusinessFunction };
}

/** A FHIR resource body, or 422 INVALID_VALUE as e-RS answers a body it cannot read. */
export function resourceBody(body: unknown): FhirResource {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body)) {
    throw new PlatformError('INVALID_VALUE', undefined, {
      diagnostics: 'The request body must be a FHIR resource',
      status: 422,
    });
  }
  return body as FhirResource;
}

/** e-referrals' answer as FHIR: its status, `ETag: W/"<version>"` and a `Location` under the public URL. */
export function sendFhir(
  settings: GatewaySettings,
  reply: FastifyReply,
  answer: FhirReply,
  status = 200,
): FhirResource {
  void reply.status(status).type(FHIR_JSON);
  if (answer.versionId !== undefined) void reply.header('ETag', `W/"${answer.versionId}"`);
  if (answer.location) void reply.header('Location', `${settings.publicUrl}/referrals/FHIR/${answer.location}`);
  return answer.resource;
}

import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BusinessFunction, FhirDocument, FhirReply, FhirResource } from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { GatewaySettings } from '../gateway.settings';
import { FHIR_JSON } from '../http/error-response';

const gunzipped = promisify(gunzip);

/** The header an e-RS caller names its business function in (lower case, as Fastify gives headers). */
export const FUNCTION_HEADER = 'nhsd-ers-business-function';

/** The header a SERVICE_PROVIDER_CLINICIAN_ADMIN names the clinician it acts for in (A040 lists them). */
export const ON_BEHALF_OF_HEADER = 'nhsd-ers-on-behalf-of-user-id';

/** The OpenAPI description of the on-behalf-of header, on every e-RS controller. */
export const ON_BEHALF_OF_API_HEADER = {
  name: 'NHSD-eRS-On-Behalf-Of-User-ID',
  required: false,
  description:
    'The SDS user id of the provider clinician a SERVICE_PROVIDER_CLINICIAN_ADMIN acts on behalf of (one that A040 lists): required with that business function, refused (403) with any other',
};

/** The e-RS request headers a caller acts under, as e-referrals checks them. */
export interface ActingAs {
  businessFunction?: BusinessFunction;
  onBehalfOf?: string;
}

/**
 * The caller's business function and the user it acts on behalf of, for a request payload: each absent when its
 * header was not sent. e-referrals applies the rules (the pairing of the two, the clinicians A040 lists); the
 * payload is bound to the signed caller statement by its digest, so neither can be changed on the way.
 */
export function businessFunctionOf(value: string | undefined, request?: FastifyRequest): ActingAs {
  const onBehalfOf = request?.headers[ON_BEHALF_OF_HEADER];
  return {
    ...(value === undefined ? {} : { businessFunction: value as BusinessFunction }),
    // Sent twice, Node joins the values with ', ', which e-referrals refuses as not an SDS user id.
    ...(onBehalfOf === undefined ? {} : { onBehalfOf: Array.isArray(onBehalfOf) ? onBehalfOf.join(', ') : onBehalfOf }),
  };
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

/**
 * Whether a request's Accept-Encoding takes gzip (`gzip`, `x-gzip` or `*`, with a quality above 0). Anything
 * else, or no header, gets the identity encoding.
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!text) return false;
  let gzip: boolean | undefined;
  let any: boolean | undefined;
  for (const item of text.split(',')) {
    const [name = '', ...parameters] = item.split(';').map((part) => part.trim().toLowerCase());
    const quality = parameters.find((parameter) => parameter.startsWith('q='));
    const accepted = quality === undefined || Number(quality.slice(2)) > 0;
    if (name === 'gzip' || name === 'x-gzip') gzip = accepted;
    else if (name === '*') any = accepted;
  }
  return gzip ?? any ?? false;
}

/**
 * e-referrals' raw answer (A008, A010, A015, A016) passed on as the bytes it wrote, unparsed: its status,
 * ETag and Location as `sendFhir` sets them. Fastify sends a Buffer as it is. A gzipped answer (the worklist)
 * goes gzipped to a client that accepts gzip (`Content-Encoding: gzip`) and gunzipped (off the event loop) to
 * one that does not.
 */
export async function sendFhirDocument(
  settings: GatewaySettings,
  request: FastifyRequest,
  reply: FastifyReply,
  answer: FhirDocument,
  status = 200,
): Promise<Buffer> {
  void reply.status(status).type(FHIR_JSON);
  if (answer.versionId !== undefined) void reply.header('ETag', `W/"${answer.versionId}"`);
  if (answer.location) void reply.header('Location', `${settings.publicUrl}/referrals/FHIR/${answer.location}`);
  const body = Buffer.isBuffer(answer.body)
    ? answer.body
    : Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength);
  if (answer.encoding !== 'gzip') return body;
  void reply.header('Vary', 'Accept-Encoding');
  if (acceptsGzip(request.headers['accept-encoding'])) {
    void reply.header('Content-Encoding', 'gzip');
    return body;
  }
  return gunzipped(body);
}

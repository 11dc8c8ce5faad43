import type { FastifyRequest } from 'fastify';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';

/** The call context the guard established for this request. */
export function callContextOf(request: FastifyRequest): CallContext {
  if (!request.callContext)
    throw new PlatformError('REC_SERVER_ERROR', 'Request reached a route without a call context');
  return request.callContext;
}

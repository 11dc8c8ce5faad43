import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { CallContext } from '@platform/shared-nats';
import { callContextOf } from '../http/call-context';
import { FUNCTION_HEADER, businessFunctionOf, type ActingAs } from './ers-http';

/** What every call an e-RS route makes to e-referrals carries besides the route's own fields. */
export interface ErsCaller {
  /** The business function and on-behalf-of user, from their headers: spread into the payload. */
  readonly acting: ActingAs;
  /** The call context the caller gate established for the request: the call's second argument. */
  readonly context: CallContext;
}

/** The request's `ErsCaller`: its business function header (as `@Headers` reads it) and call context. */
export function ersCallerOf(request: FastifyRequest): ErsCaller {
  const businessFunction = request.headers[FUNCTION_HEADER] as string | undefined;
  return { acting: businessFunctionOf(businessFunction, request), context: callContextOf(request) };
}

/**
 * A route parameter: the request's `ErsCaller`. Every e-RS route is a FHIR route, whose caller gate sets the call
 * context (or refuses the request) before a parameter is read. Not in the OpenAPI document, as `@Req()` is not:
 * the controllers' `@ApiHeader`s describe the headers.
 */
export const ErsCaller = createParamDecorator(
  (_data: unknown, execution: ExecutionContext): ErsCaller =>
    ersCallerOf(execution.switchToHttp().getRequest<FastifyRequest>()),
);

/** The If-Match header for a payload: absent when it was not sent. */
export function ifMatchOf(ifMatch: string | undefined): { ifMatch?: string } {
  return ifMatch === undefined ? {} : { ifMatch };
}

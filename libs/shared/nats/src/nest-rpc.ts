import { BadRequestException, Catch, ValidationPipe, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { NatsContext } from '@nestjs/microservices';
import type { MsgHdrs } from 'nats';
import { Observable, throwError } from 'rxjs';
import { PlatformError, transientErrorOf, type WireError } from '@platform/shared-errors';
import { runWithRequestContext, type Logger } from '@platform/shared-logging';
import { fromNatsHeaders, type CallContext } from './call-context';

/** The call context of a NATS request, read from its headers. */
export function callContextOf(natsContext: NatsContext): CallContext {
  return fromNatsHeaders(natsContext.getHeaders() as MsgHdrs | undefined);
}

/**
 * Serialises every failure of a NATS handler as `{code, message, diagnostics}`: domain errors keep their
 * code, validation failures become INVALID_VALUE, a busy or unreachable database REC_UNAVAILABLE (503 with
 * Retry-After), anything else REC_SERVER_ERROR with no internals.
 */
@Catch()
export class RpcErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => wireErrorOf(exception, this.logger));
  }
}

/** A handler's failure as it goes on the wire (see RpcErrorFilter); unexpected ones are logged. */
export function wireErrorOf(exception: unknown, logger: Logger): WireError {
  if (exception instanceof PlatformError) return exception.toWire();
  if (exception instanceof BadRequestException) {
    const response = exception.getResponse() as { message?: string | string[] };
    const messages = Array.isArray(response.message) ? response.message : [String(response.message ?? 'invalid')];
    return { code: 'INVALID_VALUE', message: 'Provided value is invalid', diagnostics: messages.join('; ') };
  }
  const transient = transientErrorOf(exception);
  if (transient) {
    logger.warn({ err: exception }, 'transient failure answered 503');
    return transient.toWire();
  }
  logger.error({ err: exception }, 'unhandled error in NATS handler');
  return { code: 'REC_SERVER_ERROR', message: 'Internal server error' };
}

/**
 * Runs a handler's work with the call context of its NATS message, and with the message's request and
 * correlation IDs in the logging context. (A function rather than a global interceptor: Nest's
 * interceptor chain costs more per message than the handler's own work on the hot read path.)
 */
export function withCallContext<T>(natsContext: NatsContext, work: (context: CallContext) => T): T {
  const context = callContextOf(natsContext);
  return runWithRequestContext({ requestId: context.requestId, correlationId: context.correlationId }, () =>
    work(context),
  );
}

/** Payload validation for NATS handlers: whitelisted, transformed, failures reported as INVALID_VALUE. */
export function rpcValidationPipe(): ValidationPipe {
  return new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
}

import {
  BadRequestException,
  Catch,
  Injectable,
  ValidationPipe,
  type ArgumentsHost,
  type CallHandler,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { NatsContext } from '@nestjs/microservices';
import type { MsgHdrs } from 'nats';
import { Observable, throwError } from 'rxjs';
import { PlatformError, type WireError } from '@platform/shared-errors';
import { runWithRequestContext, type Logger } from '@platform/shared-logging';
import { fromNatsHeaders, type CallContext } from './call-context';

/** The call context of a NATS request, read from its headers. */
export function callContextOf(natsContext: NatsContext): CallContext {
  return fromNatsHeaders(natsContext.getHeaders() as MsgHdrs | undefined);
}

/**
 * Serialises every failure of a NATS handler as `{code, message, diagnostics}`: domain errors keep their
 * code, validation failures become INVALID_VALUE, anything else REC_SERVER_ERROR with no internals.
 */
@Catch()
export class RpcErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => this.toWire(exception));
  }

  private toWire(exception: unknown): WireError {
    if (exception instanceof PlatformError) return exception.toWire();
    if (exception instanceof BadRequestException) {
      const response = exception.getResponse() as { message?: string | string[] };
      const messages = Array.isArray(response.message) ? response.message : [String(response.message ?? 'invalid')];
      return { code: 'INVALID_VALUE', message: 'Provided value is invalid', diagnostics: messages.join('; ') };
    }
    this.logger.error({ err: exception }, 'unhandled error in NATS handler');
    return { code: 'REC_SERVER_ERROR', message: 'Internal server error' };
  }
}

/** Puts the request and correlation IDs of each NATS message into the logging context of its handler. */
@Injectable()
export class NatsRequestContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const natsContext = context.switchToRpc().getContext<unknown>();
    if (!(natsContext instanceof NatsContext)) return next.handle();
    const { requestId, correlationId } = callContextOf(natsContext);
    return new Observable((subscriber) =>
      runWithRequestContext({ requestId, correlationId }, () => next.handle().subscribe(subscriber)),
    );
  }
}

/** Payload validation for NATS handlers: whitelisted, transformed, failures reported as INVALID_VALUE. */
export function rpcValidationPipe(): ValidationPipe {
  return new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
}

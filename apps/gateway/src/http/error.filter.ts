import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@platform/shared-logging';
import { sendError, toPlatformError } from './error-response';

/** Every failure of an HTTP route becomes a 4xx/5xx with the NHS error code; nothing else leaks out. */
@Catch()
export class GatewayErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendError(
      http.getRequest<FastifyRequest>(),
      http.getResponse<FastifyReply>(),
      toPlatformError(exception, this.logger),
    );
  }
}

import { HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { operationOutcomeFor, PlatformError, problemDetails } from '@platform/shared-errors';
import type { Logger } from '@platform/shared-logging';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const FHIR_PATH = /^\/[^/]+\/FHIR\/R4(\/|$|\?)/;

/** Translates whatever went wrong into a PlatformError with the right code; never exposes internals. */
export function toPlatformError(error: unknown, logger: Logger): PlatformError {
  if (error instanceof PlatformError) return error;
  const status =
    error instanceof HttpException ? error.getStatus() : (error as { statusCode?: unknown } | null)?.statusCode;
  const message = error instanceof Error ? error.message : 'error';
  switch (status) {
    case 400:
      return new PlatformError('REC_BAD_REQUEST', 'Bad request', { diagnostics: describeBadRequest(error, message) });
    case 404:
      return new PlatformError('REC_NOT_FOUND', 'Not found', { diagnostics: 'No such resource or operation' });
    case 405:
      return new PlatformError('REC_METHOD_NOT_ALLOWED', 'Method not allowed');
    case 406:
      return new PlatformError('REC_NOT_ACCEPTABLE', 'Not acceptable');
    case 413:
      return new PlatformError('REC_PAYLOAD_TOO_LARGE', 'Payload too large', {
        diagnostics: 'The request body is larger than this API accepts',
      });
    case 415:
      return new PlatformError('REC_UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', {
        diagnostics: 'Send application/fhir+json or application/json',
      });
    default:
      logger.error({ err: error }, 'unhandled error');
      return new PlatformError('REC_SERVER_ERROR', 'Internal server error');
  }
}

function describeBadRequest(error: unknown, message: string): string {
  if (error instanceof SyntaxError || /JSON/i.test(message)) return 'The request body is not valid JSON';
  if ((error as { code?: string } | null)?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'The request body is empty';
  return 'The request is malformed';
}

/** FHIR routes answer with an OperationOutcome; the platform's other endpoints with RFC 9457 problem details. */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: PlatformError): void {
  if (error.headers) void reply.headers(error.headers);
  void reply.status(error.httpStatus);
  if (FHIR_PATH.test(request.url)) {
    void reply.type(FHIR_JSON).send(operationOutcomeFor(error));
  } else {
    void reply.type('application/problem+json').send(problemDetails(error));
  }
}

import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { currentRequestContext } from './request-context';
import { REDACT_PATHS, scrubRecord } from './redaction';

export type { Logger } from 'pino';

export interface LoggerSettings {
  service: string;
  level?: string;
  destination?: DestinationStream;
}

/** A JSON logger: one line per event, request and correlation IDs on every line, patient data redacted. */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? process.env['LOG_LEVEL'] ?? 'info',
    base: { service: settings.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    mixin() {
      const context = currentRequestContext();
      return context ? { requestId: context.requestId, correlationId: context.correlationId } : {};
    },
    formatters: {
      level: (label) => ({ level: label }),
      // Every field of every record (the merging object, errors in it, the request context) is scrubbed:
      // see redaction.ts. The message is scrubbed by its serializer, child loggers' bindings below.
      log: (record) => scrubRecord(record) as Record<string, unknown>,
      bindings: (bindings) => scrubRecord(bindings) as Record<string, unknown>,
    },
    serializers: {
      msg: (message: unknown) => scrubRecord(message),
      // Errors are already plain and scrubbed by formatters.log; pino's own serializer would rename their type.
      err: (error: unknown) => error,
    },
  };
  const logger = settings.destination ? pino(options, settings.destination) : pino(options);
  // pino applies formatters.bindings to the root's bindings only; a child (and a child's child, which
  // inherits these through its prototype) gets its bindings scrubbed here.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- both are called below with the right `this`
  const { child, setBindings } = logger;
  logger.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, scrubRecord(bindings) as typeof bindings, childOptions);
  } as Logger['child'];
  logger.setBindings = function (this: Logger, bindings) {
    setBindings.call(this, scrubRecord(bindings) as typeof bindings);
  };
  return logger;
}

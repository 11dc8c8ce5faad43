import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { currentRequestContext } from './request-context';
import { REDACT_PATHS, scrubText } from './redaction';

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
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const context = currentRequestContext();
      return context ? { requestId: context.requestId, correlationId: context.correlationId } : {};
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg)) as typeof args;
        method.apply(this, scrubbed);
      },
    },
    serializers: {
      err: (error: unknown) => {
        const serialized = pino.stdSerializers.err(error as Error);
        return { ...serialized, message: scrubText(serialized.message), stack: scrubText(serialized.stack ?? '') };
      },
    },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

export { createLogger, type Logger, type LoggerSettings } from './logger';
export { PinoNestLogger } from './nest-logger';
export { REDACT_PATHS, SCRUB_LIMITS, scrubRecord, scrubText } from './redaction';
export { currentRequestContext, runWithRequestContext, type RequestContext } from './request-context';

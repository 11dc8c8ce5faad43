import { PlatformError } from './platform-error';

/**
 * PostgreSQL conditions that say "not now" rather than "never": the database is busy, restarting or out of
 * connections, a statement ran past its time, or the transaction lost a deadlock or a serialisation race.
 * SQLSTATE classes and codes from the PostgreSQL manual, appendix A.
 */
const TRANSIENT_SQLSTATE = /^(08...|53...|57P0[1-4]|57014|25P03|40001|40P01)$/;
/** What node-postgres and the socket say when a connection cannot be had or is lost. */
const TRANSIENT_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|not queryable|Client was closed|Cannot use a pool after calling end/i;
const TRANSIENT_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** How long a client should wait before trying again (seconds): a pool frees up or a database restarts. */
export const TRANSIENT_RETRY_AFTER_SECONDS = 2;

/**
 * The answer for an error that a retry may not meet: 503 REC_UNAVAILABLE with Retry-After, and no internals.
 * Undefined for anything else (a bug stays a 500, so that it is seen).
 */
export function transientErrorOf(error: unknown): PlatformError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  const transient =
    (typeof code === 'string' && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_ERRNO.has(code))) ||
    (typeof message === 'string' && TRANSIENT_MESSAGE.test(message));
  if (!transient) return undefined;
  return new PlatformError('REC_UNAVAILABLE', undefined, {
    diagnostics: 'The service is busy or its database cannot be reached just now; try again shortly',
    headers: { 'Retry-After': String(TRANSIENT_RETRY_AFTER_SECONDS) },
  });
}

import { PlatformError } from '@platform/shared-errors';
import { fieldError } from '../rules';

const CONNECTION_ID = /^N3C\d{7}$/;
const ALLOCATION_ID = /^IPA\d{7}$/;

export function connectionNotFound(id: string): PlatformError {
  return new PlatformError('CONNECTION_NOT_FOUND', undefined, {
    diagnostics: `No connection has id ${id.slice(0, 64)}`,
  });
}

/** A connection id from a path: trimmed and upper-cased, refused (never looked up) when malformed. */
export function connectionIdOf(value: string): string {
  const id = value.trim().toUpperCase();
  if (!CONNECTION_ID.test(id))
    throw fieldError('connectionId', `'${value.slice(0, 32)}' is not a connection id (N3C and 7 digits)`);
  return id;
}

/** An allocation id from a path: trimmed and upper-cased, refused (never looked up) when malformed. */
export function allocationIdOf(value: string): string {
  const allocationId = value.trim().toUpperCase();
  if (!ALLOCATION_ID.test(allocationId)) {
    throw fieldError('allocationId', `'${value.slice(0, 32)}' is not an allocation id (IPA and 7 digits)`);
  }
  return allocationId;
}

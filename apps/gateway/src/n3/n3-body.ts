import { PlatformError } from '@platform/shared-errors';

export const N3_CLIENT = Symbol('N3_CLIENT');
export const GATEWAY_NATS = Symbol('GATEWAY_NATS');

/** Who may change the registry; who may read all of it. Every role may read the organisation directory. */
export const REGISTRY_WRITERS = ['registry-admin'] as const;
export const REGISTRY_READERS = ['registry-admin', 'ops'] as const;

/** A JSON object body, or 400 saying what was expected. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body)) {
    throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'The request body must be a JSON object' });
  }
  return body as Record<string, unknown>;
}

/** If-Match: W/"n" as the version n, when given. */
export function versionOf(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined || ifMatch === '') return undefined;
  const match = /^W\/"(\d{1,9})"$/.exec(ifMatch.trim());
  if (!match) {
    throw new PlatformError('INVALID_VALUE', undefined, {
      diagnostics: `If-Match must look like W/"3", not ${ifMatch.slice(0, 20)}`,
    });
  }
  return Number(match[1]);
}

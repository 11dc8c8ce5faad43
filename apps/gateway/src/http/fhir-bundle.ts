import type { FastifyRequest } from 'fastify';

export interface SearchsetEntry {
  fullUrl: string;
  /** Patient search: how well the entry matched, 0..1 (1 = exact). */
  search?: { score: number };
  resource: { resourceType: string; id: string };
}

export interface SearchsetBundle {
  resourceType: 'Bundle';
  type: 'searchset';
  timestamp: string;
  total: number;
  entry?: SearchsetEntry[];
}

/** A FHIR searchset Bundle; an empty result has no `entry`, as Spine answers. */
export function searchset(entries: SearchsetEntry[], now: Date = new Date()): SearchsetBundle {
  const bundle: SearchsetBundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    timestamp: now.toISOString(),
    total: entries.length,
  };
  if (entries.length > 0) bundle.entry = entries;
  return bundle;
}

/** Where clients reach this gateway: GATEWAY_PUBLIC_URL when set, else the scheme and host they used. */
export function publicBaseUrl(request: FastifyRequest, configured: string | undefined): string {
  if (configured) return configured.replace(/\/+$/, '');
  return `${request.protocol}://${request.host}`;
}

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

/**
 * Where clients reach this gateway, for fullUrl and Location: GATEWAY_PUBLIC_URL when set (the chart requires
 * it), else the address the gateway listens on. Never the request's Host header, which the caller chooses.
 */
export function publicBaseUrl(config: {
  GATEWAY_PUBLIC_URL?: string;
  GATEWAY_HOST: string;
  GATEWAY_PORT: number;
}): string {
  if (config.GATEWAY_PUBLIC_URL) return config.GATEWAY_PUBLIC_URL.replace(/\/+$/, '');
  const host = config.GATEWAY_HOST.includes(':') ? `[${config.GATEWAY_HOST}]` : config.GATEWAY_HOST;
  return `http://${host}:${config.GATEWAY_PORT}`;
}

import { randomUUID } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';
import type { N3Api } from '@platform/contracts-n3';

/** What the registry says of a client address: a live N3 connection's (and whose), none, or unknown now. */
export type N3Verdict =
  | { kind: 'live'; odsCode: string; connectionId: string }
  | { kind: 'none' }
  | { kind: 'unavailable' };

/** `::ffff:127.0.5.1` as `127.0.5.1`: the form the registry's blocks are written in. */
export function plainAddress(address: string): string {
  try {
    return ipaddr.process(address).toString();
  } catch {
    return address;
  }
}

/** The most addresses whose answers are kept (the least recently used go first). */
const N3_GATE_ENTRIES = 10_000;

/**
 * Asks the N3 registry (`n3.ip-owner.get.v1`, as the relay itself: role `service:nhsmail-relay`) whether an
 * address belongs to a live connection, and remembers each answer, live or none, for `cacheSeconds` (0: asks
 * every time) so a busy client costs one lookup, not one per message; simultaneous first asks for an address
 * share one lookup. An unavailable registry is not remembered.
 */
export class N3Gate {
  private readonly cache: LRUCache<string, Exclude<N3Verdict, { kind: 'unavailable' }>> | undefined;

  constructor(
    private readonly n3: Pick<N3Api, 'ipOwner'>,
    cacheSeconds: number,
  ) {
    this.cache =
      cacheSeconds > 0
        ? new LRUCache({
            max: N3_GATE_ENTRIES,
            ttl: cacheSeconds * 1000,
            // A lookup still in flight when its entry is pushed out answers those waiting on it all the same.
            ignoreFetchAbort: true,
            // Nothing (undefined) for an unavailable registry: the cache keeps no entry.
            fetchMethod: async (ip) => {
              const verdict = await this.ask(ip);
              return verdict.kind === 'unavailable' ? undefined : verdict;
            },
          })
        : undefined;
  }

  async check(address: string): Promise<N3Verdict> {
    const ip = plainAddress(address);
    if (!this.cache) return this.ask(ip);
    return (await this.cache.fetch(ip)) ?? { kind: 'unavailable' };
  }

  private async ask(ip: string): Promise<N3Verdict> {
    try {
      const owner = await this.n3.ipOwner({ ip }, { requestId: randomUUID() });
      if (owner.connection.status !== 'live') return { kind: 'none' };
      return { kind: 'live', odsCode: owner.organisation.odsCode, connectionId: owner.connection.id };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'NO_LIVE_OWNER' || code === 'INVALID_IP_ADDRESS' || code === 'INVALID_VALUE')
        return { kind: 'none' };
      return { kind: 'unavailable' };
    }
  }
}

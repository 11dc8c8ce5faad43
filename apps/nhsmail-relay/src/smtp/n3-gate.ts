import { randomUUID } from 'node:crypto';
import ipaddr from 'ipaddr.js';
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

/**
 * Asks the N3 registry (`n3.ip-owner.get.v1`, as the relay itself: role `service:nhsmail-relay`) whether an
 * address belongs to a live connection, and remembers each answer for `cacheSeconds` so a busy client costs
 * one lookup, not one per message. An unavailable registry is not remembered.
 */
export class N3Gate {
  private readonly cache = new Map<string, { verdict: N3Verdict; until: number }>();

  constructor(
    private readonly n3: Pick<N3Api, 'ipOwner'>,
    private readonly cacheSeconds: number,
  ) {}

  async check(address: string): Promise<N3Verdict> {
    const ip = plainAddress(address);
    const cached = this.cache.get(ip);
    if (cached && cached.until > Date.now()) return cached.verdict;
    const verdict = await this.ask(ip);
    if (verdict.kind !== 'unavailable' && this.cacheSeconds > 0) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(ip, { verdict, until: Date.now() + this.cacheSeconds * 1000 });
    }
    return verdict;
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

import { Resolver } from 'node:dns/promises';

export interface MxResolverSettings {
  /** DNS servers (`ip` or `ip:port`, `[ipv6]:port`); empty: the system's. */
  servers: readonly string[];
  /** Milliseconds per query try, and tries per query. */
  timeoutMs?: number;
  tries?: number;
}

/** The hosts to try for a domain, in the order RFC 5321 section 5.1 says, each with its addresses. */
export type MxRoute =
  | { kind: 'hosts'; hosts: { name: string; preference: number; addresses: string[] }[] }
  | { kind: 'permanent'; reason: string }
  | { kind: 'temporary'; reason: string };

/** Answers that say the name (or the record) does not exist: anything else is a temporary failure. */
const NO_SUCH_DOMAIN = new Set(['ENOTFOUND']);
const NO_SUCH_RECORD = new Set(['ENODATA']);

function codeOf(error: unknown): string {
  return (error as { code?: string }).code ?? 'EUNKNOWN';
}

/**
 * Where mail for a domain goes, by DNS (RFC 5321 section 5.1, RFC 7505): its MX records in preference order
 * (lowest first); none (the name exists without MX) means the domain itself, by its A/AAAA records (the implicit
 * MX); a null MX (`0 .`) or a domain that does not exist is a permanent failure; a DNS server that fails or
 * times out is a temporary one (the delivery is retried). Uses node's own resolver with the configured servers,
 * never the system's stub resolver when servers are given.
 */
export class MxResolver {
  private readonly resolver: Resolver;

  constructor(settings: MxResolverSettings) {
    this.resolver = new Resolver({ timeout: settings.timeoutMs ?? 5000, tries: settings.tries ?? 2 });
    if (settings.servers.length > 0) this.resolver.setServers([...settings.servers]);
  }

  async route(domain: string): Promise<MxRoute> {
    let records: { exchange: string; priority: number }[];
    try {
      records = await this.resolver.resolveMx(domain);
    } catch (error) {
      const code = codeOf(error);
      if (NO_SUCH_DOMAIN.has(code)) return { kind: 'permanent', reason: `5.1.2 Domain ${domain} does not exist` };
      if (!NO_SUCH_RECORD.has(code))
        return { kind: 'temporary', reason: `4.4.3 DNS lookup of MX for ${domain}: ${code}` };
      records = [];
    }
    // RFC 7505: a null MX (preference 0, the root as exchange) says the domain takes no mail.
    if (records.some((record) => record.exchange === '' || record.exchange === '.')) {
      return { kind: 'permanent', reason: `5.1.10 Domain ${domain} accepts no mail (null MX)` };
    }
    const names =
      records.length > 0
        ? [...records]
            .sort((a, b) => a.priority - b.priority)
            .map((record) => ({ name: record.exchange.replace(/\.$/, ''), preference: record.priority }))
        : // No MX: the domain itself, as an implicit MX of preference 0 (its A record).
          [{ name: domain, preference: 0 }];
    const hosts: { name: string; preference: number; addresses: string[] }[] = [];
    const failures: string[] = [];
    for (const host of names) {
      const addresses = await this.addressesOf(host.name, failures);
      if (addresses.length > 0) hosts.push({ ...host, addresses });
    }
    if (hosts.length > 0) return { kind: 'hosts', hosts };
    if (
      records.length === 0 &&
      failures.every((failure) => NO_SUCH_RECORD.has(failure) || NO_SUCH_DOMAIN.has(failure))
    ) {
      return { kind: 'permanent', reason: `5.1.2 Domain ${domain} has no MX and no address record` };
    }
    return {
      kind: 'temporary',
      reason: `4.4.3 No reachable address for the mail hosts of ${domain} (${failures.join(', ')})`,
    };
  }

  /** IPv4 then IPv6 addresses of a host; the DNS error codes met go into `failures`. */
  private async addressesOf(name: string, failures: string[]): Promise<string[]> {
    const found: string[] = [];
    for (const lookup of [
      (host: string) => this.resolver.resolve4(host),
      (host: string) => this.resolver.resolve6(host),
    ]) {
      try {
        found.push(...(await lookup(name)));
      } catch (error) {
        failures.push(codeOf(error));
      }
    }
    return found;
  }
}

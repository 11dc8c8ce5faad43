import { isIP } from 'node:net';
import { domainOf } from '../mailboxes/mail-domains';
import { MxResolver, type MxResolverSettings } from './mx-resolver';
import { sendOnce, type MessageContent, type MessageSigner, type SendOutcome } from './smtp-sender';

export interface MxDeliverySettings extends MxResolverSettings {
  /** Domains delivered by MX lookup even when a smarthost is configured (lower case). */
  domains: readonly string[];
  /** The SMTP port of mail hosts (25; another only in tests). */
  port: number;
}

/**
 * Delivery straight to a domain's mail hosts, found by DNS (mx-resolver.ts), for the domains that do not go
 * through the smarthost: all of them when no smarthost is configured, and those of NHSMAIL_MX_DOMAINS. Hosts are
 * tried in preference order, each of their addresses in turn: a 5xx reply to MAIL FROM, RCPT TO or the data is
 * final (a bounce); a 4xx reply, a connection that fails or a session that cannot be opened (even with a 5xx
 * greeting, EHLO or STARTTLS reply) moves on to the next address, and when none took the message the delivery is
 * retried.
 * DKIM-signed as through the smarthost; STARTTLS when the host offers it (opportunistic, as between MTAs).
 */
export class MxDelivery {
  private readonly resolver: MxResolver;
  private readonly domains: Set<string>;

  constructor(
    private readonly settings: MxDeliverySettings,
    private readonly common: { hostname: string; smarthost: boolean; signer?: MessageSigner },
  ) {
    this.resolver = new MxResolver(settings);
    this.domains = new Set(settings.domains.map((domain) => domain.toLowerCase()));
  }

  /** Whether mail for this recipient goes by MX rather than through the smarthost. */
  handles(recipient: string): boolean {
    if (!this.common.smarthost) return true;
    return this.domains.has(domainOf(recipient));
  }

  async send(recipient: string, envelopeFrom: string, content: MessageContent): Promise<SendOutcome> {
    const route = await this.resolver.route(domainOf(recipient));
    if (route.kind !== 'hosts') return route;
    let last = 'no mail host answered';
    for (const host of route.hosts) {
      for (const address of host.addresses) {
        const outcome = await sendOnce(
          {
            host: address,
            port: this.settings.port,
            secure: false,
            name: this.common.hostname,
            // The host's name for SNI; its certificate is not checked (opportunistic TLS between MTAs, RFC 3207).
            tls: { rejectUnauthorized: false, ...(isIP(host.name) ? {} : { servername: host.name }) },
          },
          this.common.signer,
          { from: envelopeFrom, to: recipient },
          content,
        );
        if (outcome.kind === 'delivered') return outcome;
        if (outcome.kind === 'permanent') return { kind: 'permanent', reason: `${outcome.reason} (from ${host.name})` };
        last = `${outcome.reason} (${host.name} ${address})`;
      }
    }
    return { kind: 'temporary', reason: last };
  }
}

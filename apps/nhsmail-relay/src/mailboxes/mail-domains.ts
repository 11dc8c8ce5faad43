/** The platform's own mail domains (NHSMAIL_DOMAINS): mail for them goes to mailboxes, not onward. */
export class MailDomains {
  private readonly domains: Set<string>;

  constructor(list: string) {
    this.domains = new Set(
      list
        .split(',')
        .map((domain) => domain.trim().toLowerCase())
        .filter(Boolean),
    );
  }

  isLocal(address: string): boolean {
    return this.domains.has(domainOf(address));
  }

  get all(): string[] {
    return [...this.domains];
  }
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

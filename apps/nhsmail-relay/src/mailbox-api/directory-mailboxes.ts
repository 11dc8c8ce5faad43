import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { N3Client, type Organisation, type Page, type SearchOrganisationsRequest } from '@platform/contracts-n3';
import type { ProvisionedMailboxes } from '@platform/contracts-nhsmail';
import type { CallContext } from '@platform/shared-nats';
import { PersonalMailboxes } from './personal-mailboxes';

/** At most 200 x 100 organisations of a role a run (ODS lists about 11,500 pharmacies and 6,500 GP practices). */
const DIRECTORY_PAGES = 100;

/** The organisation directory's roles and the shared mailbox each gets. */
const KINDS = { 'gp-practice': 'gp', pharmacy: 'pharmacy' } as const;
export type DirectoryRole = keyof typeof KINDS;

/**
 * Shared mailboxes for the organisations of the N3 registry's directory: `gp.<ods>@` for every active GP
 * practice, `pharmacy.<ods>@` for every active pharmacy, asked page by page as the caller (a registry
 * administrator, or the relay itself at start). Existing mailboxes are kept; concurrent runs make each once.
 */
@Injectable()
export class DirectoryMailboxes {
  constructor(
    private readonly personal: PersonalMailboxes,
    private readonly n3: N3Client,
  ) {}

  async provision(roles: readonly DirectoryRole[], call: CallContext): Promise<ProvisionedMailboxes> {
    const result: ProvisionedMailboxes = { created: [], existing: [] };
    const createdBy = call.caller?.id ?? 'service:nhsmail-relay';
    for (const role of roles) {
      let offset: number | undefined = 0;
      for (let page = 0; offset !== undefined && page < DIRECTORY_PAGES; page += 1) {
        const found: Page<Organisation> = await this.n3.searchOrganisations(
          { role, status: 'active', limit: 200, offset } as SearchOrganisationsRequest,
          call,
        );
        const codes = found.items.map((organisation) => organisation.odsCode);
        if (codes.length > 0) {
          const made = await this.personal.provisionOrganisations(KINDS[role], codes, createdBy);
          result.created.push(...made.created);
          result.existing.push(...made.existing);
        }
        offset = found.nextOffset;
      }
    }
    return result;
  }
}

/**
 * NHSMAIL_PROVISION_DIRECTORY_AT_START: the directory's mailboxes made when the relay starts, asked of the N3
 * registry as the relay itself (role `service:nhsmail-relay`), in the background, tried again every `retryMs`
 * (at most 30 times) while the registry cannot be asked. Replicas starting together make each mailbox once.
 */
export function directoryAtStart(
  directory: DirectoryMailboxes,
  enabled: boolean,
  logger: { info(object: object, message: string): void; warn(object: object, message: string): void },
  retryMs = 10_000,
): { onApplicationBootstrap(): void; beforeApplicationShutdown(): Promise<void> } {
  let started = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const attempt = async (n: number): Promise<void> => {
    if (stopped) return;
    try {
      const made = await directory.provision(['gp-practice', 'pharmacy'], { requestId: randomUUID() });
      logger.info(
        { created: made.created.length, existing: made.existing.length },
        'directory mailboxes provisioned at start',
      );
    } catch (error) {
      if (stopped || n >= 30) return;
      logger.warn({ err: error, attempt: n }, 'directory mailboxes at start: not done, trying again');
      timer = setTimeout(() => {
        running = attempt(n + 1);
      }, retryMs);
      timer.unref();
    }
  };
  return {
    onApplicationBootstrap(): void {
      if (!enabled || started) return;
      started = true;
      running = attempt(1);
    },
    async beforeApplicationShutdown(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

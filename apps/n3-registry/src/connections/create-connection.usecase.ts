import { Injectable } from '@nestjs/common';
import type { Connection, CreateConnectionRequest } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import { actorOf, type CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { checkDate, fieldError } from '../rules';
import { ConnectionEvents } from './connection-events';
import { ConnectionHistoryRepository } from './connection-history.repository';
import { ConnectionRepository } from './connection.repository';
import { OrganisationChecks } from './organisation-checks';
import { SiteRepository } from './site.repository';

/**
 * A connection ordered for an open organisation (at one of its own sites, if a site is named), contract
 * dates real and in order; recorded in its history and published, exactly once per X-Request-ID.
 */
@Injectable()
export class CreateConnectionUseCase {
  constructor(
    private readonly connections: ConnectionRepository,
    private readonly sites: SiteRepository,
    private readonly history: ConnectionHistoryRepository,
    private readonly organisations: OrganisationChecks,
    private readonly events: ConnectionEvents,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  async execute(request: CreateConnectionRequest, context: CallContext): Promise<Connection> {
    checkDate(request.contractStart, 'contractStart');
    if (request.contractEnd) {
      checkDate(request.contractEnd, 'contractEnd');
      if (request.contractEnd <= request.contractStart) {
        throw fieldError('contractEnd', `${request.contractEnd} is not after contractStart ${request.contractStart}`);
      }
    }
    const connection = await this.writes.run(writeKey(context, 'connection.create', request), async (transaction) => {
      await this.organisations.requireOpen(transaction, request.odsCode);
      if (request.siteId) {
        const owner = await this.sites.owner(request.siteId, transaction);
        if (owner !== request.odsCode) {
          throw new PlatformError('SITE_NOT_FOUND', undefined, {
            diagnostics: `${request.odsCode} has no site ${request.siteId}`,
            details: { errors: [{ field: 'siteId', message: `not a site of ${request.odsCode}` }] },
          });
        }
      }
      const id = await this.connections.create(transaction, request);
      await this.history.append(transaction, {
        connectionId: id,
        kind: 'ordered',
        fromStatus: null,
        toStatus: 'ordered',
        detail: `${request.supplier}, ${request.bandwidthMbps} Mbit/s ${request.accessType}`,
        ...actorOf(context),
      });
      const created = (await this.connections.get(id, transaction)) as Connection;
      await this.events.statusChanged(transaction, created, null, null, context);
      return created;
    });
    this.outbox.kick();
    return connection;
  }
}

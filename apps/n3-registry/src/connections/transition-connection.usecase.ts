import { Injectable } from '@nestjs/common';
import type { Connection, TransitionConnectionRequest } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import { actorOf, type CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { ConnectionEvents } from './connection-events';
import { ConnectionHistoryRepository } from './connection-history.repository';
import { connectionIdOf, connectionNotFound } from './connection-ids';
import { ConnectionRepository } from './connection.repository';
import { IpAllocationRepository } from './ip-allocation.repository';
import { checkTransition } from './lifecycle';

/**
 * A connection's move through its lifecycle, only by an allowed step and (with If-Match) from the version
 * the caller saw; a ceased connection's blocks go back to the pool. Recorded and published, exactly once
 * per X-Request-ID.
 */
@Injectable()
export class TransitionConnectionUseCase {
  constructor(
    private readonly connections: ConnectionRepository,
    private readonly allocations: IpAllocationRepository,
    private readonly history: ConnectionHistoryRepository,
    private readonly events: ConnectionEvents,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  async execute(request: TransitionConnectionRequest, context: CallContext): Promise<Connection> {
    const id = connectionIdOf(request.connectionId);
    const connection = await this.writes.run(
      writeKey(context, 'connection.transition', request),
      async (transaction) => {
        const current = await this.connections.lock(transaction, id);
        if (!current) throw connectionNotFound(id);
        if (request.expectedVersion !== undefined && request.expectedVersion !== current.version) {
          throw new PlatformError('RESOURCE_VERSION_MISMATCH', undefined, {
            diagnostics: `The connection is at version ${current.version}, not ${request.expectedVersion}`,
          });
        }
        checkTransition(current.status, request.to);
        await this.connections.setStatus(transaction, id, request.to);
        await this.history.append(transaction, {
          connectionId: id,
          kind: 'status-changed',
          fromStatus: current.status,
          toStatus: request.to,
          detail: request.reason ?? null,
          ...actorOf(context),
        });
        if (request.to === 'ceased') {
          // A ceased connection holds no addresses: its blocks go back to the pool.
          for (const released of await this.allocations.release(transaction, id)) {
            await this.events.released(transaction, released, current.odsCode, context);
          }
        }
        const changed = (await this.connections.get(id, transaction)) as Connection;
        await this.events.statusChanged(transaction, changed, current.status, request.reason ?? null, context);
        return changed;
      },
    );
    this.outbox.kick();
    return connection;
  }
}

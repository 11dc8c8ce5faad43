import { Injectable } from '@nestjs/common';
import type { IpAllocation, ReleaseBlockRequest } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { OwnerIndex } from '../shared/owner-index';
import { ConnectionEvents } from './connection-events';
import { allocationIdOf, connectionIdOf, connectionNotFound } from './connection-ids';
import { ConnectionRepository } from './connection.repository';
import { IpAllocationRepository } from './ip-allocation.repository';

/**
 * A block a connection holds, released: recorded and published, exactly once per X-Request-ID; this
 * replica's owner table is refreshed before the answer, so a lookup after the release sees it.
 */
@Injectable()
export class ReleaseBlockUseCase {
  constructor(
    private readonly connections: ConnectionRepository,
    private readonly allocations: IpAllocationRepository,
    private readonly events: ConnectionEvents,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
    private readonly owners: OwnerIndex,
  ) {}

  async execute(request: ReleaseBlockRequest, context: CallContext): Promise<IpAllocation> {
    const id = connectionIdOf(request.connectionId);
    const allocationId = allocationIdOf(request.allocationId);
    const released = await this.writes.run(writeKey(context, 'ip-allocation.release', request), async (transaction) => {
      const current = await this.connections.lock(transaction, id);
      if (!current) throw connectionNotFound(id);
      const [allocation] = await this.allocations.release(transaction, id, allocationId);
      if (!allocation) {
        throw new PlatformError('ALLOCATION_NOT_FOUND', undefined, {
          diagnostics: `${id} holds no allocation ${allocationId}`,
        });
      }
      await this.events.released(transaction, allocation, current.odsCode, context);
      return allocation;
    });
    this.outbox.kick();
    await this.owners.refresh(id);
    return released;
  }
}

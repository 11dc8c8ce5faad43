import { Injectable } from '@nestjs/common';
import { N3_EVENTS, type AllocateBlockRequest, type AllocationEvent, type IpAllocation } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import { actorOf, type CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { parseBlock } from './cidr';
import { ConnectionHistoryRepository } from './connection-history.repository';
import { connectionIdOf, connectionNotFound } from './connection-ids';
import { ConnectionRepository } from './connection.repository';
import { IpAllocationRepository } from './ip-allocation.repository';

function isExclusionViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23P01';
}

/**
 * An IP block for a connection that has not ceased, checked exactly and never overlapping a block another
 * connection holds (the database's exclusion constraint decides between racing requests; the loser is told
 * who holds the overlap). Recorded and published, exactly once per X-Request-ID.
 */
@Injectable()
export class AllocateBlockUseCase {
  constructor(
    private readonly connections: ConnectionRepository,
    private readonly allocations: IpAllocationRepository,
    private readonly history: ConnectionHistoryRepository,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  async execute(request: AllocateBlockRequest, context: CallContext): Promise<IpAllocation> {
    const id = connectionIdOf(request.connectionId);
    const block = parseBlock(request.cidr);
    const allocation = await this.writes.run(
      writeKey(context, 'ip-allocation.create', request),
      async (transaction) => {
        const current = await this.connections.lock(transaction, id);
        if (!current) throw connectionNotFound(id);
        if (current.status === 'ceased') {
          throw new PlatformError('CONNECTION_CEASED', undefined, {
            diagnostics: `${id} has ceased: it can hold no addresses`,
          });
        }
        if (await this.allocations.held(transaction, id, block.cidr)) {
          throw new PlatformError('IP_RANGE_CONFLICT', undefined, {
            diagnostics: `${id} already holds ${block.cidr}`,
            details: { cidr: block.cidr, conflictingConnection: id, conflictingCidr: block.cidr },
          });
        }
        let allocated: IpAllocation;
        try {
          allocated = await this.allocations.allocate(transaction, id, block.cidr, request.purpose ?? null);
        } catch (error) {
          if (!isExclusionViolation(error)) throw error;
          throw await this.conflict(block.cidr, id);
        }
        await this.history.append(transaction, {
          connectionId: id,
          kind: 'ip-assigned',
          fromStatus: null,
          toStatus: null,
          detail: block.cidr,
          ...actorOf(context),
        });
        const event: AllocationEvent = {
          allocationId: allocated.id,
          connectionId: id,
          odsCode: current.odsCode,
          cidr: allocated.cidr,
          occurredAt: allocated.allocatedAt,
        };
        await this.outbox.append(transaction, N3_EVENTS.allocationAssigned, event, context);
        return allocated;
      },
    );
    this.outbox.kick();
    return allocation;
  }

  private async conflict(cidr: string, connectionId: string): Promise<PlatformError> {
    const holder = await this.allocations.overlapping(cidr, connectionId);
    return new PlatformError('IP_RANGE_CONFLICT', undefined, {
      diagnostics: holder
        ? `${cidr} overlaps ${holder.cidr}, held by connection ${holder.connectionId} (${holder.odsCode}, ${holder.status})`
        : `${cidr} overlaps a block another connection holds`,
      details: holder
        ? {
            cidr,
            conflictingConnection: holder.connectionId,
            conflictingOrganisation: holder.odsCode,
            conflictingCidr: holder.cidr,
            conflictingAllocation: holder.allocationId,
          }
        : { cidr },
    });
  }
}

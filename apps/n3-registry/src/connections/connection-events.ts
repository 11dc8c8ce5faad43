import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  N3_EVENTS,
  type AllocationEvent,
  type Connection,
  type ConnectionStatusEvent,
  type IpAllocation,
} from '@platform/contracts-n3';
import { actorOf, type CallContext } from '@platform/shared-nats';
import { Outbox } from '@platform/shared-persistence';
import { ConnectionHistoryRepository } from './connection-history.repository';
import { eventSubjectFor } from './lifecycle';

/** The events several connection changes publish, through the outbox in the change's transaction. */
@Injectable()
export class ConnectionEvents {
  constructor(
    private readonly history: ConnectionHistoryRepository,
    private readonly outbox: Outbox,
  ) {}

  /** A released block: recorded in the connection's history and published. */
  async released(
    transaction: PoolClient,
    allocation: IpAllocation,
    odsCode: string,
    context: CallContext,
  ): Promise<void> {
    await this.history.append(transaction, {
      connectionId: allocation.connectionId,
      kind: 'ip-released',
      fromStatus: null,
      toStatus: null,
      detail: allocation.cidr,
      ...actorOf(context),
    });
    const event: AllocationEvent = {
      allocationId: allocation.id,
      connectionId: allocation.connectionId,
      odsCode,
      cidr: allocation.cidr,
      occurredAt: allocation.releasedAt ?? new Date().toISOString(),
    };
    await this.outbox.append(transaction, N3_EVENTS.allocationReleased, event, context);
  }

  /** A connection's new status, on the subject for the move it made. */
  async statusChanged(
    transaction: PoolClient,
    connection: Connection,
    from: Connection['status'] | null,
    reason: string | null,
    context: CallContext,
  ): Promise<void> {
    const event: ConnectionStatusEvent = {
      connectionId: connection.id,
      odsCode: connection.odsCode,
      fromStatus: from,
      toStatus: connection.status,
      version: connection.version,
      reason,
      occurredAt: connection.updatedAt,
    };
    await this.outbox.append(transaction, eventSubjectFor(from, connection.status), event, context);
  }
}

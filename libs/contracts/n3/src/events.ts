import type { ConnectionStatus } from './connections';

/** n3.connection.<step>.v1: a connection was ordered or changed status. */
export interface ConnectionStatusEvent {
  connectionId: string;
  odsCode: string;
  fromStatus: ConnectionStatus | null;
  toStatus: ConnectionStatus;
  version: number;
  reason: string | null;
  occurredAt: string;
}

/** n3.ip-allocation.assigned.v1 / released.v1. */
export interface AllocationEvent {
  allocationId: string;
  connectionId: string;
  odsCode: string;
  cidr: string;
  occurredAt: string;
}

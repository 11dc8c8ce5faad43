import { N3_EVENTS, type ConnectionStatus } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';

/**
 * The moves a connection may make. Forward along ordered -> provisioning -> live -> migrating -> ceased; a
 * migration can be abandoned (back to live); an order or a build can be cancelled, and a live connection
 * ceased without a migration. Ceased is final: the blocks it held are released for reuse.
 */
const ALLOWED: Record<ConnectionStatus, readonly ConnectionStatus[]> = {
  ordered: ['provisioning', 'ceased'],
  provisioning: ['live', 'ceased'],
  live: ['migrating', 'ceased'],
  migrating: ['ceased', 'live'],
  ceased: [],
};

export function allowedNext(from: ConnectionStatus): readonly ConnectionStatus[] {
  return ALLOWED[from];
}

export function checkTransition(from: ConnectionStatus, to: ConnectionStatus): void {
  if (ALLOWED[from].includes(to)) return;
  const next = ALLOWED[from];
  throw new PlatformError('INVALID_TRANSITION', undefined, {
    diagnostics:
      next.length === 0
        ? `The connection is ${from}: it cannot change any more`
        : `A connection that is ${from} can move to ${next.join(' or ')}, not ${to}`,
    details: { from, to, allowed: next },
  });
}

/** The event a move publishes. */
export function eventSubjectFor(from: ConnectionStatus | null, to: ConnectionStatus): string {
  switch (to) {
    case 'ordered':
      return N3_EVENTS.connectionOrdered;
    case 'provisioning':
      return N3_EVENTS.connectionProvisioningStarted;
    case 'live':
      return from === 'migrating' ? N3_EVENTS.connectionMigrationAbandoned : N3_EVENTS.connectionWentLive;
    case 'migrating':
      return N3_EVENTS.connectionMigrationStarted;
    case 'ceased':
      return N3_EVENTS.connectionCeased;
  }
}

import { CONNECTION_STATUSES, N3_EVENTS, type ConnectionStatus } from '@platform/contracts-n3';
import { rejectionOf } from '@platform/shared-testing';
import { checkTransition, eventSubjectFor } from './lifecycle';

const VALID: [ConnectionStatus, ConnectionStatus][] = [
  ['ordered', 'provisioning'],
  ['provisioning', 'live'],
  ['live', 'migrating'],
  ['migrating', 'ceased'],
  ['migrating', 'live'],
  ['ordered', 'ceased'],
  ['provisioning', 'ceased'],
  ['live', 'ceased'],
];

describe('connection lifecycle', () => {
  it.each(VALID)('allows %s -> %s', (from, to) => {
    expect(() => checkTransition(from, to)).not.toThrow();
  });

  const invalid = CONNECTION_STATUSES.flatMap((from) =>
    CONNECTION_STATUSES.filter((to) => !VALID.some(([a, b]) => a === from && b === to)).map(
      (to) => [from, to] as [ConnectionStatus, ConnectionStatus],
    ),
  );

  it.each(invalid)('refuses %s -> %s with INVALID_TRANSITION, naming the moves that are allowed', async (from, to) => {
    const error = await rejectionOf(Promise.resolve().then(() => checkTransition(from, to)));
    expect(error.code).toBe('INVALID_TRANSITION');
    expect(error.httpStatus).toBe(409);
    expect(error.diagnostics).toMatch(from === 'ceased' ? /cannot change any more/ : new RegExp(`not ${to}$`));
  });

  it('publishes one past-tense event per step, telling an abandoned migration from going live', () => {
    expect(eventSubjectFor(null, 'ordered')).toBe(N3_EVENTS.connectionOrdered);
    expect(eventSubjectFor('provisioning', 'live')).toBe(N3_EVENTS.connectionWentLive);
    expect(eventSubjectFor('migrating', 'live')).toBe(N3_EVENTS.connectionMigrationAbandoned);
    expect(eventSubjectFor('live', 'ceased')).toBe(N3_EVENTS.connectionCeased);
  });
});

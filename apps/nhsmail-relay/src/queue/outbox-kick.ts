import type { Outbox } from '@platform/shared-persistence';

/** How long an outbox kick waits for others to join it. */
export const OUTBOX_KICK_DELAY_MS = 20;

const scheduled = new WeakSet<Pick<Outbox, 'kick'>>();

/**
 * Asks the outbox to publish soon rather than at once: the kicks of the messages accepted and delivered within
 * OUTBOX_KICK_DELAY_MS fold into one relay pass (one transaction reading and marking all their events, one
 * round of JetStream acks) instead of a pass each, which under load was a pass after almost every commit. The
 * events are already committed with what they describe; only their publication waits, by at most that delay
 * (and the outbox's own sweep publishes them within a second whatever happens to this timer).
 */
export function kickOutboxSoon(outbox: Pick<Outbox, 'kick'>): void {
  if (scheduled.has(outbox)) return;
  scheduled.add(outbox);
  setTimeout(() => {
    scheduled.delete(outbox);
    outbox.kick();
  }, OUTBOX_KICK_DELAY_MS).unref();
}

import type { Outbox } from '@platform/shared-persistence';

/** The relay's kicks after a commit: Outbox.kickSoon (kicks within its delay fold into one relay pass). */
export function kickOutboxSoon(outbox: Pick<Outbox, 'kickSoon'>): void {
  outbox.kickSoon();
}

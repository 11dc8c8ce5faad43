import type { PrescriptionEventMessage } from '@platform/contracts-eps';
import { EPS_EVENTS, PRESCRIPTION_STATUS } from '@platform/contracts-eps';
import type { Logger } from '@platform/shared-logging';
import { withTransaction, type Outbox, type ServiceDatabase } from '@platform/shared-persistence';
import type { PrescriptionHistoryRepository } from '../shared/prescription-history.repository';
import type { PrescriptionRepository } from '../shared/prescription.repository';

const BATCH = 1000;

/**
 * The scheduled job that expires prescriptions past their validity (0004): those still To Be Dispensed or
 * with a pharmacy whose validity ended (validityPeriod.end, or six months from its start). Each expiry is
 * recorded and published through the outbox. Replicas share the work (SKIP LOCKED); a run in progress is
 * never started twice in one process.
 */
export class ExpiryJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly database: ServiceDatabase,
    private readonly prescriptions: PrescriptionRepository,
    private readonly history: PrescriptionHistoryRepository,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
    private readonly everyMs: number,
  ) {}

  /** Nest's lifecycle hook: starts the schedule. */
  onApplicationBootstrap(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.run().catch((error: unknown) => this.logger.warn({ err: error }, 'prescription expiry failed; will retry'));
    }, this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Expires everything due on `today` (YYYY-MM-DD); answers how many. */
  run(today = new Date().toISOString().slice(0, 10)): Promise<number> {
    this.running ??= this.expire(today).finally(() => (this.running = undefined));
    return this.running;
  }

  private async expire(today: string): Promise<number> {
    let total = 0;
    for (;;) {
      const expired = await withTransaction(this.database.pool, async (client) => {
        const due = await this.prescriptions.expireDue(client, today, BATCH);
        const context = { requestId: `expiry-${today}` };
        for (const prescription of due) {
          await this.history.append(client, {
            shortFormId: prescription.shortFormId,
            kind: 'expired',
            fromStatus: prescription.from,
            toStatus: PRESCRIPTION_STATUS.expired,
            pharmacy: prescription.dispenser,
            detail: `validity ended before ${today}`,
            actor: 'expiry-job',
            actorOrganisation: null,
            requestId: context.requestId,
          });
          const event: PrescriptionEventMessage = {
            shortFormId: prescription.shortFormId,
            status: PRESCRIPTION_STATUS.expired,
            pharmacy: prescription.dispenser,
            occurredAt: new Date().toISOString(),
          };
          await this.outbox.append(client, EPS_EVENTS.expired, event, context);
        }
        return due;
      });
      total += expired.length;
      if (expired.length < BATCH) break;
    }
    if (total > 0) {
      this.outbox.kick();
      this.logger.info({ expired: total }, 'expired prescriptions past their validity');
    }
    return total;
  }
}

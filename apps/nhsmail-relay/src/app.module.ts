import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { N3Client } from '@platform/contracts-n3';
import { NhsmailRelayClient, NHSMAIL_SUBJECTS } from '@platform/contracts-nhsmail';
import type { Logger } from '@platform/shared-logging';
import { NatsRpcClient, type CallerAssertionSigner } from '@platform/shared-nats';
import { shutdownHook, writeSide, writeSideProviders, type Retention } from '@platform/shared-persistence';
import { HealthController, METRICS_REGISTRY, serviceHealth } from '@platform/shared-service';
import { NHSMAIL_RELAY_DATABASE, type NhsmailRelayDatabase } from './database/database.provider';
import { DirectoryMailboxes, directoryAtStart } from './mailbox-api/directory-mailboxes';
import { MailboxAccess } from './mailbox-api/mailbox-access';
import { MailboxApiHandler } from './mailbox-api/mailbox-api.handler';
import { MailboxMessages } from './mailbox-api/mailbox-messages';
import { PersonalMailboxes } from './mailbox-api/personal-mailboxes';
import { MAILBOX_SEND_SETTINGS, SendMessage, type MailboxSendSettings } from './mailbox-api/send-message';
import { CreateMailboxUseCase } from './mailboxes/create-mailbox.usecase';
import { MailDomains } from './mailboxes/mail-domains';
import { MailboxHandler } from './mailboxes/mailbox.handler';
import { MailboxRepository } from './mailboxes/mailbox.repository';
import { QueueAdminHandler } from './queue-admin/queue-admin';
import { DeliveryWorker, type DeliverySettings } from './queue/delivery-worker';
import { EVENT_FOLD_MS, MessageStore } from './queue/message-store';
import { noticeStartOf, PracticeNotices } from './notices/practice-notices';
import { AccessTokens } from './smtp/access-tokens';
import { MemoryShedding, backgroundCollector } from './smtp/memory-shedding';
import { N3Gate } from './smtp/n3-gate';
import { SecureMail, type SecureSettings } from './secure/secure-mail';
import { SecureHandler } from './secure/secure.handler';
import { SmtpListeners, type SmtpSettings } from './smtp/smtp-listeners';

export interface NhsmailRelayResources {
  database: NhsmailRelayDatabase;
  nats: NatsConnection;
  metrics: Registry;
  logger: Logger;
  retention: Retention;
  /** Signs the relay's own statements when it asks the N3 registry (as `service:nhsmail-relay`). */
  signer: CallerAssertionSigner;
  domains: string;
  smtp: SmtpSettings;
  delivery: DeliverySettings;
  n3CacheSeconds: number;
  oidc: { issuer: string; jwksUrl?: string; audience: string };
  /** [secure] mail (secure/secure-mail.ts). */
  secure: SecureSettings;
  /** Where a new event-notice durable consumer starts (NHSMAIL_NOTICES_START; default `new`). */
  noticesStart?: string;
  /** Make the directory's GP practice and pharmacy mailboxes at start (NHSMAIL_PROVISION_DIRECTORY_AT_START). */
  provisionDirectoryAtStart?: boolean;
}

@Module({})
export class NhsmailRelayModule {
  /** The service wired to resources opened (and migrated) before Nest starts. */
  static with(resources: NhsmailRelayResources): DynamicModule {
    const self = new NhsmailRelayClient(new NatsRpcClient(resources.nats, { timeoutMs: 1500 }));
    const n3 = new N3Client(new NatsRpcClient(resources.nats, { timeoutMs: 3000, signer: resources.signer }));
    const health = serviceHealth({
      service: 'nhsmail-relay',
      subject: NHSMAIL_SUBJECTS.healthCheck,
      pool: resources.database.pool,
      self: (context) => self.health(context),
    });
    const side = writeSide(resources, 'nhsmail-relay', { foldMs: EVENT_FOLD_MS });
    const domains = new MailDomains(resources.domains);
    const mailboxes = new MailboxRepository(resources.database);
    const store = new MessageStore(resources.database);
    const secure = new SecureMail(resources.secure, store, domains);
    const worker = new DeliveryWorker(
      resources.delivery,
      store,
      mailboxes,
      domains,
      side.outbox,
      resources.logger,
      secure,
    );
    // Platform events mailed to GP practices (GP2GP's print-the-record notice, e-RS outcomes).
    const notices = new PracticeNotices(
      resources.nats,
      resources.database,
      store,
      domains,
      resources.logger,
      { retryMs: 2000, start: noticeStartOf(resources.noticesStart) },
      () => worker.kick(),
    );
    // After a burst of mail, the heap it left is given back (smtp/memory-shedding.ts).
    const shedding = new MemoryShedding(backgroundCollector());
    const listeners = new SmtpListeners(resources.smtp, {
      mailboxes,
      domains,
      n3: new N3Gate(n3, resources.n3CacheSeconds),
      tokens: new AccessTokens(resources.oidc),
      store,
      outbox: side.outbox,
      logger: resources.logger,
      // The worker hears of accepted mail from the message store (handed over, or announced for a claim).
      accepted: () => shedding.note(),
    });
    return {
      module: NhsmailRelayModule,
      controllers: [
        MailboxHandler,
        MailboxApiHandler,
        QueueAdminHandler,
        HealthController,
        health.handler,
        SecureHandler,
      ],
      providers: [
        { provide: NHSMAIL_RELAY_DATABASE, useValue: resources.database },
        ...health.providers,
        { provide: METRICS_REGISTRY, useValue: resources.metrics },
        {
          provide: 'NHSMAIL_RELAY_SMTP',
          // A hybrid app (HTTP + NATS) can run bootstrap hooks twice: listen once.
          useValue: {
            started: false,
            async onApplicationBootstrap(this: { started: boolean }): Promise<void> {
              if (this.started) return;
              this.started = true;
              await listeners.start();
              worker.start();
              notices.start();
              shedding.start();
            },
          },
        },
        { provide: SmtpListeners, useValue: listeners },
        // On shutdown: no new SMTP sessions, deliveries in flight finish, the group commit's connections and the write side close, then NATS and the database.
        {
          provide: 'NHSMAIL_RELAY_SHUTDOWN',
          useValue: shutdownHook(async () => {
            await listeners.stop();
            shedding.stop();
            await notices.stop();
            await worker.stop();
            await store.close();
            await side.close();
          }),
        },
        ...writeSideProviders(side),
        { provide: MailDomains, useValue: domains },
        { provide: MailboxRepository, useValue: mailboxes },
        { provide: MessageStore, useValue: store },
        { provide: N3Client, useValue: n3 },
        { provide: SecureMail, useValue: secure },
        { provide: PracticeNotices, useValue: notices },
        CreateMailboxUseCase,
        DirectoryMailboxes,
        {
          provide: 'NHSMAIL_DIRECTORY_AT_START',
          inject: [DirectoryMailboxes],
          useFactory: (directory: DirectoryMailboxes) =>
            directoryAtStart(directory, resources.provisionDirectoryAtStart ?? false, resources.logger),
        },
        MailboxAccess,
        MailboxMessages,
        PersonalMailboxes,
        SendMessage,
        {
          provide: MAILBOX_SEND_SETTINGS,
          useValue: {
            maxBytes: resources.smtp.maxBytes,
            hostname: resources.smtp.hostname,
            accepted: () => worker.kick(),
          } satisfies MailboxSendSettings,
        },
      ],
    };
  }
}

import type { AddressInfo } from 'node:net';
import type { SMTPServer, SMTPServerAddress, SMTPServerAuthentication, SMTPServerSession } from 'smtp-server';
import type { Logger } from '@platform/shared-logging';
import type { Outbox } from '@platform/shared-persistence';
import { domainOf, type MailDomains } from '../mailboxes/mail-domains';
import type { MailboxRepository } from '../mailboxes/mailbox.repository';
import { mayUseMailbox } from '../mailboxes/mailbox-use';
import { UNUSABLE_HASH, verifyPassword } from '../mailboxes/password';
import type { MessageStore } from '../queue/message-store';
import type { AccessTokens } from './access-tokens';
import { receiveMessage, newMessageId } from './mail-intake';
import { plainAddress, type N3Gate } from './n3-gate';
import { PromptGreetingSmtpServer } from './prompt-greeting';
import { smtpError } from './smtp-error';

export interface SmtpSettings {
  host: string;
  submissionPort: number;
  relayPort: number;
  hostname: string;
  tls: { key: Buffer; cert: Buffer };
  maxBytes: number;
  lockout: { attempts: number; seconds: number };
}

/** Who signed in on a submission session: the mailbox, and the platform user behind it (if any). */
interface Principal {
  mailbox: string;
  username: string | null;
  /** The organisation a XOAUTH2 token names (one only); a password sign-in names none. */
  organisation?: string;
}

function principalOf(session: SMTPServerSession): Principal | undefined {
  const user: unknown = session.user;
  return typeof user === 'string' ? (JSON.parse(user) as Principal) : undefined;
}

type Done = (error?: Error | null) => void;

/** Runs an async check as an smtp-server callback; anything unexpected becomes a 451, never a crash. */
function answer(done: Done, work: () => Promise<void>, logger: Logger, what: string): void {
  work().then(
    () => done(),
    (error: unknown) => {
      if (error instanceof Error && 'responseCode' in error) return done(error);
      logger.error({ err: error, what }, 'SMTP handler failed');
      done(smtpError(451, '4.3.0 Temporary local problem; try again later'));
    },
  );
}

/**
 * The relay's two SMTP listeners.
 * - Submission (587 in production): STARTTLS before AUTH (PLAIN, LOGIN against scrypt hashes; XOAUTH2 with a
 *   platform access token); the envelope sender and the From header must be the signed-in mailbox or one the
 *   user may use by the API's rule (mailboxes/mailbox-use.ts: a shared mailbox they are a member of, or of the
 *   organisation their XOAUTH2 token names); repeated failed logins lock the mailbox for a while.
 * - Relay and inbound (25): mail for the platform's domains from anyone, to existing mailboxes only; mail for
 *   other domains only from an address of a live N3 connection.
 * Both announce SIZE and enforce it while streaming; blocked attachment types are refused at DATA.
 */
export class SmtpListeners {
  private submission?: SMTPServer;
  private relay?: SMTPServer;

  constructor(
    private readonly settings: SmtpSettings,
    private readonly deps: {
      mailboxes: MailboxRepository;
      domains: MailDomains;
      n3: N3Gate;
      tokens: AccessTokens;
      store: MessageStore;
      outbox: Outbox;
      logger: Logger;
      /** Called after each message is committed (the delivery worker looks for work at once). */
      accepted?: () => void;
    },
  ) {}

  async start(): Promise<{ submissionPort: number; relayPort: number }> {
    this.submission = this.server('submission');
    this.relay = this.server('relay');
    const listen = (server: SMTPServer, port: number): Promise<number> =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, this.settings.host, () => {
          server.off('error', reject);
          server.on('error', (error) => this.deps.logger.warn({ err: error }, 'SMTP connection error'));
          resolve((server.server.address() as AddressInfo).port);
        });
      });
    const [submissionPort, relayPort] = await Promise.all([
      listen(this.submission, this.settings.submissionPort),
      listen(this.relay, this.settings.relayPort),
    ]);
    this.ports = { submissionPort, relayPort };
    return this.ports;
  }

  ports = { submissionPort: 0, relayPort: 0 };

  async stop(): Promise<void> {
    await Promise.all(
      [this.submission, this.relay].map(
        (server) => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
      ),
    );
  }

  private server(kind: 'submission' | 'relay'): SMTPServer {
    const { logger } = this.deps;
    const submission = kind === 'submission';
    return new PromptGreetingSmtpServer({
      name: this.settings.hostname,
      banner: `NHSmail relay (${kind})`,
      key: this.settings.tls.key,
      cert: this.settings.tls.cert,
      size: this.settings.maxBytes,
      logger: false,
      // The client's address and HELO go into the Received: line; a PTR lookup per connection (before the
      // greeting, through the resolver) would only slow every session down, by seconds when DNS is slow.
      disableReverseLookup: true,
      ...(submission
        ? { authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'], allowInsecureAuth: false, authOptional: false }
        : { authOptional: true, disabledCommands: ['AUTH'] }),
      onAuth: (auth, session, done) => {
        this.authenticate(auth).then(
          (result) => done(null, result),
          (error: Error) => done(error),
        );
        void session;
      },
      onMailFrom: (address, session, done) =>
        answer(done, () => this.checkSender(kind, address, session), logger, 'MAIL FROM'),
      onRcptTo: (address, session, done) =>
        answer(done, () => this.checkRecipient(kind, address, session), logger, 'RCPT TO'),
      onData: (stream, session, done) => {
        this.receive(kind, stream, session).then(
          (id) => {
            this.deps.accepted?.();
            done(null, `2.0.0 Ok: queued as ${id}`);
          },
          (error: Error) => {
            if (!('responseCode' in error)) logger.error({ err: error }, 'SMTP DATA failed');
            done('responseCode' in error ? error : smtpError(451, '4.3.0 Temporary local problem; try again later'));
          },
        );
      },
    });
  }

  /** PLAIN/LOGIN: the mailbox's scrypt hash, with lockout; XOAUTH2: a platform token of the mailbox's owner. */
  private async authenticate(
    auth: SMTPServerAuthentication,
  ): Promise<{ user?: string; data?: Record<string, string> }> {
    const address = (auth.username ?? '').trim().toLowerCase();
    const mailbox = address ? await this.deps.mailboxes.find(address) : undefined;
    if (auth.method === 'XOAUTH2') {
      const holder = await this.deps.tokens.verify(auth.accessToken ?? '');
      if (!holder || !mailbox || mailbox.kind !== 'personal' || mailbox.ownerUsername !== holder.username) {
        return { data: { status: '401', schemes: 'bearer', scope: 'mail' } };
      }
      return {
        user: JSON.stringify({
          mailbox: mailbox.address,
          username: holder.username,
          ...(holder.organisation ? { organisation: holder.organisation } : {}),
        } satisfies Principal),
      };
    }
    if (mailbox?.lockedUntil && mailbox.lockedUntil.getTime() > Date.now()) {
      throw smtpError(454, '4.7.0 Too many failed logins: this mailbox is locked for a while, try again later');
    }
    const matches = await verifyPassword(auth.password ?? '', mailbox?.passwordHash ?? UNUSABLE_HASH);
    if (!mailbox || !matches) {
      if (mailbox) {
        const locked = await this.deps.mailboxes.recordFailedLogin(
          mailbox.address,
          this.settings.lockout.attempts,
          this.settings.lockout.seconds,
        );
        if (locked) this.deps.logger.warn({ mailbox: mailbox.address }, 'Mailbox locked after repeated failed logins');
      }
      throw smtpError(535, '5.7.8 Authentication credentials invalid');
    }
    await this.deps.mailboxes.recordSuccessfulLogin(mailbox.address);
    return { user: JSON.stringify({ mailbox: mailbox.address, username: mailbox.ownerUsername } satisfies Principal) };
  }

  /**
   * May the signed-in principal send as `address`: the mailbox it signed in to, or one the relay's one rule
   * (mailboxes/mailbox-use.ts, as the mailbox API) lets it use.
   */
  private async maySendAs(principal: Principal, address: string): Promise<boolean> {
    if (address === principal.mailbox) return true;
    const mailbox = await this.deps.mailboxes.find(address);
    return mailbox !== undefined && mayUseMailbox(mailbox, principal);
  }

  private async checkSender(
    kind: 'submission' | 'relay',
    address: SMTPServerAddress,
    session: SMTPServerSession,
  ): Promise<void> {
    if (kind !== 'submission') return;
    const principal = principalOf(session);
    const sender = (address.address || '').toLowerCase();
    if (!principal || !(await this.maySendAs(principal, sender))) {
      throw smtpError(553, `5.7.1 Sender address refused: ${principal?.mailbox ?? 'you'} may not send as <${sender}>`);
    }
  }

  private async checkRecipient(
    kind: 'submission' | 'relay',
    address: SMTPServerAddress,
    session: SMTPServerSession,
  ): Promise<void> {
    const recipient = address.address.toLowerCase();
    if (this.deps.domains.isLocal(recipient)) {
      const known = await this.deps.mailboxes.existing([recipient]);
      if (!known.has(recipient)) throw smtpError(550, `5.1.1 <${recipient}>: no such mailbox here`);
      return;
    }
    if (kind === 'submission') return;
    const ip = plainAddress(session.remoteAddress);
    const verdict = await this.deps.n3.check(ip);
    if (verdict.kind === 'unavailable') {
      throw smtpError(451, '4.4.3 The N3 registry cannot be asked just now; try again later');
    }
    if (verdict.kind === 'none') {
      throw smtpError(
        554,
        `5.7.1 <${recipient}>: relay access denied: ${ip} is not an address of a live N3 connection (${domainOf(recipient)} is not a platform domain)`,
      );
    }
  }

  private receive(
    kind: 'submission' | 'relay',
    stream: Parameters<typeof receiveMessage>[0],
    session: SMTPServerSession,
  ): Promise<string> {
    const principal = principalOf(session);
    const id = newMessageId();
    const ip = plainAddress(session.remoteAddress);
    const protocol = `ESMTP${session.secure ? 'S' : ''}${principal ? 'A' : ''}`;
    const helo = (session.hostNameAppearsAs || 'unknown').replace(/[^\x21-\x7e]/g, '').slice(0, 100);
    return receiveMessage(
      stream,
      {
        meta: {
          id,
          envelopeFrom: (session.envelope.mailFrom ? session.envelope.mailFrom.address : '').toLowerCase(),
          receivedVia: kind,
          clientIp: ip,
          authenticatedAs: principal?.mailbox ?? null,
        },
        recipients: session.envelope.rcptTo.map((rcpt) => {
          const address = rcpt.address.toLowerCase();
          return { address, local: this.deps.domains.isLocal(address) };
        }),
        trace: `Received: from ${helo} ([${ip}]) by ${this.settings.hostname} with ${protocol} id ${id}; ${new Date().toUTCString()}`,
        maxBytes: this.settings.maxBytes,
        ...(principal
          ? {
              checkFrom: async (from: string[]) => {
                if (from.length !== 1) return 'The From header must name exactly one address';
                const address = from[0] ?? '';
                return (await this.maySendAs(principal, address))
                  ? undefined
                  : `From header refused: ${principal.mailbox} may not send as <${address}>`;
              },
            }
          : {}),
      },
      this.deps.store,
      this.deps.outbox,
    );
  }
}

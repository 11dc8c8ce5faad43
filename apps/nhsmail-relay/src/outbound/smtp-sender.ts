import { createPrivateKey } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import DKIM from 'nodemailer/lib/dkim';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { DkimWorker } from './dkim-worker';

/** The outcome of one attempt to hand a message over, as the delivery worker records it. */
export type SendOutcome =
  | { kind: 'delivered' }
  | { kind: 'permanent'; reason: string }
  | { kind: 'temporary'; reason: string };

/** The message's bytes as stored (headers and body, as received): a new copy for every attempt. */
export type MessageContent = () => Buffer | Readable;

/** Where and how to open an SMTP session. */
export interface SmtpTarget {
  host: string;
  port: number;
  /** TLS from the start (smtps); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  /** The name this relay gives in EHLO. */
  name: string;
  /** Options for the TLS socket (STARTTLS or smtps). */
  tls?: ConnectionOptions;
  /** Credentials, used when the server offers AUTH. */
  auth?: { user: string; pass: string };
}

export interface DkimSettings {
  domainName: string;
  keySelector: string;
  /** PEM text: parsed once here, not for every signature. */
  privateKey: string;
  /**
   * A folder (the process's own) for the bodies of large messages while their hash is computed: the signature
   * goes before the body, so the body is read in full first; up to a megabyte stays in memory, the rest in a
   * file (mode 0600, removed after sending), so a few 35 MB messages in flight never cost their size.
   */
  cacheDir: string;
}

const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 60_000 } as const;

/**
 * DKIM signing of stored messages with nodemailer's signer (the message as it is; nothing is composed). A
 * message held whole (one chunk: most mail) is signed in a worker thread (DkimWorker); a stream (a large
 * message) goes through the signer here, its body cached in `cacheDir` while it is hashed. The key is parsed
 * once: given as PEM text, every signature parsed it again (1 to 2 ms of the 2 to 3 ms a signature took under
 * load; 0.7 to 1.1 ms with the parsed key).
 */
export class MessageSigner {
  private readonly dkim: DKIM;
  private readonly worker: DkimWorker;

  constructor(settings: DkimSettings) {
    this.dkim = new DKIM({
      domainName: settings.domainName,
      keySelector: settings.keySelector,
      privateKey: createPrivateKey(settings.privateKey),
      cacheDir: settings.cacheDir,
      cacheTreshold: 1024 * 1024,
    });
    this.worker = new DkimWorker(settings);
  }

  /** The message with a DKIM-Signature header first. */
  sign(content: Buffer | Readable): Promise<Buffer | Readable> {
    return Buffer.isBuffer(content) ? this.worker.sign(content) : Promise.resolve(this.dkim.sign(content));
  }

  /** Stops the signing thread (at shutdown). */
  close(): Promise<void> {
    return this.worker.close();
  }
}

type SmtpError = Error & { code?: string; responseCode?: number; response?: string; command?: string };

/** The reply or error of a failure, safe to store and show (no message content). */
function reasonOf(error: unknown): string {
  const failure = error as SmtpError;
  return (failure.response ?? failure.message ?? failure.code ?? 'delivery failed').slice(0, 500);
}

/**
 * The outcome of a failed send over an open session: only a 5xx reply to MAIL FROM, RCPT TO or the data (the
 * DATA command or the message after it; nodemailer's error.command) refuses this message for good. Anything
 * else (a 4xx, a connection lost, a timeout, a 5xx said while leaving) is temporary.
 */
export function outcomeOf(error: unknown): Exclude<SendOutcome, { kind: 'delivered' }> {
  const failure = error as SmtpError;
  const reason = reasonOf(error);
  const permanent =
    typeof failure.responseCode === 'number' &&
    failure.responseCode >= 500 &&
    (failure.command === 'MAIL FROM' || failure.command === 'RCPT TO' || failure.command === 'DATA');
  return permanent ? { kind: 'permanent', reason } : { kind: 'temporary', reason };
}

/**
 * The outcome of a session that could not be opened (connect, greeting, EHLO, STARTTLS, AUTH): always temporary,
 * whatever the reply. A refused login (a rotated password) or a host refusing sessions says nothing about the
 * message, and must not bounce it; the delivery is tried again later (by MX: at the next address first).
 */
export function sessionFailureOf(error: unknown): { kind: 'temporary'; reason: string } {
  return { kind: 'temporary', reason: reasonOf(error) };
}

/** A failed send: SMTPConnection's error, and whether the message's data had started to go. */
type SendError = SmtpError & { dataStarted: boolean };

/** Whether a failure is the server's answer to this message, after which the session itself is still fine. */
function refusedByServer(error: SmtpError): boolean {
  return (error.code === 'EENVELOPE' || error.code === 'EMESSAGE') && error.responseCode !== 421;
}

/**
 * Whether a send failed because the connection went (closed, reset, or the server said 421 and left) before
 * any of the message's data was sent, so that the same message can go at once over another connection without
 * the server having had a copy. nodemailer names the step in error.command: 'CONN' for the socket (closed,
 * reset or timed out at whatever step, the data included), 'API' for a send on a connection already gone,
 * 'MAIL FROM' and 'RCPT TO' for the envelope, 'DATA' for the DATA command and the message after it. 'CONN'
 * alone cannot tell a reset before the data from one between the final dot and the reply, hence dataStarted.
 */
function lostBeforeData(error: SendError): boolean {
  if (error.dataStarted) return false;
  const lost =
    error.responseCode !== undefined
      ? error.responseCode === 421
      : error.code === 'ECONNECTION' || error.code === 'ESOCKET';
  return (
    lost &&
    (error.command === 'CONN' ||
      error.command === 'API' ||
      error.command === 'MAIL FROM' ||
      error.command === 'RCPT TO')
  );
}

/**
 * One SMTP session (nodemailer's SMTPConnection: EHLO, STARTTLS, AUTH, pipelined envelope, dot-stuffed DATA).
 * After a message the server took, the next one follows on the same session without RSET (RFC 5321 3.3: a
 * completed DATA ends the transaction; SMTPConnection sends MAIL FROM afresh on every send); after one it
 * refused, RSET clears whatever the server kept of the envelope.
 */
class SmtpSession {
  messages = 0;
  private gone = false;

  private constructor(
    private readonly connection: SMTPConnection,
    /** Run once, when the session can no longer be used (closed by either side). */
    onGone: () => void,
  ) {
    // SMTPConnection emits 'error' for a failure of the socket; the send in flight gets the same error.
    connection.on('error', () => undefined);
    connection.once('end', () => {
      this.gone = true;
      onGone();
    });
  }

  static open(target: SmtpTarget, onGone: () => void): Promise<SmtpSession> {
    const connection = new SMTPConnection({
      host: target.host,
      port: target.port,
      secure: target.secure,
      name: target.name,
      ...TIMEOUTS,
      ...(target.tls ? { tls: target.tls } : {}),
    });
    const session = new SmtpSession(connection, onGone);
    return new Promise((resolve, reject) => {
      let settled = false;
      const failed = (error: unknown): void => {
        if (settled) return;
        settled = true;
        connection.close();
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      const ready = (): void => {
        if (settled) return;
        settled = true;
        connection.removeListener('error', failed);
        resolve(session);
      };
      // A connection refused, a timeout or a failed STARTTLS comes as 'error' (connect() only hears of a close
      // before the greeting); a close that reports nothing, as 'end'.
      connection.once('error', failed);
      connection.once('end', () => failed(Object.assign(new Error('Connection closed'), { code: 'ECONNECTION' })));
      connection.connect((error) => {
        if (error) return failed(error);
        if (!target.auth || !connection.allowsAuth) return ready();
        connection.login({ user: target.auth.user, pass: target.auth.pass }, (loginError) =>
          loginError ? failed(loginError) : ready(),
        );
      });
    });
  }

  get usable(): boolean {
    return !this.gone && !this.connection.destroyed;
  }

  /**
   * Sends one message to one recipient; rejects with SMTPConnection's error (its reply, if any), with dataStarted
   * set when any of the message had gone to the server (SMTPConnection starts reading it once DATA is answered).
   */
  send(from: string, to: string, content: Buffer | Readable): Promise<void> {
    this.messages += 1;
    const message = Buffer.isBuffer(content) ? Readable.from([content], { objectMode: false }) : content;
    let dataStarted = false;
    message.once('resume', () => {
      dataStarted = true;
    });
    return new Promise((resolve, reject) => {
      this.connection.send({ from, to: [to] }, message, (error, info) => {
        if (!error && info?.accepted.length === 1) return resolve();
        const failure: SendError = Object.assign(
          error ?? Object.assign(new Error('4.0.0 The server did not accept the recipient'), { code: 'EENVELOPE' }),
          { dataStarted },
        );
        if (refusedByServer(failure) && this.usable) {
          this.connection.reset((resetError) => {
            if (resetError) this.connection.close();
            reject(failure);
          });
          return;
        }
        this.connection.close();
        reject(failure);
      });
    });
  }

  quit(): void {
    if (this.usable) this.connection.quit();
    else this.connection.close();
  }

  close(): void {
    this.connection.close();
  }
}

async function signed(signer: MessageSigner | undefined, content: MessageContent): Promise<Buffer | Readable> {
  return signer ? signer.sign(content()) : content();
}

/** Sends one message over a session of its own (delivery by MX: a session for each attempt at each host). */
export async function sendOnce(
  target: SmtpTarget,
  signer: MessageSigner | undefined,
  envelope: { from: string; to: string },
  content: MessageContent,
): Promise<SendOutcome> {
  let session: SmtpSession;
  try {
    session = await SmtpSession.open(target, () => undefined);
  } catch (error) {
    return sessionFailureOf(error);
  }
  try {
    await session.send(envelope.from, envelope.to, await signed(signer, content));
    return { kind: 'delivered' };
  } catch (error) {
    return outcomeOf(error);
  } finally {
    session.quit();
  }
}

export interface SmtpPoolSettings extends SmtpTarget {
  /** Sessions open at once, at most. */
  maxConnections: number;
  /** Messages over one session before it is closed and a new one opened. */
  maxMessages: number;
  /** An idle session is closed (QUIT) after this long unused. */
  idleMs?: number;
}

/** smtp://[user:password@]host[:port] or smtps://… as a target (ports 587 and 465 unless given). */
export function targetOfUrl(url: string, name: string): SmtpTarget {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'smtps:';
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    name,
    ...(parsed.username || parsed.password
      ? { auth: { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } }
      : {}),
  };
}

/**
 * Sends through one server (the smarthost) over a few sessions kept open: an idle one takes the next message,
 * one the server closed is dropped and another opened, at most maxConnections at once.
 */
export class SmtpPool {
  private readonly idle: SmtpSession[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly idleTimers = new Map<SmtpSession, NodeJS.Timeout>();
  /** Sessions open or being opened, idle or busy. */
  private open = 0;
  private closed = false;

  constructor(
    private readonly settings: SmtpPoolSettings,
    private readonly signer?: MessageSigner,
  ) {}

  async send(envelope: { from: string; to: string }, content: MessageContent): Promise<SendOutcome> {
    if (this.closed) return { kind: 'temporary', reason: '4.3.2 The relay is stopping' };
    let session: SmtpSession;
    let reused: boolean;
    try {
      ({ session, reused } = await this.acquire());
    } catch (error) {
      return sessionFailureOf(error);
    }
    try {
      await session.send(envelope.from, envelope.to, await signed(this.signer, content));
      this.release(session);
      return { kind: 'delivered' };
    } catch (error) {
      this.release(session);
      // A session that sat idle may have been closed by the server just as it was taken: the message goes
      // again over a new one rather than waiting for the next attempt, but only when none of it had gone. Lost
      // after its data (say between the final dot and the reply), the server may have taken it: a temporary
      // outcome, and the retry machinery decides, rather than a second copy at once.
      if (reused && !this.closed && lostBeforeData(error as SendError)) {
        return this.send(envelope, content);
      }
      return outcomeOf(error);
    }
  }

  /** Closes every session (QUIT); a session still sending closes when its message is done. */
  close(): void {
    this.closed = true;
    for (const session of this.idle.splice(0)) this.retire(session);
    for (const wake of this.waiting.splice(0)) wake();
  }

  private async acquire(): Promise<{ session: SmtpSession; reused: boolean }> {
    for (;;) {
      if (this.closed) throw Object.assign(new Error('4.3.2 The relay is stopping'), { code: 'ECONNECTION' });
      const idle = this.idle.pop();
      if (idle) {
        clearTimeout(this.idleTimers.get(idle));
        this.idleTimers.delete(idle);
        if (idle.usable) return { session: idle, reused: true };
        continue;
      }
      if (this.open < this.settings.maxConnections) {
        this.open += 1;
        let session: SmtpSession | undefined;
        let counted = true;
        const uncount = (): void => {
          if (!counted) return;
          counted = false;
          this.open -= 1;
          this.forget(session);
          this.waiting.shift()?.();
        };
        try {
          session = await SmtpSession.open(this.settings, () => uncount());
        } catch (error) {
          uncount();
          throw error;
        }
        return { session, reused: false };
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(session: SmtpSession): void {
    if (this.closed || !session.usable || session.messages >= this.settings.maxMessages) {
      this.retire(session);
      return;
    }
    this.idle.push(session);
    const timer = setTimeout(() => {
      this.forget(session);
      this.retire(session);
    }, this.settings.idleMs ?? 30_000);
    timer.unref();
    this.idleTimers.set(session, timer);
    this.waiting.shift()?.();
  }

  /** Ends a session; its 'end' frees its place for a new one. */
  private retire(session: SmtpSession): void {
    if (session.usable) session.quit();
    else session.close();
  }

  private forget(session: SmtpSession | undefined): void {
    if (!session) return;
    const at = this.idle.indexOf(session);
    if (at >= 0) this.idle.splice(at, 1);
    clearTimeout(this.idleTimers.get(session));
    this.idleTimers.delete(session);
  }
}

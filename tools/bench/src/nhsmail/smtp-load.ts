import { randomUUID } from 'node:crypto';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { Samples } from '../support/stats';

/** One plain SMTP connection driven a command at a time (no PIPELINING), as smtp-source does by default. */
class Conversation {
  private buffer = '';
  private waiting?: () => void;
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1');
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number, localAddress?: string): Promise<Conversation> {
    const socket = connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const conversation = new Conversation(socket);
    await conversation.expect('220');
    return conversation;
  }

  /** The next complete reply (the last line's code first); throws once the connection is gone. */
  async reply(): Promise<string> {
    for (;;) {
      const match = /(^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(this.buffer);
      if (match) {
        const end = match.index + match[0].length;
        const text = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end);
        return text.slice(match.index === 0 ? 0 : match.index + 2);
      }
      if (this.closed) throw new Error('connection closed');
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.waiting = undefined;
    }
  }

  async expect(code: string, line?: string | Buffer): Promise<string> {
    if (line !== undefined) this.socket.write(line);
    const answer = await this.reply();
    if (!answer.startsWith(code)) throw new SmtpRefusal(answer.trim());
    return answer;
  }

  /** Writes a large body with back-pressure. */
  async writeAll(data: Buffer): Promise<void> {
    if (!this.socket.write(data)) {
      await new Promise<void>((resolve, reject) => {
        this.socket.once('drain', resolve);
        this.socket.once('close', () => reject(new Error('connection closed')));
      });
    }
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  close(): void {
    this.socket.end('QUIT\r\n');
    this.socket.destroySoon();
  }
}

export class SmtpRefusal extends Error {}

/** A 5 KB-ish message (headers and a body of 76-character lines) with its own Message-ID. */
export function testMessage(from: string, to: string, sizeBytes: number): { messageId: string; data: Buffer } {
  const messageId = `<${randomUUID()}@bench.invalid>`;
  const head =
    `From: <${from}>\r\nTo: <${to}>\r\nSubject: benchmark\r\nDate: ${new Date().toUTCString()}\r\n` +
    `Message-ID: ${messageId}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n`;
  const line = `${'x'.repeat(76)}\r\n`;
  const lines = Math.max(1, Math.floor((sizeBytes - head.length) / line.length));
  return { messageId, data: Buffer.from(head + line.repeat(lines), 'latin1') };
}

export interface SmtpLoadOptions {
  port: number;
  connections: number;
  /** Messages in all (shared by the connections), or until `stop()` answers true. */
  messages: number;
  message: (index: number) => { messageId: string; data: Buffer };
  from: string;
  to: string;
  localAddress?: string;
  /** Called on each 250 after DATA, with the message's Message-ID. */
  onAccepted?: (messageId: string) => void;
  stop?: () => boolean;
}

export interface SmtpLoadResult {
  accepted: number;
  /** Answered 4xx/5xx at some step. */
  refused: number;
  /** Connection broke before the final answer. */
  broken: number;
  seconds: number;
  /** End-of-DATA (the final CRLF.CRLF written) to the 250, ms, sorted ascending. */
  acceptMs: Float64Array;
  firstRefusal?: string;
}

/**
 * The load generator with per-message timing smtp-source lacks: `connections` SMTP sessions, each sending
 * one message after another (MAIL, RCPT, DATA, the message, the final dot), timing from the final dot to
 * the server's reply. A broken connection stops that session; the others carry on.
 */
export async function runSmtpLoad(options: SmtpLoadOptions): Promise<SmtpLoadResult> {
  let next = 0;
  let accepted = 0;
  let refused = 0;
  let broken = 0;
  let firstRefusal: string | undefined;
  const samples = new Samples();
  const started = performance.now();
  const session = async (): Promise<void> => {
    let conversation: Conversation;
    try {
      conversation = await Conversation.open(options.port, options.localAddress);
      await conversation.expect('250', 'EHLO load.bench.invalid\r\n');
    } catch (error) {
      broken += 1;
      firstRefusal ??= error instanceof Error ? error.message : String(error);
      return;
    }
    while (next < options.messages && !options.stop?.()) {
      const index = next;
      next += 1;
      const { messageId, data } = options.message(index);
      try {
        await conversation.expect('250', `MAIL FROM:<${options.from}>\r\n`);
        await conversation.expect('250', `RCPT TO:<${options.to}>\r\n`);
        await conversation.expect('354', 'DATA\r\n');
        await conversation.writeAll(data);
        const sent = performance.now();
        await conversation.expect('250', '\r\n.\r\n');
        samples.push(performance.now() - sent);
        accepted += 1;
        options.onAccepted?.(messageId);
      } catch (error) {
        if (error instanceof SmtpRefusal) {
          refused += 1;
          firstRefusal ??= error.message;
          if (conversation.closed) return;
          try {
            await conversation.expect('250', 'RSET\r\n');
          } catch {
            return;
          }
          continue;
        }
        broken += 1;
        return;
      }
    }
    conversation.close();
  };
  await Promise.all(Array.from({ length: options.connections }, () => session()));
  return {
    accepted,
    refused,
    broken,
    seconds: (performance.now() - started) / 1000,
    acceptMs: samples.sorted(),
    ...(firstRefusal ? { firstRefusal } : {}),
  };
}

/** A sink that records the Message-ID of every message it is given (the kill test counts them). */
export interface RecordingSink {
  port: number;
  counts: Map<string, number>;
  stop(): Promise<void>;
}

export async function startRecordingSink(): Promise<RecordingSink> {
  const counts = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 64 * 1024 * 1024,
    onData(stream, _session, done) {
      let head = '';
      stream.on('data', (chunk: Buffer) => {
        if (head.length < 16_384) head += chunk.toString('latin1');
      });
      stream.on('end', () => {
        const id = /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(head)?.[1] ?? '(none)';
        counts.set(id, (counts.get(id) ?? 0) + 1);
        done();
      });
    },
  });
  // A relay killed mid-delivery leaves a broken connection: the sink's problem only.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.server.address() as AddressInfo).port,
    counts,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

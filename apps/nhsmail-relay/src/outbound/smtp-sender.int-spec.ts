import { createHash, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { MessageSigner, SmtpPool, sendOnce, targetOfUrl, type SmtpTarget } from './smtp-sender';

/** A real SMTP server on loopback that counts what a sender does to it. */
interface Server {
  port: number;
  /** Connections opened so far, and the most open at once. */
  connections: number;
  mostAtOnce: number;
  /** RSET commands received. */
  resets: number;
  received: { to: string; headers: string; bodyHash: string; bodyBytes: number; secure: boolean }[];
  users: { user: string; pass: string }[];
  /** Drops every open connection from the server's side. */
  dropAll(): void;
  stop(): Promise<void>;
}

async function startServer(options: Partial<SMTPServerOptions> = {}): Promise<Server> {
  const sockets = new Set<Socket>();
  const state: Server = {
    port: 0,
    connections: 0,
    mostAtOnce: 0,
    resets: 0,
    received: [],
    users: [],
    dropAll: () => sockets.forEach((socket) => socket.destroy()),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, done) {
      const refusal = /^(reject|defer)/.exec(address.address)?.[1];
      if (!refusal) return done();
      const error = new Error(refusal === 'reject' ? '5.1.1 no such user here' : '4.2.1 mailbox busy, try later');
      return done(Object.assign(error, { responseCode: refusal === 'reject' ? 550 : 451 }));
    },
    // The body is hashed as it arrives (the headers kept), so the server holds no whole message either.
    onData(stream, session, done) {
      let head = Buffer.alloc(0);
      let headers: string | undefined;
      let bodyBytes = 0;
      const hash = createHash('sha256');
      stream.on('data', (chunk: Buffer) => {
        if (headers !== undefined) {
          bodyBytes += chunk.length;
          hash.update(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        headers = head.subarray(0, end + 2).toString('latin1');
        const body = head.subarray(end + 4);
        bodyBytes += body.length;
        hash.update(body);
      });
      stream.on('end', () => {
        state.received.push({
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address).join(','),
          headers: headers ?? head.toString('latin1'),
          bodyHash: hash.digest('base64'),
          bodyBytes,
          secure: session.secure,
        });
        done();
      });
    },
    ...options,
  });
  let open = 0;
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    state.connections += 1;
    open += 1;
    state.mostAtOnce = Math.max(state.mostAtOnce, open);
    socket.on('data', (data: Buffer) => {
      state.resets += (data.toString('latin1').match(/^RSET\r\n/gm) ?? []).length;
    });
    socket.once('close', () => {
      sockets.delete(socket);
      open -= 1;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.server.address() as { port: number }).port;
  return state;
}

/**
 * The DKIM signature of a received message, checked as a receiver would (relaxed/relaxed, rsa-sha256): its
 * body hash when the header hash verifies with the public key and the body hash is the received body's.
 */
function verifiedSignature(received: Server['received'][number], publicKey: KeyObject): { bodyHash: string } | null {
  const headers = received.headers.split(/\r\n(?![ \t])/).filter(Boolean);
  const signature = headers.find((header) => /^DKIM-Signature:/i.test(header));
  if (!signature) return null;
  const tags = new Map(
    signature
      .slice(signature.indexOf(':') + 1)
      .replace(/\s+/g, '')
      .split(';')
      .filter(Boolean)
      .map((tag) => [tag.slice(0, tag.indexOf('=')), tag.slice(tag.indexOf('=') + 1)] as const),
  );
  if (tags.get('c') !== 'relaxed/relaxed' || tags.get('bh') !== received.bodyHash) return null;
  const relaxed = (header: string): string =>
    `${header.slice(0, header.indexOf(':')).trim().toLowerCase()}:${header
      .slice(header.indexOf(':') + 1)
      .replace(/\r\n/g, '')
      .replace(/[ \t]+/g, ' ')
      .trim()}`;
  const signedNames = (tags.get('h') ?? '').split(':');
  if (!signedNames.includes('subject')) return null;
  const signed = signedNames
    .map((name) => headers.find((header) => header.toLowerCase().startsWith(`${name.toLowerCase()}:`)))
    .filter((header): header is string => header !== undefined)
    .map((header) => `${relaxed(header)}\r\n`)
    .join('');
  const unsigned = relaxed(signature).replace(/([;\s]b=)[^;]*/, '$1');
  const valid = verify(
    'sha256',
    Buffer.from(signed + unsigned, 'latin1'),
    publicKey,
    Buffer.from(tags.get('b') ?? '', 'base64'),
  );
  return valid ? { bodyHash: received.bodyHash } : null;
}

const message = (subject: string): Buffer =>
  Buffer.from(`From: jane.smith@nhs.net\r\nTo: someone@example.org\r\nSubject: ${subject}\r\n\r\nhello\r\n`);

const until = async (done: () => boolean): Promise<void> => {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > 5000) throw new Error('condition not met in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('SMTP sender (nodemailer SMTPConnection and DKIM, without the mailer)', () => {
  let server: Server;
  let pool: SmtpPool | undefined;
  const target = (): SmtpTarget => ({ host: '127.0.0.1', port: server.port, secure: false, name: 'relay.nhs.net' });

  afterEach(async () => {
    pool?.close();
    pool = undefined;
    await server.stop();
  });

  it('sends message after message over one connection, without RSET between them', async () => {
    server = await startServer();
    pool = new SmtpPool({ ...target(), maxConnections: 2, maxMessages: 1000 });
    for (let n = 1; n <= 5; n += 1) {
      const outcome = await pool.send({ from: 'jane.smith@nhs.net', to: `someone${n}@example.org` }, () =>
        message(`number ${n}`),
      );
      expect(outcome).toEqual({ kind: 'delivered' });
    }
    expect(server.received.map((mail) => mail.to)).toEqual([1, 2, 3, 4, 5].map((n) => `someone${n}@example.org`));
    expect(server.connections).toBe(1);
    expect(server.resets).toBe(0);
  });

  it('opens at most maxConnections for messages sent at once, and opens a new one after maxMessages', async () => {
    server = await startServer();
    pool = new SmtpPool({ ...target(), maxConnections: 3, maxMessages: 4 });
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, n) =>
        pool!.send({ from: 'jane.smith@nhs.net', to: `someone${n}@example.org` }, () => message(`at once ${n}`)),
      ),
    );
    expect(outcomes.every((outcome) => outcome.kind === 'delivered')).toBe(true);
    expect(server.received).toHaveLength(12);
    expect(server.mostAtOnce).toBeLessThanOrEqual(3);
    // 12 messages, at most 4 per connection.
    expect(server.connections).toBeGreaterThanOrEqual(3);
  });

  it('replaces a connection the server closed while idle, and one it ends with 421 as the next message starts', async () => {
    server = await startServer({
      // The second message of a session is answered 421 (the server going away) at MAIL FROM.
      onMailFrom(_address, session, done) {
        if (session.transaction === 2 && server.connections === 2) {
          return done(Object.assign(new Error('4.3.2 shutting down'), { responseCode: 421 }));
        }
        done();
      },
    });
    pool = new SmtpPool({ ...target(), maxConnections: 1, maxMessages: 1000 });
    const send = (n: number) =>
      pool!.send({ from: 'jane.smith@nhs.net', to: `someone${n}@example.org` }, () => message(`again ${n}`));
    expect(await send(1)).toEqual({ kind: 'delivered' });
    server.dropAll();
    await until(() => server.connections === 1 && server.mostAtOnce === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await send(2)).toEqual({ kind: 'delivered' });
    expect(server.connections).toBe(2);
    // On the second connection: its second message meets the 421 and goes over a third connection.
    expect(await send(3)).toEqual({ kind: 'delivered' });
    expect(server.connections).toBe(3);
    expect(server.received.map((mail) => mail.to)).toEqual([
      'someone1@example.org',
      'someone2@example.org',
      'someone3@example.org',
    ]);
  });

  it('a 421 on a new connection is a temporary failure, not a loop', async () => {
    server = await startServer({
      onMailFrom(_address, _session, done) {
        done(Object.assign(new Error('4.3.2 shutting down'), { responseCode: 421 }));
      },
    });
    pool = new SmtpPool({ ...target(), maxConnections: 1, maxMessages: 1000 });
    const outcome = await pool.send({ from: 'jane.smith@nhs.net', to: 'someone@example.org' }, () => message('x'));
    expect(outcome).toEqual({ kind: 'temporary', reason: expect.stringContaining('421 4.3.2 shutting down') });
    expect(server.connections).toBe(1);
  });

  it('tells a 5xx refusal (permanent) from a 4xx one (temporary), and keeps the connection after RSET', async () => {
    server = await startServer();
    pool = new SmtpPool({ ...target(), maxConnections: 1, maxMessages: 1000 });
    const to = (recipient: string) =>
      pool!.send({ from: 'jane.smith@nhs.net', to: recipient }, () => message(`to ${recipient}`));
    expect(await to('reject.me@example.org')).toEqual({
      kind: 'permanent',
      reason: expect.stringMatching(/^550 5\.1\.1 no such user here/),
    });
    expect(await to('defer.me@example.org')).toEqual({
      kind: 'temporary',
      reason: expect.stringMatching(/^451 4\.2\.1 mailbox busy, try later/),
    });
    expect(await to('someone@example.org')).toEqual({ kind: 'delivered' });
    expect(server.received.map((mail) => mail.to)).toEqual(['someone@example.org']);
    expect(server.connections).toBe(1);
    expect(server.resets).toBe(2);
  });

  it('a server that is not there is a temporary failure', async () => {
    server = await startServer();
    const port = server.port;
    await server.stop();
    server = await startServer();
    const outcome = await sendOnce(
      { host: '127.0.0.1', port, secure: false, name: 'relay.nhs.net' },
      undefined,
      { from: 'jane.smith@nhs.net', to: 'someone@example.org' },
      () => message('nowhere'),
    );
    expect(outcome).toEqual({ kind: 'temporary', reason: expect.stringMatching(/ECONNREFUSED|connect/) });
  });

  it('uses STARTTLS when offered, with the TLS options given (opportunistic: a self-signed certificate)', async () => {
    server = await startServer({ disabledCommands: ['AUTH'] });
    const outcome = await sendOnce(
      { ...target(), tls: { rejectUnauthorized: false } },
      undefined,
      { from: 'jane.smith@nhs.net', to: 'someone@example.org' },
      () => message('over TLS'),
    );
    expect(outcome).toEqual({ kind: 'delivered' });
    expect(server.received[0]?.secure).toBe(true);
  });

  it('logs in with the user and password of a smarthost URL', async () => {
    server = await startServer({
      disabledCommands: ['STARTTLS'],
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(auth, _session, done) {
        server.users.push({ user: auth.username ?? '', pass: auth.password ?? '' });
        done(null, { user: auth.username });
      },
    });
    pool = new SmtpPool({
      ...targetOfUrl(`smtp://relay%40nhs.net:p%40ss%3Aword@127.0.0.1:${server.port}`, 'relay.nhs.net'),
      maxConnections: 1,
      maxMessages: 1000,
    });
    const outcome = await pool.send({ from: 'jane.smith@nhs.net', to: 'someone@example.org' }, () => message('auth'));
    expect(outcome).toEqual({ kind: 'delivered' });
    expect(server.users).toEqual([{ user: 'relay@nhs.net', pass: 'p@ss:word' }]);
  });

  it('a smarthost refusing the login (535, a rotated password) is a temporary failure with its reply, not a bounce', async () => {
    server = await startServer({
      disabledCommands: ['STARTTLS'],
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(_auth, _session, done) {
        done(Object.assign(new Error('5.7.8 Invalid username or password'), { responseCode: 535 }));
      },
    });
    pool = new SmtpPool({
      ...targetOfUrl(`smtp://relay%40nhs.net:old-password@127.0.0.1:${server.port}`, 'relay.nhs.net'),
      maxConnections: 1,
      maxMessages: 1000,
    });
    const outcome = await pool.send({ from: 'jane.smith@nhs.net', to: 'someone@example.org' }, () =>
      message('login refused'),
    );
    expect(outcome).toEqual({
      kind: 'temporary',
      reason: expect.stringMatching(/^535 5\.7\.8 Invalid username or password/),
    });
    expect(server.received).toEqual([]);
  });

  it('a server refusing the session at its greeting (554) is a temporary failure with its reply', async () => {
    server = await startServer({
      onConnect(_session, done) {
        done(Object.assign(new Error('5.7.1 Not taking mail from you now'), { responseCode: 554 }));
      },
    });
    const outcome = await sendOnce(target(), undefined, { from: 'jane.smith@nhs.net', to: 'someone@example.org' }, () =>
      message('greeting refused'),
    );
    expect(outcome).toEqual({
      kind: 'temporary',
      reason: expect.stringMatching(/^554 5\.7\.1 Not taking mail from you now/),
    });
    expect(server.received).toEqual([]);
  });

  it('a reused connection lost after the message was sent is not sent again at once: once per attempt', async () => {
    // The server takes the message "lost reply" in full, then drops the connection before it answers.
    server = await startServer({
      onData(stream, _session, done) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const text = Buffer.concat(chunks).toString('latin1');
          server.received.push({ to: '', headers: text, bodyHash: '', bodyBytes: text.length, secure: false });
          if (text.includes('Subject: lost reply')) server.dropAll();
          else done();
        });
      },
    });
    pool = new SmtpPool({ ...target(), maxConnections: 1, maxMessages: 1000 });
    const send = (subject: string) =>
      pool!.send({ from: 'jane.smith@nhs.net', to: 'someone@example.org' }, () => message(subject));
    const copies = () => server.received.filter((mail) => mail.headers.includes('Subject: lost reply')).length;
    expect(await send('first')).toEqual({ kind: 'delivered' });
    // The second message goes over the first message's connection.
    expect(await send('lost reply')).toEqual({ kind: 'temporary', reason: expect.any(String) });
    expect(copies()).toBe(1);
    expect(server.connections).toBe(1);
    // The next attempt (the retry machinery's) sends it once more, over a new connection.
    expect(await send('lost reply')).toEqual({ kind: 'temporary', reason: expect.any(String) });
    expect(copies()).toBe(2);
    expect(server.connections).toBe(2);
    // The pool goes on over a new connection.
    expect(await send('after')).toEqual({ kind: 'delivered' });
  });

  it('signs messages held whole in the signing thread: 40 at once, each verifiable by a receiver, each sent once', async () => {
    server = await startServer();
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'nhsmail-sender-test-'));
    const signer = new MessageSigner({
      domainName: 'nhs.net',
      keySelector: 'relay',
      privateKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      cacheDir,
    });
    try {
      pool = new SmtpPool({ ...target(), maxConnections: 3, maxMessages: 1000 }, signer);
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, n) =>
          pool!.send({ from: 'jane.smith@nhs.net', to: `someone${n}@example.org` }, () => message(`results ${n}`)),
        ),
      );

      expect(outcomes.every((outcome) => outcome.kind === 'delivered')).toBe(true);
      expect(server.received).toHaveLength(40);
      const subjects = server.received.map((mail) => /Subject: (results \d+)/.exec(mail.headers)?.[1]).sort();
      expect(new Set(subjects).size).toBe(40);
      for (const mail of server.received) expect(verifiedSignature(mail, keys.publicKey)).not.toBeNull();
      // Signed as it was stored: the signature is added in front, nothing else changes.
      const first = server.received.find((mail) => mail.headers.includes('Subject: results 0'))!;
      expect(first.headers.slice(first.headers.indexOf('\r\nFrom:') + 2)).toBe(
        'From: jane.smith@nhs.net\r\nTo: someone@example.org\r\nSubject: results 0\r\n',
      );
      expect(server.mostAtOnce).toBeLessThanOrEqual(3);
    } finally {
      await signer.close();
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('streams a 60 MB message with a DKIM signature a receiver can verify, without holding it in memory', async () => {
    server = await startServer();
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'nhsmail-sender-test-'));
    try {
      const signer = new MessageSigner({
        domainName: 'nhs.net',
        keySelector: 'relay',
        privateKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
        cacheDir,
      });
      pool = new SmtpPool({ ...target(), maxConnections: 1, maxMessages: 1000 }, signer);
      const block = Buffer.from(`${'x'.repeat(76)}\r\n`.repeat(840));
      const blocks = Math.ceil((60 * 1024 * 1024) / block.length);
      const expectedHash = createHash('sha256');
      for (let n = 0; n < blocks; n += 1) expectedHash.update(block);
      const content = (): Readable =>
        Readable.from(
          (function* () {
            yield Buffer.from(
              'From: jane.smith@nhs.net\r\nTo: someone@example.org\r\nSubject: scans\r\nMessage-ID: <big@nhs.net>\r\n\r\n',
            );
            for (let n = 0; n < blocks; n += 1) yield block;
          })(),
        );

      const before = process.memoryUsage().arrayBuffers;
      let peak = before;
      let cachedBytes = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers);
        for (const file of readdirSync(cacheDir)) {
          try {
            cachedBytes = Math.max(cachedBytes, statSync(path.join(cacheDir, file)).size);
          } catch {
            // removed after sending
          }
        }
      }, 5);
      const outcome = await pool.send({ from: 'jane.smith@nhs.net', to: 'someone@example.org' }, content);
      clearInterval(sampler);

      expect(outcome).toEqual({ kind: 'delivered' });
      const [received] = server.received;
      expect(received?.bodyBytes).toBe(blocks * block.length);
      // The body waited in a file (mode 0600) while it was hashed, not in memory, and the file goes once it has
      // been read out: all but the first megabyte went there, and sending and receiving (both in this process, their garbage not
      // yet collected) never held as much as the message.
      expect(cachedBytes).toBeGreaterThan(55 * 1024 * 1024);
      await until(() => readdirSync(cacheDir).length === 0);
      expect(peak - before).toBeLessThan(48 * 1024 * 1024);

      expect(verifiedSignature(received, keys.publicKey)).toEqual({ bodyHash: expectedHash.digest('base64') });
      expect(received.headers).toContain('Subject: scans');
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});

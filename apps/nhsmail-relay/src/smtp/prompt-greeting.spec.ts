import { connect, type AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { PromptGreetingSmtpServer } from './prompt-greeting';

/** Connects, and records every line the server sends for `listenMs`, with the time of the first. */
function greetingOf(port: number, listenMs = 1000): Promise<{ firstMs: number; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstMs = -1;
    let text = '';
    const socket = connect(port, '127.0.0.1');
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      if (firstMs < 0) firstMs = performance.now() - started;
      text += chunk.toString('latin1');
    });
    setTimeout(() => {
      socket.destroy();
      resolve({ firstMs, lines: text.split('\r\n').filter(Boolean) });
    }, listenMs);
  });
}

/** A whole session: greeting, EHLO, MAIL, RCPT, DATA, QUIT; the replies' codes in order. */
function session(port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const commands = ['EHLO client.example', 'MAIL FROM:<a@b.example>', 'RCPT TO:<c@d.example>', 'DATA'];
    const codes: string[] = [];
    let buffer = '';
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (line[3] === '-') continue;
        codes.push(line.slice(0, 3));
        const next = commands.shift();
        if (next) socket.write(`${next}\r\n`);
        else if (line.startsWith('354')) socket.write('Subject: x\r\n\r\nhello\r\n.\r\n');
        else if (line.startsWith('250') && codes.length === 6) socket.write('QUIT\r\n');
        else if (line.startsWith('221')) {
          socket.end();
          resolve(codes);
        }
      }
    });
  });
}

describe('PromptGreetingSmtpServer', () => {
  let server: PromptGreetingSmtpServer;
  let plain: SMTPServer;
  let port: number;
  let plainPort: number;
  const options: ConstructorParameters<typeof SMTPServer>[0] = {
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    disableReverseLookup: true,
    onData(stream, _session, done) {
      stream.resume();
      stream.on('end', () => done());
    },
  };
  const listen = async (each: SMTPServer): Promise<number> => {
    await new Promise<void>((resolve) => each.listen(0, '127.0.0.1', () => resolve()));
    return (each.server.address() as AddressInfo).port;
  };

  beforeAll(async () => {
    server = new PromptGreetingSmtpServer(options);
    port = await listen(server);
    // The library as it is, for comparison: it holds every greeting back by its 100 ms timer.
    plain = new SMTPServer(options);
    plainPort = await listen(plain);
  });

  afterAll(async () => {
    await Promise.all([server, plain].map((each) => new Promise<void>((resolve) => each.close(() => resolve()))));
  });

  it('greets 40 simultaneous clients without the library’s 100 ms pause, each exactly once', async () => {
    const greetings = await Promise.all(Array.from({ length: 40 }, () => greetingOf(port)));
    for (const { firstMs, lines } of greetings) {
      // Past the library's own 100 ms timer, which must not greet a second time.
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^220 /);
      expect(firstMs).toBeGreaterThanOrEqual(0);
    }
    // Unloaded, each greeting takes a millisecond or two. The library alone, on the same machine at the same
    // moment, takes at least its 100 ms for every one: whatever the load, most prompt greetings come first.
    const sorted = greetings.map((greeting) => greeting.firstMs).sort((a, b) => a - b);
    const held = (await Promise.all(Array.from({ length: 40 }, () => greetingOf(plainPort)))).map((g) => g.firstMs);
    expect(Math.min(...held)).toBeGreaterThanOrEqual(95);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(Math.min(...held));
  });

  it('serves whole sessions as before on 20 simultaneous connections', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => session(port)));
    for (const codes of results) expect(codes).toEqual(['220', '250', '250', '250', '354', '250', '221']);
  });
});

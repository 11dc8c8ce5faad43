import { connect as connectTcp } from 'node:net';
import { SignJWT } from 'jose';
import { startBuiltGateway, TEST_GATEWAY_ISSUER, type BuiltGateway } from '@platform/testing-services';
import { startTestJwks, startTestNats, type TestJwks, type TestNats } from '@platform/shared-testing';
import { LINGER_LIMITS } from './error-response';

const issuer = TEST_GATEWAY_ISSUER;
const PATIENT = '/personal-demographics/FHIR/R4/Patient';
const MiB = 1024 * 1024;

interface Outcome {
  /** The status of the answer the client read, 0 when it read none. */
  status: number;
  head: string;
  /** Body bytes the client handed to its socket. */
  sent: number;
  /** Whether the gateway ended the connection (rather than the client giving up). */
  closedByGateway: boolean;
}

/**
 * A client that sends its request's head and then its body flat out (256 KiB writes, waiting only for the
 * socket's drain, never for the answer), as curl or a browser uploading a file does. `bodyBytes` undefined
 * sends an endless chunked body. It never stops sending on its own, not even on the gateway's FIN (its socket
 * is half-open): only the gateway's close stops it.
 */
function sendFlatOut(port: number, head: string, bodyBytes: number | undefined): Promise<Outcome> {
  return new Promise((resolve) => {
    const chunked = /^transfer-encoding: chunked$/im.test(head);
    const piece = Buffer.alloc(256 * 1024, 0x20);
    const socket = connectTcp({ host: '127.0.0.1', port, allowHalfOpen: true });
    let received = '';
    let sent = 0;
    let gaveUp = false;
    let gatewayEnded = false;
    // Once both have nothing more to send, the client closes its side too.
    const finishIfDone = (): void => {
      if (gatewayEnded && bodyBytes !== undefined && sent >= bodyBytes) socket.end();
    };
    const pump = (): void => {
      while (!socket.destroyed && (bodyBytes === undefined || sent < bodyBytes)) {
        const data = piece.subarray(
          0,
          bodyBytes === undefined ? piece.length : Math.min(piece.length, bodyBytes - sent),
        );
        sent += data.length;
        const framed = chunked
          ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')])
          : data;
        const last = chunked && bodyBytes !== undefined && sent >= bodyBytes;
        if (!socket.write(last ? Buffer.concat([framed, Buffer.from('0\r\n\r\n')]) : framed)) {
          socket.once('drain', pump);
          return;
        }
      }
      finishIfDone();
    };
    socket.on('connect', () => {
      socket.write(head);
      pump();
    });
    socket.on('data', (data: Buffer) => (received += data.toString('latin1')));
    socket.on('end', () => {
      gatewayEnded = true;
      finishIfDone();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
      resolve({ status, head: received.split('\r\n\r\n')[0] ?? '', sent, closedByGateway: !gaveUp });
    });
    // Far beyond the linger's bound: only reached if the gateway never closes.
    socket.setTimeout(20_000, () => {
      gaveUp = true;
      socket.destroy();
    });
  });
}

function postHead(headers: Record<string, string>): string {
  const lines = Object.entries({
    host: '127.0.0.1',
    'x-request-id': crypto.randomUUID(),
    'content-type': 'application/fhir+json',
    ...headers,
  }).map(([name, value]) => `${name}: ${value}`);
  return `POST ${PATIENT} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** Runs `count` calls of `task`, `width` at a time. */
async function inWaves<T>(count: number, width: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < count; start += width) {
    const wave = Array.from({ length: Math.min(width, count - start) }, (_, offset) => task(start + offset));
    results.push(...(await Promise.all(wave)));
  }
  return results;
}

/**
 * The gateway refuses an anonymous, forbidden or oversized request before reading its body. It then closes the
 * connection with a lingering close (error-response lingerBeforeClose): the answer, a FIN, and the rest of the
 * body read and dropped for a bounded time, so a client sending flat out reads its answer instead of a reset.
 * Runs the built gateway (real Fastify, real sockets, real NATS).
 */
describe('the gateway lingers before closing a refused upload', () => {
  let nats: TestNats;
  let jwks: TestJwks;
  let gateway: BuiltGateway;
  let port: number;

  beforeAll(async () => {
    nats = await startTestNats();
    jwks = await startTestJwks();
    gateway = await startBuiltGateway({ natsUrl: nats.url, jwksUrl: jwks.url });
    port = gateway.port;
  });

  afterAll(async () => {
    await gateway?.stop();
    await jwks?.stop();
    await nats?.stop();
  });

  it('lets 48 anonymous clients sending 8 MiB bodies flat out each read their 401', async () => {
    const outcomes = await inWaves(48, 4, (index) =>
      sendFlatOut(
        port,
        postHead(index % 2 === 0 ? { 'content-length': String(8 * MiB) } : { 'transfer-encoding': 'chunked' }),
        // The chunked ones never end their body: they stop when the gateway closes.
        index % 2 === 0 ? 8 * MiB : undefined,
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(outcomes.map(() => 401));
    expect(outcomes.every((outcome) => /^connection: close$/im.test(outcome.head))).toBe(true);
    expect(outcomes.every((outcome) => outcome.closedByGateway)).toBe(true);
  });

  it('lets an admitted client sending an oversized body flat out read its 413, a dozen times over', async () => {
    const bearer = await new SignJWT({
      typ: 'Bearer',
      aud: 'nhs-platform',
      azp: 'platform-cli',
      realm_access: { roles: ['clinician'] },
      nhsd_organisations: ['A83008'],
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'k' })
      .setIssuer(issuer)
      .setSubject('clinician-linger')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(jwks.privateKey);
    const outcomes = await inWaves(12, 3, () =>
      sendFlatOut(port, postHead({ authorization: `Bearer ${bearer}`, 'transfer-encoding': 'chunked' }), undefined),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(outcomes.map(() => 413));
    expect(outcomes.every((outcome) => outcome.closedByGateway)).toBe(true);
  });

  it('closes on a client that never stops sending once the linger bound is reached', async () => {
    const endless = await sendFlatOut(port, postHead({ 'transfer-encoding': 'chunked' }), undefined);
    expect(endless.status).toBe(401);
    expect(endless.closedByGateway).toBe(true);
    // Discarded bytes stop near the bound: it is checked every few milliseconds, and the two sockets' buffers
    // hold some more (loopback moves about 1 GB/s here).
    expect(endless.sent).toBeLessThan(2 * LINGER_LIMITS.bytes + 64 * MiB);
  });

  it('closes on a client that trickles its body slowly once the linger time is up', async () => {
    const outcome = await new Promise<Outcome>((resolve) => {
      const socket = connectTcp({ host: '127.0.0.1', port, allowHalfOpen: true });
      let received = '';
      let sent = 0;
      let gaveUp = false;
      // One byte of chunked body every 100 ms: never idle long enough for the idle bound, so only the total
      // bound ends it.
      const drip = setInterval(() => {
        if (socket.destroyed) return;
        sent += 1;
        socket.write(sent === 1 ? '1000\r\n' : 'a');
      }, 100);
      socket.on('connect', () => socket.write(postHead({ 'transfer-encoding': 'chunked' })));
      socket.on('data', (data: Buffer) => (received += data.toString('latin1')));
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        clearInterval(drip);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
        resolve({ status, head: '', sent, closedByGateway: !gaveUp });
      });
      socket.setTimeout(20_000, () => {
        gaveUp = true;
        socket.destroy();
      });
    });
    expect(outcome.status).toBe(401);
    expect(outcome.closedByGateway).toBe(true);
    // It kept dripping until the gateway closed: at most one byte per 100 ms of the total bound, and more
    // than the idle bound's worth (the idle bound never fired).
    expect(outcome.sent).toBeLessThanOrEqual(LINGER_LIMITS.totalMs / 100 + 10);
    expect(outcome.sent).toBeGreaterThan(LINGER_LIMITS.idleMs / 100);
  });
});

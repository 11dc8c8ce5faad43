import { createSocket, type RemoteInfo } from 'node:dgram';

/** What the test DNS server answers for one name. */
export interface TestZoneEntry {
  mx?: { preference: number; exchange: string }[];
  a?: string[];
  /** Answer SERVFAIL (a DNS server failing: a temporary failure for the relay). */
  servfail?: boolean;
}

export interface TestDnsServer {
  /** `127.0.0.1:<port>`, for NHSMAIL_DNS_SERVERS. */
  server: string;
  /** The zone, by lower-case name without the final dot; change it at will between queries. */
  zone: Map<string, TestZoneEntry>;
  /** Queries asked, as `name TYPE`. */
  queries: string[];
  stop(): Promise<void>;
}

const TYPE = { A: 1, MX: 15, AAAA: 28 } as const;
const TYPE_NAMES = new Map<number, string>([
  [1, 'A'],
  [15, 'MX'],
  [28, 'AAAA'],
]);

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([
    ...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])),
    Buffer.from([0]),
  ]);
}

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

function record(type: number, data: Buffer): Buffer {
  const ttl = Buffer.alloc(4);
  ttl.writeUInt32BE(60);
  // The name is a pointer to the question's (offset 12).
  return Buffer.concat([u16(0xc00c), u16(type), u16(1), ttl, u16(data.length), data]);
}

/**
 * A TEST-ONLY authoritative DNS server over UDP on loopback (node's dgram; RFC 1035 message format written
 * here, the few record types the relay asks: MX, A, AAAA). A name in the zone without the asked type is an
 * empty NOERROR answer (NODATA); a name not in the zone is NXDOMAIN.
 */
export async function startTestDnsServer(zone: Map<string, TestZoneEntry> = new Map()): Promise<TestDnsServer> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (query: Buffer, peer: RemoteInfo) => {
    if (query.length < 17) return;
    // The question: labels from offset 12, then QTYPE and QCLASS.
    const labels: string[] = [];
    let offset = 12;
    while (offset < query.length && query[offset] !== 0) {
      const length = query[offset] ?? 0;
      labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
      offset += length + 1;
    }
    const questionEnd = offset + 5;
    const type = query.readUInt16BE(offset + 1);
    const name = labels.join('.').toLowerCase();
    queries.push(`${name} ${TYPE_NAMES.get(type) ?? type}`);
    const entry = zone.get(name);
    let rcode = 0;
    const answers: Buffer[] = [];
    if (!entry) rcode = 3;
    else if (entry.servfail) rcode = 2;
    else if (type === TYPE.MX) {
      for (const mx of entry.mx ?? [])
        answers.push(record(TYPE.MX, Buffer.concat([u16(mx.preference), encodeName(mx.exchange)])));
    } else if (type === TYPE.A) {
      for (const address of entry.a ?? []) answers.push(record(TYPE.A, Buffer.from(address.split('.').map(Number))));
    }
    // Header: the query's ID, QR + opcode 0 + AA, RD copied, RA, the rcode; one question, the answers.
    const flags = 0x8400 | ((query.readUInt16BE(2) & 0x0100) !== 0 ? 0x0100 : 0) | 0x0080 | rcode;
    const reply = Buffer.concat([
      query.subarray(0, 2),
      u16(flags),
      u16(1),
      u16(answers.length),
      u16(0),
      u16(0),
      query.subarray(12, questionEnd),
      ...answers,
    ]);
    socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = socket.address().port;
  return {
    server: `127.0.0.1:${port}`,
    zone,
    queries,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

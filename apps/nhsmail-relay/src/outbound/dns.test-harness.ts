import { createSocket, type RemoteInfo } from 'node:dgram';
import {
  AUTHORITATIVE_ANSWER,
  decode,
  encode,
  RECURSION_AVAILABLE,
  RECURSION_DESIRED,
  type Answer,
  type DecodedPacket,
} from 'dns-packet';

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

/** The reply codes the server gives (RFC 1035 4.1.1): the low four bits of the header's flags. */
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

/** The records of `type` the zone has for `name`: MX and A (any other type has none). */
function answersFor(name: string, type: string, entry: TestZoneEntry): Answer[] {
  if (type === 'MX') return (entry.mx ?? []).map((data) => ({ type: 'MX', name, ttl: 60, data }));
  if (type === 'A') return (entry.a ?? []).map((data) => ({ type: 'A', name, ttl: 60, data }));
  return [];
}

/**
 * A TEST-ONLY authoritative DNS server over UDP on loopback (node's dgram; messages read and written with
 * dns-packet), for the few record types the relay asks: MX, A, AAAA. A name in the zone without the asked type is
 * an empty NOERROR answer (NODATA); a name not in the zone is NXDOMAIN.
 */
export async function startTestDnsServer(zone: Map<string, TestZoneEntry> = new Map()): Promise<TestDnsServer> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (message: Buffer, peer: RemoteInfo) => {
    let query: DecodedPacket;
    try {
      query = decode(message);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase();
    queries.push(`${name} ${question.type}`);
    const entry = zone.get(name);
    const rcode = !entry ? RCODE.NXDOMAIN : entry.servfail ? RCODE.SERVFAIL : RCODE.NOERROR;
    const answers = entry && rcode === RCODE.NOERROR ? answersFor(question.name, question.type, entry) : [];
    // The query's ID and question; authoritative, recursion desired copied, recursion available, the rcode.
    const reply = encode({
      type: 'response',
      id: query.id ?? 0,
      flags: AUTHORITATIVE_ANSWER | (query.flag_rd ? RECURSION_DESIRED : 0) | RECURSION_AVAILABLE | rcode,
      questions: [question],
      answers,
    });
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

import ipaddr from 'ipaddr.js';
import type { IpOwner } from '@platform/contracts-n3';

/** One held block of a connection that carries traffic, with what the lookup answers about it. */
export interface HeldBlock {
  cidr: string;
  owner: Omit<IpOwner, 'ip'>;
}

interface Family {
  /** Prefix lengths in use, longest first. */
  lengths: number[];
  /** network key -> block, per prefix length. */
  byLength: Map<number, Map<string, HeldBlock>>;
}

function emptyFamily(): Family {
  return { lengths: [], byLength: new Map() };
}

const V4_BITS = 32;
const V6_BITS = 128n;

/** The address as a number (IPv4) or bigint (IPv6), and its family. */
function numeric(address: string): { family: 'v4'; value: number } | { family: 'v6'; value: bigint } {
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') {
    const [a = 0, b = 0, c = 0, d = 0] = (parsed as ipaddr.IPv4).octets;
    return { family: 'v4', value: ((a << 24) | (b << 16) | (c << 8) | d) >>> 0 };
  }
  let value = 0n;
  for (const part of (parsed as ipaddr.IPv6).parts) value = (value << 16n) | BigInt(part);
  return { family: 'v6', value };
}

function networkKey(address: ReturnType<typeof numeric>, length: number): string {
  if (address.family === 'v4') {
    const mask = length === 0 ? 0 : (0xffffffff << (V4_BITS - length)) >>> 0;
    return String((address.value & mask) >>> 0);
  }
  const shift = V6_BITS - BigInt(length);
  return ((address.value >> shift) << shift).toString(16);
}

/**
 * The registry's routing table: every block held by a connection that carries traffic, in memory, for the
 * owner-of-IP lookup (longest prefix first, a map probe per prefix length in use, no database round trip).
 * The registry keeps it in step with the database: it loads it whole at start and every minute, and
 * refreshes a connection's entries after each change to it, its own or (through the events) another
 * replica's.
 */
export class OwnerTable {
  private v4 = emptyFamily();
  private v6 = emptyFamily();
  /** connection id -> the blocks it holds here, for replacing them. */
  private byConnection = new Map<string, HeldBlock[]>();

  get size(): number {
    let count = 0;
    for (const blocks of this.byConnection.values()) count += blocks.length;
    return count;
  }

  /** Replaces the whole table. */
  replaceAll(blocks: HeldBlock[]): void {
    this.v4 = emptyFamily();
    this.v6 = emptyFamily();
    this.byConnection = new Map();
    for (const block of blocks) this.add(block);
  }

  /** Replaces one connection's blocks (none when it no longer carries traffic). */
  replaceConnection(connectionId: string, blocks: HeldBlock[]): void {
    for (const block of this.byConnection.get(connectionId) ?? []) this.remove(block);
    this.byConnection.delete(connectionId);
    for (const block of blocks) this.add(block);
  }

  /** The most specific block holding `address` (canonical text, as `parseAddress` gives it). */
  lookup(address: string): IpOwner | null {
    const value = numeric(address);
    const family = value.family === 'v4' ? this.v4 : this.v6;
    for (const length of family.lengths) {
      const block = family.byLength.get(length)?.get(networkKey(value, length));
      if (block) return { ip: address, ...block.owner };
    }
    return null;
  }

  private locate(block: HeldBlock): { family: Family; length: number; key: string } {
    const [network = '', lengthText = '0'] = block.cidr.split('/');
    const length = Number(lengthText);
    const value = numeric(network);
    return { family: value.family === 'v4' ? this.v4 : this.v6, length, key: networkKey(value, length) };
  }

  private add(block: HeldBlock): void {
    const { family, length, key } = this.locate(block);
    let blocks = family.byLength.get(length);
    if (!blocks) {
      blocks = new Map();
      family.byLength.set(length, blocks);
      family.lengths = [...family.byLength.keys()].sort((a, b) => b - a);
    }
    blocks.set(key, block);
    const connectionId = block.owner.connection.id;
    const held = this.byConnection.get(connectionId) ?? [];
    held.push(block);
    this.byConnection.set(connectionId, held);
  }

  private remove(block: HeldBlock): void {
    const { family, length, key } = this.locate(block);
    const blocks = family.byLength.get(length);
    if (blocks?.get(key) === block) blocks.delete(key);
    if (blocks && blocks.size === 0) {
      family.byLength.delete(length);
      family.lengths = [...family.byLength.keys()].sort((a, b) => b - a);
    }
  }
}

import ipaddr from 'ipaddr.js';
import { PlatformError } from '@platform/shared-errors';

/** The smallest prefixes the registry hands out: nobody is allocated more than a /8 or a /16. */
const MIN_PREFIX = { ipv4: 8, ipv6: 16 } as const;

export interface Block {
  /** Canonical: the network address (RFC 5952 for IPv6) and the prefix length. */
  cidr: string;
  family: 'ipv4' | 'ipv6';
  prefix: number;
}

function invalidCidr(input: string, reason: string, suggestion?: string): PlatformError {
  return new PlatformError('INVALID_CIDR', undefined, {
    diagnostics: `cidr '${input.slice(0, 64)}': ${reason}`,
    details: { errors: [{ field: 'cidr', message: reason }], ...(suggestion ? { suggestion } : {}) },
  });
}

function canonical(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  return address.kind() === 'ipv6' ? (address as ipaddr.IPv6).toRFC5952String() : address.toString();
}

/**
 * A CIDR block as an operator writes it, checked exactly: dotted-quad IPv4 with no leading zeros (which some
 * parsers read as octal), IPv6 without a zone, no IPv4 written as IPv4-mapped IPv6, a prefix the family
 * allows, and no host bits set (10.1.2.3/24 is refused with 10.1.2.0/24 suggested, not silently widened).
 */
export function parseBlock(input: string): Block {
  const text = input.trim();
  const slash = text.indexOf('/');
  if (slash < 0) throw invalidCidr(text, 'must be address/prefix-length, e.g. 10.1.2.0/24');
  const address = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) throw invalidCidr(text, 'the prefix length must be a number');
  if (address.includes('%')) throw invalidCidr(text, 'an IPv6 zone (%...) has no place in an allocation');
  const looksV4 = /^[0-9.]+$/.test(address);
  if (looksV4 && !ipaddr.IPv4.isValidFourPartDecimal(address)) {
    throw invalidCidr(text, 'an IPv4 address is four decimal numbers 0-255 with no leading zeros');
  }
  if (!looksV4 && !ipaddr.IPv6.isValid(address)) throw invalidCidr(text, 'not an IPv4 or IPv6 address');
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(text);
  } catch {
    throw invalidCidr(text, 'the prefix length is out of range for the address family');
  }
  const [network, prefix] = parsed;
  const family = network.kind();
  if (family === 'ipv6' && (network as ipaddr.IPv6).isIPv4MappedAddress()) {
    throw invalidCidr(text, 'write IPv4 blocks in IPv4 notation (e.g. 10.1.2.0/24), not as IPv4-mapped IPv6');
  }
  if (prefix < MIN_PREFIX[family]) {
    throw invalidCidr(text, `an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} block must be /${MIN_PREFIX[family]} or longer`);
  }
  const base = family === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
  const cidr = `${canonical(base)}/${prefix}`;
  if (canonical(base) !== canonical(network)) {
    throw invalidCidr(text, `host bits are set; the block is ${cidr}`, cidr);
  }
  return { cidr, family, prefix };
}

/**
 * An address to look up. IPv4-mapped IPv6 (::ffff:10.1.2.3, what a dual-stack socket reports for an IPv4
 * peer) is read as the IPv4 address it carries, because that is how the block was allocated.
 */
export function parseAddress(input: string): string {
  const text = input.trim();
  const reject = (reason: string): PlatformError =>
    new PlatformError('INVALID_IP_ADDRESS', undefined, {
      diagnostics: `ip '${text.slice(0, 64)}': ${reason}`,
      details: { errors: [{ field: 'ip', message: reason }] },
    });
  if (text.includes('/')) throw reject('give one address, not a block');
  if (text.includes('%')) throw reject('an IPv6 zone (%...) is not an address on the network');
  if (/^[0-9.]+$/.test(text)) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(text)) throw reject('not a dotted-quad IPv4 address');
    return ipaddr.IPv4.parse(text).toString();
  }
  if (!ipaddr.IPv6.isValid(text)) throw reject('not an IPv4 or IPv6 address');
  const address = ipaddr.IPv6.parse(text);
  return address.isIPv4MappedAddress() ? address.toIPv4Address().toString() : address.toRFC5952String();
}

import { rejectionOf } from '@platform/shared-testing';
import { parseAddress, parseBlock } from './cidr';

const refusal = (work: () => unknown): ReturnType<typeof rejectionOf> => rejectionOf(Promise.resolve().then(work));

describe('parseBlock', () => {
  it.each([
    ['10.1.2.0/24', '10.1.2.0/24', 'ipv4'],
    [' 192.168.0.0/16 ', '192.168.0.0/16', 'ipv4'],
    ['10.1.2.3/32', '10.1.2.3/32', 'ipv4'],
    ['2001:DB8:0:0::/48', '2001:db8::/48', 'ipv6'],
    ['2001:db8:0:1::/64', '2001:db8:0:1::/64', 'ipv6'],
  ])('accepts %s as %s', (input, cidr, family) => {
    expect(parseBlock(input)).toMatchObject({ cidr, family });
  });

  it.each([
    ['10.1.2.3/24', /host bits are set; the block is 10\.1\.2\.0\/24/],
    ['2001:db8::1/48', /host bits are set; the block is 2001:db8::\/48/],
    ['10.1.2.0', /address\/prefix-length/],
    ['10.1.2.0/33', /out of range/],
    ['2001:db8::/129', /out of range/],
    ['10.1.2.0/x', /prefix length must be a number/],
    ['010.1.2.0/24', /no leading zeros/],
    ['10.1.2/24', /no leading zeros|four decimal/],
    ['256.1.2.0/24', /four decimal/],
    ['::ffff:10.1.2.0/120', /IPv4-mapped/],
    ['fe80::%eth0/64', /zone/],
    ['10.0.0.0/7', /\/8 or longer/],
    ['2000::/3', /\/16 or longer/],
    ['example.nhs.uk/24', /not an IPv4 or IPv6 address/],
  ])('refuses %s', async (input, reason) => {
    const error = await refusal(() => parseBlock(input));
    expect(error.code).toBe('INVALID_CIDR');
    expect(error.diagnostics).toMatch(reason);
  });
});

describe('parseAddress', () => {
  it('reads IPv4, IPv6 and IPv4-mapped IPv6 as the address the block was allocated in', () => {
    expect(parseAddress('10.1.2.3')).toBe('10.1.2.3');
    expect(parseAddress('2001:DB8::0:1')).toBe('2001:db8::1');
    expect(parseAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
  });

  it.each(['10.1.2.0/24', '10.1.2', '1.2.3.256', 'fe80::1%eth0', 'nhs.uk', '', '01.2.3.4'])(
    'refuses %p',
    async (input) => {
      expect((await refusal(() => parseAddress(input))).code).toBe('INVALID_IP_ADDRESS');
    },
  );
});

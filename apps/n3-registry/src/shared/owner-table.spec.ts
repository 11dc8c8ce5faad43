import { OwnerTable, type HeldBlock } from './owner-table';

function held(cidr: string, connectionId: string, allocationId = `IPA-${cidr}`): HeldBlock {
  return {
    cidr,
    owner: {
      allocation: { id: allocationId, cidr, purpose: null },
      connection: {
        id: connectionId,
        status: 'live',
        supplier: 'BT',
        accessType: 'fttc',
        bandwidthMbps: 80,
        siteId: null,
      },
      organisation: { odsCode: 'A83008', name: 'HALLGARTH SURGERY', role: 'gp-practice', status: 'active' },
    },
  };
}

describe('OwnerTable (longest-prefix match)', () => {
  const table = new OwnerTable();
  table.replaceAll([
    held('10.1.0.0/16', 'N3C1'),
    held('10.1.9.0/26', 'N3C1'),
    held('10.2.0.0/27', 'N3C2'),
    held('0.0.0.0/8', 'N3C3'),
    held('2001:db8:24::/48', 'N3C4'),
    held('2001:db8:24:5::/64', 'N3C5'),
  ]);

  it('answers the most specific block holding an address, IPv4 and IPv6', () => {
    expect(table.lookup('10.1.9.17')?.allocation.cidr).toBe('10.1.9.0/26');
    expect(table.lookup('10.1.9.64')?.allocation.cidr).toBe('10.1.0.0/16');
    expect(table.lookup('10.2.0.31')?.connection.id).toBe('N3C2');
    expect(table.lookup('10.2.0.32')).toBeNull();
    expect(table.lookup('0.255.1.1')?.connection.id).toBe('N3C3');
    expect(table.lookup('2001:db8:24:5::1')?.connection.id).toBe('N3C5');
    expect(table.lookup('2001:db8:24:6::1')?.connection.id).toBe('N3C4');
    expect(table.lookup('2001:db8:25::1')).toBeNull();
    expect(table.lookup('10.1.9.17')?.ip).toBe('10.1.9.17');
  });

  it("replaces one connection's blocks without touching the others", () => {
    table.replaceConnection('N3C1', [held('10.1.9.0/26', 'N3C1')]);
    expect(table.lookup('10.1.200.1')).toBeNull();
    expect(table.lookup('10.1.9.1')?.connection.id).toBe('N3C1');
    table.replaceConnection('N3C1', []);
    expect(table.lookup('10.1.9.1')).toBeNull();
    expect(table.lookup('10.2.0.1')?.connection.id).toBe('N3C2');
    expect(table.size).toBe(4);
  });
});

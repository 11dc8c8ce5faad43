import type { IpOwner } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import '@platform/contracts-n3';
import { N3Gate, plainAddress } from './n3-gate';

function owner(ip: string, status: IpOwner['connection']['status']): IpOwner {
  return {
    ip,
    allocation: { id: 'A-1', cidr: '127.0.5.0/24', purpose: null },
    connection: { id: 'C-1', status, supplier: 'BT', accessType: 'fttp', bandwidthMbps: 100, siteId: null },
    organisation: { odsCode: 'A83008', name: 'Test Practice', role: 'gp-practice', status: 'active' },
  };
}

describe('the N3 gate of the relay port', () => {
  it('asks the registry as the relay itself, by the plain IPv4 form, and keeps each answer for the cache time', async () => {
    const asked: { ip: string; caller: unknown }[] = [];
    const gate = new N3Gate(
      {
        ipOwner: (request, context) => {
          asked.push({ ip: request.ip, caller: context.caller });
          return request.ip === '127.0.5.1'
            ? Promise.resolve(owner(request.ip, 'live'))
            : Promise.reject(new PlatformError('NO_LIVE_OWNER'));
        },
      },
      30,
    );
    await expect(gate.check('::ffff:127.0.5.1')).resolves.toEqual({
      kind: 'live',
      odsCode: 'A83008',
      connectionId: 'C-1',
    });
    await expect(gate.check('127.0.5.1')).resolves.toMatchObject({ kind: 'live' });
    await expect(gate.check('127.0.0.1')).resolves.toEqual({ kind: 'none' });
    await expect(gate.check('127.0.0.1')).resolves.toEqual({ kind: 'none' });
    // No person behind these calls: the signer adds the role service:nhsmail-relay.
    expect(asked).toEqual([
      { ip: '127.0.5.1', caller: undefined },
      { ip: '127.0.0.1', caller: undefined },
    ]);
  });

  it('refuses an owner that is not live, and does not remember a registry that cannot be asked', async () => {
    let calls = 0;
    const down = new N3Gate(
      {
        ipOwner: () => {
          calls += 1;
          return Promise.reject(new PlatformError('REC_UNAVAILABLE'));
        },
      },
      30,
    );
    await expect(down.check('127.0.5.9')).resolves.toEqual({ kind: 'unavailable' });
    await expect(down.check('127.0.5.9')).resolves.toEqual({ kind: 'unavailable' });
    expect(calls).toBe(2);
    const migrating = new N3Gate({ ipOwner: (request) => Promise.resolve(owner(request.ip, 'ceased')) }, 0);
    await expect(migrating.check('127.0.5.2')).resolves.toEqual({ kind: 'none' });
    expect(plainAddress('not an address')).toBe('not an address');
  });
});

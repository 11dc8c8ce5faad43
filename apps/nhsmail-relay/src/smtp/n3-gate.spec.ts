import type { IpOwner } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import { skippableClock } from '@platform/shared-testing';
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

  describe('the answers kept', () => {
    let clock: ReturnType<typeof skippableClock>;
    beforeEach(() => (clock = skippableClock()));
    afterEach(() => clock.restore());
    const skip = (ms: number) => clock.skip(ms);
    const registry = (answer: () => Promise<IpOwner>) => {
      const asked: string[] = [];
      return {
        asked,
        n3: {
          ipOwner: (request: { ip: string }) => {
            asked.push(request.ip);
            return new Promise((resolve) => setTimeout(resolve, 5)).then(answer);
          },
        },
      };
    };

    it('lets forty simultaneous first asks for an address share one lookup, and asks again after the cache time', async () => {
      let status: IpOwner['connection']['status'] = 'live';
      const { asked, n3 } = registry(() => Promise.resolve(owner('127.0.5.1', status)));
      const gate = new N3Gate(n3, 30);
      const verdicts = await Promise.all(Array.from({ length: 40 }, () => gate.check('::ffff:127.0.5.1')));
      expect(verdicts.every((verdict) => verdict.kind === 'live')).toBe(true);
      expect(asked).toEqual(['127.0.5.1']);
      // The connection ceases: the live answer holds until 30 s have passed.
      status = 'ceased';
      await skip(29_000);
      await expect(gate.check('127.0.5.1')).resolves.toMatchObject({ kind: 'live' });
      expect(asked).toHaveLength(1);
      await skip(1_000);
      await expect(gate.check('127.0.5.1')).resolves.toEqual({ kind: 'none' });
      expect(asked).toHaveLength(2);
      // A none is kept as long.
      status = 'live';
      await expect(gate.check('127.0.5.1')).resolves.toEqual({ kind: 'none' });
      expect(asked).toHaveLength(2);
      await skip(30_000);
      await expect(gate.check('127.0.5.1')).resolves.toMatchObject({ kind: 'live' });
      expect(asked).toHaveLength(3);
    });

    it('does not keep an unavailable registry, even where a kept answer has expired', async () => {
      let up = true;
      const { asked, n3 } = registry(() =>
        up ? Promise.resolve(owner('127.0.5.1', 'live')) : Promise.reject(new PlatformError('REC_UNAVAILABLE')),
      );
      const gate = new N3Gate(n3, 30);
      await expect(gate.check('127.0.5.1')).resolves.toMatchObject({ kind: 'live' });
      up = false;
      await skip(30_000);
      const verdicts = await Promise.all(Array.from({ length: 40 }, () => gate.check('127.0.5.1')));
      expect(verdicts).toEqual(Array.from({ length: 40 }, () => ({ kind: 'unavailable' })));
      expect(asked).toHaveLength(2);
      up = true;
      await expect(gate.check('127.0.5.1')).resolves.toMatchObject({ kind: 'live' });
      expect(asked).toHaveLength(3);
    });

    it('asks every time with a cache time of 0', async () => {
      const { asked, n3 } = registry(() => Promise.resolve(owner('127.0.5.1', 'live')));
      const gate = new N3Gate(n3, 0);
      await gate.check('127.0.5.1');
      await gate.check('127.0.5.1');
      expect(asked).toEqual(['127.0.5.1', '127.0.5.1']);
    });
  });
});

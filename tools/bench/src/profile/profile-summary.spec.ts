import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { processName } from './cpu-profile.preload';
import { formatSummary, locate, ownerOf, summariseProfile, type CpuProfile } from './profile-summary';

const root = path.resolve('/repo');
const file = (relative: string): string => pathToFileURL(path.join(root, relative)).href;

describe('summariseProfile', () => {
  // root -> handler (app code) -> JSON.parse (native); root -> idle; root -> pg parseRow
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 }, children: [2, 4, 5] },
      {
        id: 2,
        callFrame: { functionName: 'handle', url: file('dist/apps/pds/src/x.js'), lineNumber: 9, columnNumber: 0 },
        children: [3],
      },
      { id: 3, callFrame: { functionName: 'parse', url: '', lineNumber: -1, columnNumber: -1 } },
      { id: 4, callFrame: { functionName: '(idle)', url: '', lineNumber: -1, columnNumber: -1 } },
      {
        id: 5,
        callFrame: {
          functionName: 'parseRow',
          url: file('node_modules/pg/lib/result.js'),
          lineNumber: 62,
          columnNumber: 0,
        },
      },
    ],
    startTime: 0,
    endTime: 10_000,
    samples: [3, 3, 3, 2, 5, 4, 4, 4, 4, 4],
    timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
  };

  it('ranks self time per function, apart from idle, and names who called native code', () => {
    const summary = summariseProfile(profile, root);
    expect(summary.idleMs).toBeCloseTo(5);
    expect(summary.busyMs).toBeCloseTo(5);
    expect(summary.top.map((row) => [row.name, row.owner, Math.round(row.share * 100)])).toEqual([
      ['parse', 'native (V8 built-ins, Node C++ bindings)', 60],
      ['handle', 'apps/pds', 20],
      ['parseRow', 'pg', 20],
    ]);
    expect(summary.top[0]?.via).toBe('handle (dist/apps/pds/src/x.js:10), 100% of it');
    expect(summary.top[2]?.location).toBe('node_modules/pg/lib/result.js:63');
    expect(formatSummary('pds', summary)).toContain('60.0%  parse');
  });

  it('adds up the time inside each step asked for, nested calls included, and gives it per request', () => {
    const summary = summariseProfile(profile, root, 10, [
      { label: 'the handler', name: 'handle', file: 'apps/pds' },
      { label: 'pg rows', name: 'parseRow', file: 'node_modules/pg' },
      { label: 'never called', name: 'other', file: 'apps/pds' },
    ]);
    expect(summary.stages.map((row) => [row.label, row.ms, Math.round(row.share * 100)])).toEqual([
      ['the handler', 4, 80],
      ['pg rows', 1, 20],
      ['never called', 0, 0],
    ]);
    const text = formatSummary('pds', summary, 4);
    expect(text).toContain(' 80.0%   1000 µs/request  the handler');
    expect(text).toContain(' 60.0%    750 µs/request  native (V8 built-ins, Node C++ bindings)');
  });

  it('names owners by package, Node core or repository project', () => {
    expect(locate('node:internal/streams/writable', root)).toBe('node:internal/streams/writable');
    expect(ownerOf('x', 'node_modules/@nestjs/core/router.js')).toBe('@nestjs/core');
    expect(ownerOf('x', 'dist/libs/shared/nats/src/rpc-client.js')).toBe('libs/shared/nats');
    expect(ownerOf('(garbage collector)', '(native)')).toBe('V8 (garbage collector)');
  });

  it('knows which process the profiler preload is in', () => {
    expect(processName(path.join(root, 'dist/apps/gateway/src/main.js'))).toBe('gateway');
    expect(processName(path.join(root, 'dist/tools/bench/src/read/baseline-server.js'))).toBe('baseline-server');
  });
});

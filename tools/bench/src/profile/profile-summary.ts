import path from 'node:path';

/** The parts of a V8 `.cpuprofile` (Chrome DevTools format) the summary reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    hitCount?: number;
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTimeRow {
  name: string;
  /** Repository-relative file and 1-based line, `node:...` for Node's own code, `(native)` for V8 built-ins. */
  location: string;
  /** npm package, `node core`, `V8`, or the repository project (e.g. `apps/gateway`) the code belongs to. */
  owner: string;
  selfMs: number;
  /** Share of the busy (non-idle) time. */
  share: number;
  /**
   * For V8 built-ins and Node's own code (a socket write, JSON.parse...): the nearest caller outside them that
   * accounts for most of this function's time, so the row says whose work it is.
   */
  via?: string;
}

export interface ProfileSummary {
  wallMs: number;
  busyMs: number;
  idleMs: number;
  top: SelfTimeRow[];
  owners: { owner: string; selfMs: number; share: number }[];
  /** Time spent inside each stage asked for (see `Stage`), in the order asked. */
  stages: { label: string; ms: number; share: number }[];
}

/**
 * A step of the request's work, found by a function on the stack: a sample counts for the innermost stage
 * whose function is on its stack, so a stage nested in another (signing inside the NATS request) is taken
 * out of the outer one. Only synchronous work is seen this way: what runs after an `await` has lost its caller.
 */
export interface Stage {
  label: string;
  /** The function's name as V8 reports it. */
  name: string;
  /** A part of its location (repository-relative file, or `node_modules/<package>/...`). */
  file: string;
}

const V8_PSEUDO = new Set(['(program)', '(garbage collector)', '(root)']);

/** `file:///.../node_modules/pg/lib/x.js` -> `node_modules/pg/lib/x.js`; repository paths become relative. */
export function locate(url: string, root: string): string {
  if (url === '') return '(native)';
  if (url.startsWith('node:')) return url;
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const modules = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  if (modules >= 0) return file.slice(modules + 1);
  const relative = path.relative(root, file);
  return relative.startsWith('..') ? path.basename(file) : relative;
}

export function ownerOf(name: string, location: string): string {
  if (V8_PSEUDO.has(name)) return `V8 ${name}`;
  if (location === '(native)') return 'native (V8 built-ins, Node C++ bindings)';
  if (location.startsWith('node:')) return 'node core';
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(location);
  if (module?.[1]) return module[1];
  const project = /^(?:dist\/)?((?:apps|tools)\/[^/]+|libs\/[^/]+\/[^/]+)/.exec(location);
  return project?.[1] ?? location;
}

/** Self time per function (and per owning package), busiest first; idle time is reported apart. */
export function summariseProfile(
  profile: CpuProfile,
  root: string,
  topN = 10,
  stages: readonly Stage[] = [],
): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const wallUs = profile.endTime - profile.startTime;
  if (samples.length > 0) {
    // timeDeltas[i] is the gap before sample i, so sample i lasts until the next one.
    const fallback = wallUs / samples.length;
    samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[index + 1] ?? fallback)));
  } else {
    const hits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
    for (const node of profile.nodes) selfUs.set(node.id, ((node.hitCount ?? 0) / Math.max(1, hits)) * wallUs);
  }

  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const describe = (id: number): { name: string; location: string; owner: string } | undefined => {
    const frame = byId.get(id)?.callFrame;
    if (!frame) return undefined;
    const name = frame.functionName || '(anonymous)';
    const file = locate(frame.url, root);
    const location = file === '(native)' || V8_PSEUDO.has(name) ? file : `${file}:${frame.lineNumber + 1}`;
    return { name, location, owner: ownerOf(name, file) };
  };
  const isRuntime = (owner: string): boolean =>
    owner.startsWith('V8 ') || owner.startsWith('native ') || owner === 'node core';
  /** The nearest ancestor that is neither V8 nor Node's own code. */
  const callerOf = (id: number): string | undefined => {
    for (let current = parents.get(id); current !== undefined; current = parents.get(current)) {
      const frame = describe(current);
      if (frame && !isRuntime(frame.owner) && frame.name !== '(root)') return `${frame.name} (${frame.location})`;
    }
    return undefined;
  };

  let idleUs = 0;
  const functions = new Map<
    string,
    { name: string; location: string; owner: string; us: number; callers: Map<string, number> }
  >();
  for (const [id, us] of selfUs) {
    const frame = describe(id);
    if (!frame) continue;
    if (frame.name === '(idle)') {
      idleUs += us;
      continue;
    }
    const key = `${frame.name}\u0000${frame.location}`;
    const entry = functions.get(key) ?? { ...frame, us: 0, callers: new Map<string, number>() };
    entry.us += us;
    if (isRuntime(entry.owner) && !V8_PSEUDO.has(entry.name)) {
      const caller = callerOf(id);
      if (caller) entry.callers.set(caller, (entry.callers.get(caller) ?? 0) + us);
    }
    functions.set(key, entry);
  }
  const busyUs = [...functions.values()].reduce((sum, entry) => sum + entry.us, 0);
  const share = (us: number): number => (busyUs > 0 ? us / busyUs : 0);
  const top = [...functions.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((entry) => {
      const row: SelfTimeRow = {
        name: entry.name,
        location: entry.location,
        owner: entry.owner,
        selfMs: entry.us / 1000,
        share: share(entry.us),
      };
      const [caller] = [...entry.callers.entries()].sort((a, b) => b[1] - a[1]);
      if (caller) row.via = `${caller[0]}, ${Math.round((caller[1] / entry.us) * 100)}% of it`;
      return row;
    });
  const stageOf = new Map<number, number | undefined>();
  const innermostStage = (id: number): number | undefined => {
    if (stageOf.has(id)) return stageOf.get(id);
    const frame = describe(id);
    const own = frame
      ? stages.findIndex((stage) => stage.name === frame.name && frame.location.includes(stage.file))
      : -1;
    const parent = parents.get(id);
    const found = own >= 0 ? own : parent === undefined ? undefined : innermostStage(parent);
    stageOf.set(id, found);
    return found;
  };
  const stageUs = stages.map(() => 0);
  for (const [id, us] of selfUs) {
    if (describe(id)?.name === '(idle)') continue;
    const index = innermostStage(id);
    if (index !== undefined) stageUs[index] = (stageUs[index] ?? 0) + us;
  }
  const owners = new Map<string, number>();
  for (const entry of functions.values()) owners.set(entry.owner, (owners.get(entry.owner) ?? 0) + entry.us);
  return {
    wallMs: wallUs / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    top,
    owners: [...owners.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([owner, us]) => ({ owner, selfMs: us / 1000, share: share(us) })),
    stages: stages.map((stage, index) => ({
      label: stage.label,
      ms: (stageUs[index] ?? 0) / 1000,
      share: share(stageUs[index] ?? 0),
    })),
  };
}

/**
 * A plain-text table of the summary, for the console. With `requests` (answered during the profile), every
 * share is also given as microseconds of CPU per request.
 */
export function formatSummary(title: string, summary: ProfileSummary, requests?: number, owners = 12): string {
  const perRequest = (ms: number): string =>
    requests && requests > 0 ? `${String(Math.round((ms * 1000) / requests)).padStart(5)} µs/request  ` : '';
  const pct = (value: number): string => `${(value * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `${title}: ${(summary.busyMs / 1000).toFixed(2)} s busy of ${(summary.wallMs / 1000).toFixed(2)} s profiled (${pct(summary.busyMs / Math.max(1, summary.wallMs)).trim()} of one core)`,
    '  top self time (share of busy time):',
    ...summary.top.map(
      (row, index) =>
        `  ${String(index + 1).padStart(2)}. ${pct(row.share)}  ${row.name}  [${row.owner}]  ${row.location}${row.via ? `\n                 via ${row.via}` : ''}`,
    ),
    '  self time by package:',
    ...summary.owners.slice(0, owners).map((row) => `      ${pct(row.share)}  ${perRequest(row.selfMs)}${row.owner}`),
    ...(summary.stages.length > 0
      ? [
          '  time inside each step (innermost step on the stack; synchronous work only):',
          ...summary.stages.map((row) => `      ${pct(row.share)}  ${perRequest(row.ms)}${row.label}`),
        ]
      : []),
  ];
  return lines.join('\n');
}

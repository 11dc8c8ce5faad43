import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * CPU time from Linux's /proc: per process (user + system, all threads) and for the whole machine, so a run
 * can say how many CPU milliseconds each process spent per request and whether the machine was saturated.
 * Elsewhere the figures are simply missing.
 */
let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const value = Number(result.stdout?.trim());
    ticksPerSecond = result.status === 0 && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

/** CPU seconds a process has used so far, or undefined when it cannot be read. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3 (state); utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / clockTicks() : undefined;
  } catch {
    return undefined;
  }
}

interface MachineTicks {
  busy: number;
  total: number;
}

function machineTicks(): MachineTicks | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = values.reduce((sum, value) => sum + value, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export interface CpuUsage {
  /** CPU seconds per named process during the window (missing when /proc could not be read). */
  processes: Record<string, number>;
  /** Share of all CPUs of the machine that was busy during the window, 0..1 (every process, not only ours). */
  machineBusy?: number;
}

/** Measures CPU use of the named processes (this process is `self`) between start and stop. */
export function startCpuMeter(pids: Record<string, number>): { stop(): CpuUsage } {
  const before = new Map<string, number>();
  for (const [name, pid] of Object.entries(pids)) {
    const seconds = processCpuSeconds(pid);
    if (seconds !== undefined) before.set(name, seconds);
  }
  const selfBefore = process.cpuUsage();
  const machineBefore = machineTicks();
  return {
    stop(): CpuUsage {
      const processes: Record<string, number> = {};
      for (const [name, pid] of Object.entries(pids)) {
        const start = before.get(name);
        const end = processCpuSeconds(pid);
        if (start !== undefined && end !== undefined) processes[name] = end - start;
      }
      const self = process.cpuUsage(selfBefore);
      processes['self'] = (self.user + self.system) / 1e6;
      const machineAfter = machineTicks();
      const usage: CpuUsage = { processes };
      if (machineBefore && machineAfter && machineAfter.total > machineBefore.total) {
        usage.machineBusy = (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total);
      }
      return usage;
    },
  };
}

/**
 * The process listening on a local TCP port (e.g. the NATS server), found through /proc: the socket's inode
 * in /proc/net/tcp*, then the process holding that inode. Undefined when not on Linux or not permitted.
 */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const fields = line.trim().split(/\s+/);
        const local = fields[1] ?? '';
        // State 0A is LISTEN; the local address ends with the port in hex.
        if (fields[3] === '0A' && parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && fields[9])
          inodes.add(fields[9]);
      }
    } catch {
      // no such table
    }
  }
  if (inodes.size === 0) return undefined;
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  for (const pid of entries) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match?.[1] && inodes.has(match[1])) return Number(pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

// Loaded into platform processes with `NODE_OPTIONS=--require <this file>` (Node does not accept
// --cpu-prof in NODE_OPTIONS). In the processes named in BENCH_PROFILE_TARGETS it waits for SIGUSR2: the
// first one starts the V8 sampling profiler, the second stops it and writes
// `<BENCH_PROFILE_DIR>/<name>.cpuprofile` (the format Chrome DevTools and `--cpu-prof` use). So a
// benchmark profiles exactly its measured window, not start-up. Every other process ignores it.
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

/** `apps/gateway/src/main.js` -> gateway; any other script -> its file name without `.js`. */
export function processName(script: string): string {
  const project = /(?:apps|tools)[\\/]([^\\/]+)[\\/]src[\\/]main\.js$/.exec(script);
  return project?.[1] ?? path.basename(script).replace(/\.js$/, '');
}

function install(): void {
  const targets = (process.env['BENCH_PROFILE_TARGETS'] ?? '').split(',').filter(Boolean);
  const dir = process.env['BENCH_PROFILE_DIR'];
  const name = processName(process.argv[1] ?? '');
  if (!dir || !targets.includes(name)) return;
  const intervalUs = Number(process.env['BENCH_PROFILE_INTERVAL_US'] ?? 500);

  const session = new Session();
  session.connect();
  let profiling = false;
  process.on('SIGUSR2', () => {
    if (!profiling) {
      profiling = true;
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: intervalUs }, () => session.post('Profiler.start')),
      );
      return;
    }
    profiling = false;
    session.post('Profiler.stop', (error, result) => {
      if (error) {
        process.stderr.write(`profiler: ${error.message}\n`);
        return;
      }
      const file = path.join(dir, `${name}.cpuprofile`);
      // Written aside and renamed into place, so the benchmark never reads half a file.
      writeFileSync(`${file}.partial`, JSON.stringify(result.profile));
      renameSync(`${file}.partial`, file);
    });
  });
}

install();

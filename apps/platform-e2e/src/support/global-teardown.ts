import { rmSync } from 'node:fs';
import { dropSchema } from '@platform/shared-testing';
import { currentPids, e2eState } from './platform';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ctrl-C to the launcher (it stops every process it started), then the schema and files are removed. */
export default async function globalTeardown(): Promise<void> {
  const state = e2eState();
  if (alive(state.launcherPid)) process.kill(state.launcherPid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (alive(state.launcherPid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  // Whatever the launcher left behind (it restarts processes, so its state file has the current IDs).
  let pids: Record<string, number> = state.pids;
  try {
    pids = currentPids(state);
  } catch {
    // no state file: the IDs from the start
  }
  for (const pid of Object.values(pids)) {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  for (const schema of Object.values(state.schemas)) await dropSchema(state.databaseUrl, schema);
  rmSync(state.stateDir, { recursive: true, force: true });
}

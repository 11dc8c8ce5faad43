// Runs every jest tier in one process (integration and e2e share real PostgreSQL and NATS, so in band).
// When JEST_RESULTS names a file, the results are also written there as JSON (CI prints a summary line).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const args = ['--runInBand', ...process.argv.slice(2)];
if (process.env.JEST_RESULTS) args.push('--json', `--outputFile=${process.env.JEST_RESULTS}`);
const result = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), ...args], { stdio: 'inherit' });
process.exit(result.status ?? 1);

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Client } from 'pg';
import type { Cleanup } from './cleanup';
import type { Progress } from './progress';

/** NHS numbers of generated patients start with one of these (the population generator's prefixes). */
export const GENERATED_PREFIXES = ['99', '98'];

/** The population generator that `npm run seed` runs, relative to the repository root. */
export const SEED_CLI = 'dist/apps/pds/src/population/seed.cli.js';

export interface SeedSettings {
  /** Repository root (the built generator is under dist/). */
  root: string;
  databaseUrl: string;
  schema: string;
  patients: number;
  seed: number;
}

export interface SeedFigures {
  /** The seed command's own summary line, or why seeding was skipped. */
  summary: string;
  seconds?: number;
}

export function seedCliBuilt(root: string): boolean {
  return existsSync(path.join(root, SEED_CLI));
}

/**
 * Runs the population generator (`npm run seed`'s script) into `schema`, its output as progress lines. The
 * schema must not hold generated patients yet (drop it first) and no running pds may serve it.
 */
export async function seedPopulation(
  settings: SeedSettings,
  progress: Progress,
  cleanup: Cleanup,
): Promise<SeedFigures> {
  const args = [
    path.join(settings.root, SEED_CLI),
    '--patients',
    String(settings.patients),
    '--seed',
    String(settings.seed),
    '--database-url',
    settings.databaseUrl,
    '--schema',
    settings.schema,
  ];
  const child = spawn(process.execPath, args, { cwd: settings.root, stdio: ['ignore', 'pipe', 'pipe'] });
  const unregister = cleanup.add({
    describe: 'stop the population generator',
    run: () => {
      child.kill('SIGTERM');
      return Promise.resolve();
    },
    force: () => child.kill('SIGKILL'),
  });
  let summary = '';
  const errors: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const text = line.trim();
    if (text.length === 0) return;
    if (text.startsWith('seeded ')) summary = text;
    progress.say(`seed | ${text}`);
  });
  createInterface({ input: child.stderr }).on('line', (line) => errors.push(line));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  unregister();
  if (code !== 0)
    throw new Error(`the population generator failed (exit code ${code}): ${errors.join(' ').slice(0, 500)}`);
  const seconds = /in ([\d.]+) s/.exec(summary)?.[1];
  return {
    summary: summary ? `The generator reported: "${summary}".` : 'The generator ran (no summary line).',
    ...(seconds ? { seconds: Number(seconds) } : {}),
  };
}

/** Generated patients already in the schema (0 when it has no patient tables). */
export async function generatedPatients(client: Client, schema: string): Promise<number> {
  const exists = await client.query(
    `SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'patient_name'`,
    [schema],
  );
  if (exists.rowCount === 0) return 0;
  const result = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "${schema}".patient WHERE left(nhs_number, 2) = ANY($1::text[])`,
    [GENERATED_PREFIXES],
  );
  return result.rows[0]?.n ?? 0;
}

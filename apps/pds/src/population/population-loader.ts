import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { openPdsDatabase } from '../database/database';
import { COPY_COLUMNS, copyLines, type CopyTable } from './copy-rows';
import { GENERATED_NHS_NUMBER_PREFIXES, PopulationGenerator } from './population';

export interface LoadSettings {
  databaseUrl: string;
  schema: string;
  patients: number;
  seed: number;
  /** Called after each batch with the number of records written so far. */
  onProgress?: (written: number) => void;
  /** Called when a phase starts: 'copy', 'indexes', 'analyze'. */
  onPhase?: (phase: 'copy' | 'indexes' | 'analyze') => void;
}

export interface LoadResult {
  patients: number;
  seconds: number;
  phases: { copy: number; indexes: number; analyze: number };
}

const BATCH = 2000;
const TABLES: CopyTable[] = ['patient', 'patient_name', 'patient_address'];

interface Loader {
  table: CopyTable;
  client: Client;
  indexes: { name: string; definition: string }[];
  stream?: NodeJS.WritableStream & { write(chunk: string): boolean };
}

/** Rejects as soon as any COPY stream fails, so that a writer waiting for `drain` does not wait forever. */
function failureOf(): { promise: Promise<never>; watch(stream: NodeJS.EventEmitter): void } {
  let fail: (error: unknown) => void = () => undefined;
  const promise = new Promise<never>((_resolve, reject) => (fail = reject));
  promise.catch(() => undefined);
  return { promise, watch: (stream) => stream.on('error', (error) => fail(error)) };
}

/**
 * Generates `patients` records and bulk-loads them with COPY into the patient and search tables, one
 * connection and one transaction per table, side by side. Each transaction drops its table's secondary
 * indexes first and rebuilds them after the COPY (much faster than maintaining them row by row), so a
 * failure rolls everything back, indexes included. Migrations run first. The tables are locked while the
 * load runs: seed a schema no running service is using, or stop pds first.
 */
export async function loadPopulation(settings: LoadSettings): Promise<LoadResult> {
  const started = performance.now();
  const migrated = await openPdsDatabase({ url: settings.databaseUrl, schema: settings.schema, poolSize: 1 });
  await migrated.dataSource.destroy();
  const quoted = (table: string): string => `"${settings.schema}".${table}`;

  const loaders: Loader[] = [];
  try {
    for (const table of TABLES) {
      const client = new Client({ connectionString: settings.databaseUrl, application_name: 'pds-seed' });
      await client.connect();
      loaders.push({ table, client, indexes: [] });
    }
    const [first] = loaders;
    if (!first) throw new Error('no connection');
    const existing = await first.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${quoted('patient')} WHERE left(nhs_number, 2) = ANY($1::text[])`,
      [[...GENERATED_NHS_NUMBER_PREFIXES]],
    );
    if ((existing.rows[0]?.n ?? 0) > 0) {
      throw new Error(
        `schema ${settings.schema} already holds ${existing.rows[0]?.n} generated patients: seed another schema, or drop this one first`,
      );
    }

    settings.onPhase?.('copy');
    const copyStarted = performance.now();
    const failure = failureOf();
    for (const loader of loaders) {
      const { client, table } = loader;
      await client.query('BEGIN');
      await client.query(`SET LOCAL maintenance_work_mem = '256MB'`);
      const indexes = await client.query<{ name: string; definition: string }>(
        `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
         FROM pg_index i
         WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
        [quoted(table)],
      );
      loader.indexes = indexes.rows;
      for (const index of loader.indexes) await client.query(`DROP INDEX ${index.name}`);
      const stream = client.query(
        copyFrom(`COPY ${quoted(table)} (${COPY_COLUMNS[table].join(', ')}) FROM STDIN`),
      ) as unknown as Loader['stream'] & NodeJS.EventEmitter;
      failure.watch(stream);
      loader.stream = stream;
    }

    const generator = new PopulationGenerator(settings.seed);
    let written = 0;
    while (written < settings.patients) {
      const count = Math.min(BATCH, settings.patients - written);
      const chunks: Record<CopyTable, string[]> = { patient: [], patient_name: [], patient_address: [] };
      for (let i = 0; i < count; i += 1) {
        const lines = copyLines(generator.next());
        chunks.patient.push(lines.patient);
        chunks.patient_name.push(lines.patient_name);
        chunks.patient_address.push(lines.patient_address);
      }
      const waits: Promise<unknown>[] = [];
      for (const loader of loaders) {
        const stream = loader.stream;
        if (stream && !stream.write(chunks[loader.table].join(''))) {
          waits.push(once(stream as unknown as NodeJS.EventEmitter, 'drain'));
        }
      }
      if (waits.length > 0) await Promise.race([Promise.all(waits), failure.promise]);
      written += count;
      settings.onProgress?.(written);
    }
    await Promise.race([
      Promise.all(
        loaders.map(async (loader) => {
          const stream = loader.stream;
          if (!stream) return;
          stream.end();
          await finished(stream);
        }),
      ),
      failure.promise,
    ]);
    const copySeconds = (performance.now() - copyStarted) / 1000;

    settings.onPhase?.('indexes');
    const indexesStarted = performance.now();
    await Promise.all(
      loaders.map(async ({ client, indexes }) => {
        for (const index of indexes) await client.query(index.definition);
      }),
    );
    for (const { client } of loaders) await client.query('COMMIT');
    const indexSeconds = (performance.now() - indexesStarted) / 1000;

    settings.onPhase?.('analyze');
    const analyzeStarted = performance.now();
    await Promise.all(loaders.map(({ client, table }) => client.query(`ANALYZE ${quoted(table)}`)));
    const analyzeSeconds = (performance.now() - analyzeStarted) / 1000;
    return {
      patients: written,
      seconds: (performance.now() - started) / 1000,
      phases: { copy: copySeconds, indexes: indexSeconds, analyze: analyzeSeconds },
    };
  } finally {
    // Closing a connection whose transaction is still open rolls it back, even in the middle of a COPY.
    await Promise.all(loaders.map(({ client }) => client.end().catch(() => undefined)));
  }
}

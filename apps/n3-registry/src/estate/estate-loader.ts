import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from 'pg';
import { copyArray, copyField, withTransaction, type ServiceDatabase } from '@platform/shared-persistence';
import { estateConnections, estateOrganisation, GENERATED_ODS_PREFIX } from './estate';

export interface EstateSettings {
  connections: number;
  /** Organisations to spread the connections over (default: four fifths of the connections). */
  organisations?: number;
  seed: number;
}

async function copyRows(client: PoolClient, target: string, rows: Iterable<string>): Promise<void> {
  await pipeline(Readable.from(rows), client.query(copyFrom(`COPY ${target} FROM STDIN`)));
}

/**
 * Loads a generated estate with COPY in one transaction: organisations, connections (ids continuing the
 * registry's own sequence), their history and their blocks, which the exclusion constraint checks as they
 * arrive. Refuses a schema that already holds a generated estate.
 */
export async function loadEstate(
  database: ServiceDatabase,
  settings: EstateSettings,
  progress: (step: string) => void = () => undefined,
): Promise<{ organisations: number; connections: number; blocks: number; ms: number }> {
  const started = performance.now();
  const organisations = settings.organisations ?? Math.max(1, Math.ceil(settings.connections * 0.8));
  const schema = `"${database.schema}"`;
  const loaded = await withTransaction(database.pool, async (client) => {
    const existing = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${schema}.organisation WHERE ods_code LIKE $1`,
      [`${GENERATED_ODS_PREFIX}%`],
    );
    if ((existing.rows[0]?.n ?? 0) > 0) {
      throw new Error(
        `schema ${database.schema} already holds a generated estate: seed another schema, or drop this one`,
      );
    }
    progress(`organisations (${organisations.toLocaleString('en-GB')})`);
    await copyRows(
      client,
      `${schema}.organisation (ods_code, name, role, status, open_date, address_lines, postcode)`,
      (function* () {
        for (let index = 0; index < organisations; index += 1) {
          const organisation = estateOrganisation(index, settings.seed);
          yield `${organisation.odsCode}\t${copyField(organisation.name)}\t${organisation.role}\tactive\t${organisation.openDate}\t${copyArray(organisation.addressLines)}\t${organisation.postcode}\n`;
        }
      })(),
    );
    const first = await client.query<{ last: string; called: boolean }>(
      `SELECT last_value AS last, is_called AS called FROM ${schema}.connection_number`,
    );
    const startAt = Number(first.rows[0]?.called ? first.rows[0].last : 0) + 1;
    const allocationStart = await client.query<{ last: string; called: boolean }>(
      `SELECT last_value AS last, is_called AS called FROM ${schema}.allocation_number`,
    );
    let allocationNumber = Number(allocationStart.rows[0]?.called ? allocationStart.rows[0].last : 0);
    const connectionLines: string[] = [];
    const eventLines: string[] = [];
    const blockLines: string[] = [];
    let number = startAt;
    for (const connection of estateConnections(settings.connections, organisations, settings.seed)) {
      const id = `N3C${String(number).padStart(7, '0')}`;
      number += 1;
      connectionLines.push(
        `${id}\t${connection.odsCode}\t${copyField(connection.supplier)}\t${connection.bandwidthMbps}\t${connection.accessType}\t${connection.availabilityTarget}\t${connection.contractStart}\t${connection.status}\n`,
      );
      eventLines.push(`${id}\tseeded\t${connection.status}\tgenerated estate\testate-seed\testate-seed\n`);
      for (const block of connection.blocks) {
        allocationNumber += 1;
        blockLines.push(`IPA${String(allocationNumber).padStart(7, '0')}\t${id}\t${block}\tgenerated estate\n`);
      }
    }
    progress(`connections (${connectionLines.length.toLocaleString('en-GB')})`);
    await copyRows(
      client,
      `${schema}.connection (id, ods_code, supplier, bandwidth_mbps, access_type, availability_target, contract_start, status)`,
      connectionLines,
    );
    await copyRows(
      client,
      `${schema}.connection_event (connection_id, kind, to_status, detail, actor, request_id)`,
      eventLines,
    );
    progress(`IP blocks (${blockLines.length.toLocaleString('en-GB')})`);
    await copyRows(client, `${schema}.ip_allocation (id, connection_id, block, purpose)`, blockLines);
    await client.query(`SELECT setval('${database.schema}.connection_number', $1)`, [number - 1]);
    if (allocationNumber > 0)
      await client.query(`SELECT setval('${database.schema}.allocation_number', $1)`, [allocationNumber]);
    return { organisations, connections: connectionLines.length, blocks: blockLines.length };
  });
  await database.pool.query(`ANALYZE ${schema}.organisation, ${schema}.connection, ${schema}.ip_allocation`);
  return { ...loaded, ms: Math.round(performance.now() - started) };
}

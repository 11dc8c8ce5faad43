import type { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import type { ImportReport, OrganisationRole } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import type { OrganisationRepository } from '../shared/organisation.repository';
import { fieldError } from '../rules';
import { readExtract } from './ods-csv';

/** At most this many rejected rows travel back in an answer (the count says how many there were). */
export const REJECTED_SHOWN = 1000;

/**
 * Imports an ODS extract in the caller's transaction: every row is checked first; any bad row rejects the
 * whole file (INVALID_IMPORT, each line and reason listed, nothing stored) unless `skipInvalid`, and the
 * good rows then load together. Used by the service (extracts from the import bucket) and by the CLI (files).
 */
export async function importExtract(
  transaction: PoolClient,
  organisations: OrganisationRepository,
  input: Readable,
  options: { role: OrganisationRole; skipInvalid: boolean; progress?: (records: number) => void },
): Promise<ImportReport> {
  const started = performance.now();
  const extract = await readExtract(input, options.role, { progress: options.progress });
  const [first] = extract.rejected;
  if (first && !options.skipInvalid) {
    throw new PlatformError('INVALID_IMPORT', undefined, {
      diagnostics: `${extract.rejected.length} of the extract's rows cannot be imported (the first on line ${first.line}: ${first.reason}); nothing was imported`,
      details: { rejected: extract.rejected.slice(0, REJECTED_SHOWN), rejectedCount: extract.rejected.length },
    });
  }
  if (extract.rows.length === 0) throw fieldError('file', 'the extract holds no organisations');
  const { inserted, updated } = await organisations.importRows(transaction, extract.rows);
  return {
    rows: extract.rows.length + extract.rejected.length,
    inserted,
    updated,
    rejected: extract.rejected.slice(0, REJECTED_SHOWN),
    partial: extract.rejected.length > 0,
    ms: Math.round(performance.now() - started),
  };
}

import type { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import {
  ODS_CODE_PATTERN,
  POSTCODE_PATTERN,
  type OrganisationRole,
  type OrganisationStatus,
  type RejectedRow,
} from '@platform/contracts-n3';

/**
 * The NHS ODS "standard" extract layout (epraccur, epharmacyhq, etr, ets, ...): 27 quoted columns, no header.
 * The columns the registry keeps, by position.
 */
export const ODS_COLUMNS = 27;
const COLUMN = {
  code: 0,
  name: 1,
  address: [4, 5, 6, 7, 8],
  postcode: 9,
  openDate: 10,
  closeDate: 11,
  status: 12,
  parent: 14,
  telephone: 17,
} as const;

const STATUS: Record<string, OrganisationStatus> = { A: 'active', C: 'closed', D: 'dormant', P: 'proposed' };

import type { OrganisationRow } from '../shared/organisation.repository';

export type { OrganisationRow };

export interface ParsedExtract {
  rows: OrganisationRow[];
  rejected: RejectedRow[];
  /** Lines read, header and rejected ones included. */
  lines: number;
}

/** YYYYMMDD (ODS) as YYYY-MM-DD, or a reason; checks the calendar, not just the digits. */
function odsDate(value: string, what: string): string | { reason: string } {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!match) return { reason: `${what} '${value.slice(0, 20)}' is not a date in YYYYMMDD form` };
  const [, year, month, day] = match;
  const iso = `${year}-${month}-${day}`;
  const parsed = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== iso) {
    return { reason: `${what} '${value}' is not a calendar date` };
  }
  return iso;
}

/** One record of the extract as an organisation, or the reason it cannot be one. */
export function organisationOfRecord(
  fields: string[],
  role: OrganisationRole,
  today: string,
): OrganisationRow | { reason: string; odsCode?: string } {
  if (fields.length !== ODS_COLUMNS) {
    return { reason: `expected ${ODS_COLUMNS} columns (the ODS standard layout), found ${fields.length}` };
  }
  // PostgreSQL text cannot hold NUL; such a line is refused here rather than failing the whole import there.
  const nul = fields.findIndex((value) => value.includes('\0'));
  if (nul !== -1) return { reason: `column ${nul + 1} holds a NUL character` };
  const field = (index: number): string => (fields[index] ?? '').trim();
  const odsCode = field(COLUMN.code).toUpperCase();
  if (!ODS_CODE_PATTERN.test(odsCode)) {
    return {
      reason: `organisation code '${field(COLUMN.code).slice(0, 20)}' is not an ODS code (3 to 6 letters or digits)`,
    };
  }
  const name = field(COLUMN.name);
  if (name.length === 0 || name.length > 100) return { odsCode, reason: 'name must be 1 to 100 characters' };
  const postcodeText = field(COLUMN.postcode).toUpperCase().replace(/\s+/g, ' ');
  if (postcodeText && !POSTCODE_PATTERN.test(postcodeText)) {
    return { odsCode, reason: `postcode '${postcodeText.slice(0, 12)}' is not a UK postcode` };
  }
  const openDate = odsDate(field(COLUMN.openDate), 'open date');
  if (typeof openDate !== 'string') return { odsCode, ...openDate };
  let closeDate: string | null = null;
  if (field(COLUMN.closeDate)) {
    const parsed = odsDate(field(COLUMN.closeDate), 'close date');
    if (typeof parsed !== 'string') return { odsCode, ...parsed };
    if (parsed < openDate) return { odsCode, reason: `close date ${parsed} is before open date ${openDate}` };
    closeDate = parsed;
  }
  const statusCode = field(COLUMN.status).toUpperCase();
  let status: OrganisationStatus;
  if (statusCode) {
    const known = STATUS[statusCode];
    if (!known) return { odsCode, reason: `status '${statusCode.slice(0, 4)}' is not A, C, D or P` };
    status = known;
  } else {
    // Extracts without a status column: an organisation is closed once its close date has passed.
    status = closeDate !== null && closeDate <= today ? 'closed' : 'active';
  }
  const parent = field(COLUMN.parent).toUpperCase();
  if (parent && !ODS_CODE_PATTERN.test(parent)) {
    return { odsCode, reason: `parent organisation '${parent.slice(0, 20)}' is not an ODS code` };
  }
  const telephone = field(COLUMN.telephone);
  if (telephone.length > 20) return { odsCode, reason: 'telephone is longer than 20 characters' };
  const addressLines = COLUMN.address.map(field).filter((line) => line.length > 0);
  if (addressLines.some((line) => line.length > 100))
    return { odsCode, reason: 'an address line is over 100 characters' };
  return {
    odsCode,
    name,
    role,
    status,
    openDate,
    closeDate,
    addressLines,
    postcode: postcodeText || null,
    parentOdsCode: parent || null,
    telephone: telephone || null,
  };
}

/** What a spreadsheet would take for a formula (OWASP CSV injection): =, +, -, @, tab and carriage return first. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One field of CSV the registry writes: quoted, quotes doubled, and a value a spreadsheet would run as a
 * formula (`=cmd|' /C calc'!A0`, `+1+1`, `@SUM(...)`) neutralised with a leading apostrophe, as OWASP
 * advises, so that a name imported as text comes back out as text.
 */
export function csvField(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** A line of CSV (no line ending), every field written by csvField. */
export function csvLine(fields: readonly string[]): string {
  return fields.map(csvField).join(',');
}

function looksLikeHeader(fields: string[]): boolean {
  return /organi[sz]ation\s*code|^code$/i.test((fields[0] ?? '').trim());
}

/**
 * Reads an extract, record by record, into organisations and rejected lines (with their line numbers and
 * reasons). Broken quoting rejects the record it breaks and reading goes on; a header line, if present, is
 * skipped; a code seen twice rejects the later line. `progress` is told how many records have been read.
 */
export async function readExtract(
  input: Readable,
  role: OrganisationRole,
  options: { today?: string; progress?: (records: number) => void } = {},
): Promise<ParsedExtract> {
  const today = options.today ?? new Date().toISOString().slice(0, 10);
  const rows: OrganisationRow[] = [];
  const rejected: RejectedRow[] = [];
  const seen = new Map<string, number>();
  const brokenLines = new Set<number>();
  const parser = input.pipe(
    parse({
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      info: true,
      on_skip: (error: CsvError | undefined) => {
        // One report per broken line, however many errors the parser finds in it.
        const line = Number(error?.lines ?? 0);
        if (error && !brokenLines.has(line)) {
          brokenLines.add(line);
          rejected.push({ line, reason: `broken CSV: ${error.message}` });
        }
      },
    }),
  );
  let records = 0;
  let lines = 0;
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    records += 1;
    lines = info.lines;
    if (records === 1 && looksLikeHeader(record)) continue;
    const outcome = organisationOfRecord(record, role, today);
    if ('reason' in outcome) {
      rejected.push({
        line: info.lines,
        ...(outcome.odsCode ? { odsCode: outcome.odsCode } : {}),
        reason: outcome.reason,
      });
    } else if (seen.has(outcome.odsCode)) {
      rejected.push({
        line: info.lines,
        odsCode: outcome.odsCode,
        reason: `organisation code ${outcome.odsCode} already appears on line ${seen.get(outcome.odsCode)}`,
      });
    } else {
      seen.set(outcome.odsCode, info.lines);
      rows.push(outcome);
    }
    if (records % 5000 === 0) options.progress?.(records);
  }
  options.progress?.(records);
  rejected.sort((a, b) => a.line - b.line);
  return { rows, rejected, lines };
}

import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { prepared } from '@platform/shared-persistence';
import { PDS_DATABASE, type PdsDatabase } from '../database/database.provider';
import { MAX_SUPERSEDED_HOPS, type StoredPatient } from '../patients/patient-record';
import { PATIENT_COLUMNS, toStored, type PatientRow } from '../patients/patient-row';
import type { DateRange, SearchQuery, TextTerm } from './search-query';

/** A matched patient (the surviving record) and how well it matched. */
export interface SearchHit {
  patient: StoredPatient;
  score: number;
}

/** Score factors: each is at most 1, and a perfect match of every parameter multiplies to exactly 1. */
const WILDCARD = 0.95;
const LATER_GIVEN = 0.95;
const HISTORIC = 0.9;
const TRANSPOSED = 0.85;
const PHONETIC_BASE = 0.8;
const PHONETIC_SIMILARITY = 0.15;
const GIVEN_MISMATCH = 0.6;
const FUZZY_MISMATCH = 0.9;

/** Collects bind parameters and answers their placeholders. */
class Binds {
  readonly values: unknown[] = [];

  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

function dateCondition(column: string, range: DateRange, binds: Binds): string {
  if (range.from !== undefined && range.from === range.to) return `${column} = ${binds.add(range.from, '::date')}`;
  const parts: string[] = [];
  if (range.from !== undefined) parts.push(`${column} >= ${binds.add(range.from, '::date')}`);
  if (range.to !== undefined) parts.push(`${column} <= ${binds.add(range.to, '::date')}`);
  return parts.join(' AND ');
}

function textCondition(column: string, term: TextTerm, binds: Binds): string {
  return term.pattern === undefined
    ? `${column} = ${binds.add(term.value)}`
    : `${column} LIKE ${binds.add(term.pattern)}`;
}

/** How alike two names are once they sound alike: 0.8 plus up to 0.15 for shared trigrams; 1 when equal. */
function phonetic(column: string, value: string): string {
  return `CASE WHEN ${column} = ${value} THEN 1.0::float8 ELSE ${PHONETIC_BASE} + ${PHONETIC_SIMILARITY} * public.similarity(${column}, ${value})::float8 END`;
}

/**
 * Name matching, in SQL over `patient_name` (one row per current or historic name, with its birth date): an
 * exact or wildcard family name, each given name asked for among the record's given names, and the score
 * of each name row.
 */
function nonFuzzyNames(query: SearchQuery, binds: Binds): { where: string[]; score: string } {
  const family = query.family;
  if (!family) throw new Error('a non-fuzzy search has a family name');
  const where = [textCondition('n.family_norm', family, binds)];
  const factors = [family.pattern === undefined ? '1.0' : String(WILDCARD)];
  query.given.forEach((given, index) => {
    where.push(
      given.pattern === undefined
        ? `${binds.add(given.value)} = ANY (n.given_norm)`
        : `EXISTS (SELECT 1 FROM unnest(n.given_norm) AS g(name) WHERE g.name LIKE ${binds.add(given.pattern)})`,
    );
    if (index === 0) {
      factors.push(`CASE WHEN ${textCondition('n.given_first', given, binds)} THEN 1.0 ELSE ${LATER_GIVEN} END`);
    }
    if (given.pattern !== undefined) factors.push(String(WILDCARD));
  });
  return { where, score: factors.join(' * ') };
}

/**
 * Fuzzy: family and first given name compared by their double metaphone keys (generated columns, indexed
 * with the birth date), also the other way round (transposed names); the score rewards equal and similar
 * spellings. A given name that does not sound alike lowers the score rather than excluding the patient.
 */
function fuzzyNames(query: SearchQuery, binds: Binds): { where: string[]; score: string } {
  const [firstGiven] = query.given;
  const given = firstGiven ? binds.add(firstGiven.value) : undefined;
  const givenKey = given ? `public.dmetaphone(${given})` : undefined;
  const givenScore = given
    ? `CASE WHEN n.given_first = ${given} THEN 1.0::float8 WHEN ${given} = ANY (n.given_norm) THEN ${LATER_GIVEN}::float8 ` +
      `WHEN n.given_key = ${givenKey} THEN ${phonetic('n.given_first', given)} ELSE ${GIVEN_MISMATCH}::float8 END`
    : '1.0::float8';
  if (!query.family) {
    if (!given || !givenKey) throw new Error('a fuzzy search has a family or a given name');
    return {
      where: [`(n.given_key = ${givenKey} OR n.family_key = ${givenKey})`],
      score: `CASE WHEN n.given_key = ${givenKey} THEN ${givenScore} ELSE ${TRANSPOSED} * ${phonetic('n.family_norm', given)} END`,
    };
  }
  const family = binds.add(query.family.value);
  const familyKey = `public.dmetaphone(${family})`;
  if (!given || !givenKey) {
    return { where: [`n.family_key = ${familyKey}`], score: phonetic('n.family_norm', family) };
  }
  return {
    where: [`(n.family_key = ${familyKey} OR (n.given_key = ${familyKey} AND n.family_key = ${givenKey}))`],
    score:
      `CASE WHEN n.family_key = ${familyKey} THEN ${phonetic('n.family_norm', family)} * ${givenScore} ` +
      `ELSE ${TRANSPOSED} * ${phonetic('n.given_first', family)} * ${phonetic('n.family_norm', given)} END`,
  };
}

/** The whole search as one statement; exported for tests of its plans. */
export function searchStatement(schema: string, query: SearchQuery): { text: string; values: unknown[] } {
  const table = (name: string): string => `"${schema}".${name}`;
  const binds = new Binds();
  const names = query.fuzzy ? fuzzyNames(query, binds) : nonFuzzyNames(query, binds);
  const nameWhere = [dateCondition('n.birth_date', query.birthDate, binds), ...names.where];
  if (!query.history) nameWhere.push('n.current');

  const patientWhere = ['p.superseded_by IS NULL', 'NOT p.invalidated'];
  const factors = ['max(m.score)'];
  if (query.gender !== undefined) patientWhere.push(`p.gender = ${binds.add(query.gender)}`);
  for (const [value, current, previous] of [
    [query.email, 'p.emails', 'p.previous_emails'],
    [query.phone, 'p.phones', 'p.previous_phones'],
  ] as const) {
    if (value === undefined) continue;
    const bound = binds.add(value);
    if (query.history) {
      // With history, a previous address or number also matches, as a previous name does: scoring less.
      patientWhere.push(`(${bound} = ANY (${current}) OR ${bound} = ANY (${previous}))`);
      factors.push(`CASE WHEN ${bound} = ANY (${current}) THEN 1.0 ELSE ${HISTORIC} END`);
    } else {
      patientWhere.push(`${bound} = ANY (${current})`);
    }
  }
  if (query.deathDate !== undefined) {
    const condition = dateCondition('p.death_date', query.deathDate, binds);
    if (query.fuzzy) factors.push(`CASE WHEN ${condition} THEN 1.0 ELSE ${FUZZY_MISMATCH} END`);
    else patientWhere.push(condition);
  }
  if (query.gp !== undefined) {
    const condition = `p.gp_ods = ${binds.add(query.gp)}`;
    if (query.fuzzy) factors.push(`CASE WHEN ${condition} THEN 1.0 ELSE ${FUZZY_MISMATCH} END`);
    else patientWhere.push(condition);
  }
  if (query.postcode !== undefined) {
    const current = query.history ? '' : ' AND a.current';
    factors.push(
      `(SELECT max(CASE WHEN a.current THEN 1.0 ELSE ${HISTORIC} END) FROM ${table('patient_address')} a ` +
        `WHERE a.nhs_number = p.nhs_number AND ${textCondition('a.postcode_norm', query.postcode, binds)}${current})`,
    );
  }
  // Spine never shows a restricted patient to a search that names where they live or who their GP is.
  if (query.postcode !== undefined || query.gp !== undefined) patientWhere.push('NOT p.restricted');
  const limit = binds.add(query.maxResults + 1, '::int');

  const text = `
    WITH RECURSIVE names AS (
      SELECT n.nhs_number, max((${names.score}) * CASE WHEN n.current THEN 1.0 ELSE ${HISTORIC} END) AS score
      FROM ${table('patient_name')} n
      WHERE ${nameWhere.join(' AND ')}
      GROUP BY n.nhs_number
    ), chain AS (
      -- A matched record, then the records that superseded it, up to ${MAX_SUPERSEDED_HOPS} merges on (as reads follow them).
      SELECT r.nhs_number, r.superseded_by, names.score, 0 AS hops
      FROM names JOIN ${table('patient')} r ON r.nhs_number = names.nhs_number
      UNION ALL
      SELECT s.nhs_number, s.superseded_by, chain.score, chain.hops + 1
      FROM chain JOIN ${table('patient')} s ON s.nhs_number = chain.superseded_by
      WHERE chain.hops < ${MAX_SUPERSEDED_HOPS}
    ), matched AS (
      SELECT nhs_number AS survivor, score FROM chain WHERE superseded_by IS NULL
    ), scored AS (
      SELECT p.nhs_number, round((${factors.join(' * ')})::numeric, 4)::float8 AS score
      FROM matched m JOIN ${table('patient')} p ON p.nhs_number = m.survivor
      WHERE ${patientWhere.join(' AND ')}
      GROUP BY p.nhs_number
    ), ranked AS (
      SELECT nhs_number, score FROM scored
      WHERE score IS NOT NULL${query.exact ? ' AND score = 1' : ''}
      ORDER BY score DESC, nhs_number
      LIMIT ${limit}
    )
    SELECT ${PATIENT_COLUMNS}, ranked.score
    FROM ranked JOIN ${table('patient')} p USING (nhs_number)
    ORDER BY ranked.score DESC, nhs_number`;
  return { text, values: binds.values };
}

interface HitRow extends PatientRow {
  score: number;
}

/** Patient search in PostgreSQL: the only code that reads the search tables. */
@Injectable()
export class PatientSearchRepository {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(@Inject(PDS_DATABASE) database: PdsDatabase) {
    this.pool = database.pool;
    this.schema = database.schema;
  }

  /**
   * The best `query.maxResults + 1` surviving records, best first (one more than asked for, so the caller
   * can tell that there were too many). `on` is the connection to search on: a write that searches inside its
   * transaction passes its own, so that it never waits on the pool for a second one while holding the first.
   */
  async search(query: SearchQuery, on: Pool | PoolClient = this.pool): Promise<SearchHit[]> {
    const statement = searchStatement(this.schema, query);
    // Planning costs as much as running a typical search, so statements are prepared (one per shape of
    // query). Not with wildcards: a LIKE pattern only uses the btree when it is planned with its value.
    const wildcards = [query.family, query.postcode, ...query.given].some((term) => term?.pattern !== undefined);
    const result = wildcards
      ? await on.query<HitRow>(statement.text, statement.values)
      : await on.query<HitRow>(prepared(statement.text, statement.values));
    return result.rows.map((row) => ({
      patient: toStored(row),
      score: row.score,
    }));
  }
}

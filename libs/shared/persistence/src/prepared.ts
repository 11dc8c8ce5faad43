import { createHash } from 'node:crypto';
import type { QueryConfig } from 'pg';

/**
 * Names already given, by statement text: a hot path calls prepared() with the same few texts thousands of
 * times a second, and hashing the text each time cost about 1% of the NHSmail relay's CPU under load. Bounded,
 * in case a caller builds texts that vary (it then hashes again, as before).
 */
const names = new Map<string, string>();
const MAX_NAMES = 1000;

/**
 * A query as a named prepared statement: PostgreSQL parses and plans it once per connection (and, after a few
 * runs with parameters, keeps a generic plan) instead of for every call. For a statement run very often whose
 * planning costs as much as its work (a hot path of several CTEs, say). The name comes from the text, so the
 * same text always has the same name and two texts never share one on a connection (pg refuses that).
 */
export function prepared(text: string, values: unknown[]): QueryConfig {
  let name = names.get(text);
  if (name === undefined) {
    name = `p_${createHash('sha1').update(text).digest('hex').slice(0, 30)}`;
    if (names.size >= MAX_NAMES) names.clear();
    names.set(text, name);
  }
  return { name, text, values };
}

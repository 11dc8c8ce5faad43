import { createHash } from 'node:crypto';
import type { QueryConfig } from 'pg';

/**
 * A query as a named prepared statement: PostgreSQL parses and plans it once per connection (and, after a few
 * runs with parameters, keeps a generic plan) instead of for every call. For a statement run very often whose
 * planning costs as much as its work (a hot path of several CTEs, say). The name comes from the text, so the
 * same text always has the same name and two texts never share one on a connection (pg refuses that).
 */
export function prepared(text: string, values: unknown[]): QueryConfig {
  return { name: `p_${createHash('sha1').update(text).digest('hex').slice(0, 30)}`, text, values };
}

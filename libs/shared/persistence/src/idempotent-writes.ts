import { createHash } from 'node:crypto';
import { escapeLiteral, type Pool, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';
import { PlatformError, type WireError } from '@platform/shared-errors';
import type { ServiceDatabase } from './database';

export interface WriteKey {
  /** Who asked (the token subject): a request ID is only ever matched with its own caller's. */
  callerId: string;
  /** X-Request-ID. */
  requestId: string;
  operation: string;
  /** The request itself, so a reused ID with another request is refused rather than answered wrongly. */
  request: unknown;
}

type Outcome<T> = { ok: T } | { error: WireError };

/**
 * Every write runs here, in one transaction that first claims its (caller, X-Request-ID). A retry, even one
 * that arrives while the first is still running (it waits on the claim), gets the first answer, error or
 * success, and changes nothing.
 *
 * A write holds exactly one pooled connection from start to end: `work` must do all its reading and writing
 * on the `transaction` it is given and never ask the pool for another (with every connection held by a write
 * waiting for a second one, nothing would ever finish).
 */
export class IdempotentWrites {
  private readonly pool: Pool;
  private readonly table: string;

  constructor(database: ServiceDatabase) {
    this.pool = database.pool;
    this.table = `"${database.schema}".idempotent_request`;
  }

  async run<T>(key: WriteKey, work: (transaction: PoolClient) => Promise<T>): Promise<T> {
    return this.claimAndRun(key, undefined, (transaction) => work(transaction));
  }

  /**
   * `run` with the write's first read sent in the claim's round trip, for a hot write whose every round trip
   * counts: 3 round trips instead of 4 around a read and a write. `read` writes one SQL statement with its values
   * as literals (the claim's round trip is a simple query, which takes no parameters: pass only values checked
   * or escaped with `escapeLiteral`) and puts `claimed`, an SQL condition true only while this request holds its
   * claim, in its WHERE: a retry whose first request has answered reads nothing, locks nothing, and gets the first
   * answer. `work` gets the read's rows. If the read fails (a lock taken NOWAIT, say), the whole write, claim
   * included, is rolled back and its error passed on, as a failure of `work` that is not a PlatformError is.
   */
  async runAfterRead<R extends QueryResultRow, T>(
    key: WriteKey,
    read: (claimed: string) => string,
    work: (transaction: PoolClient, rows: R[]) => Promise<T>,
  ): Promise<T> {
    return this.claimAndRun<T, R>(key, read, work);
  }

  private async claimAndRun<T, R extends QueryResultRow>(
    key: WriteKey,
    read: ((claimed: string) => string) | undefined,
    work: (transaction: PoolClient, rows: R[]) => Promise<T>,
  ): Promise<T> {
    const hash = createHash('sha256').update(JSON.stringify(key.request)).digest('hex');
    const caller = literal(key.callerId);
    const requestId = literal(key.requestId);
    // Only this request's own claim has no outcome yet: an earlier request's is committed with its answer.
    const claimed = `EXISTS (SELECT 1 FROM ${this.table} WHERE caller_id = ${caller} AND request_id = ${requestId} AND outcome IS NULL)`;
    const client = await this.pool.connect();
    let outcome: Outcome<T>;
    try {
      // BEGIN, the claim and the savepoint (and the first read, if any) in one round trip (a simple query of
      // several statements, so its values are written as literals): a write's fixed cost is its round trips,
      // each a socket write and a wake-up.
      const results = (await client.query(
        `BEGIN; INSERT INTO ${this.table} (caller_id, request_id, operation, request_hash)
         VALUES (${caller}, ${requestId}, ${literal(key.operation)}, ${literal(hash)})
         ON CONFLICT (caller_id, request_id) DO NOTHING; SAVEPOINT write${read ? `; ${read(claimed)}` : ''}`,
      )) as unknown as QueryResult<R>[];
      const claim = results[1];
      if (claim?.rowCount !== 1) {
        // The claim waited for the first request's transaction, so its answer is committed: read it on this
        // same connection (asking the pool for a second while holding one is how a pool deadlocks).
        await client.query('ROLLBACK');
        outcome = await this.earlierOutcome<T>(client, key, hash);
      } else {
        try {
          outcome = { ok: await work(client, read ? (results[3]?.rows ?? []) : []) };
        } catch (error) {
          // Only a final answer is kept for retries: a refusal. A service that could not be reached, or timed
          // out, or failed (5xx) is not an answer: the whole write, its claim included, is rolled back, so
          // that the retry the caller was told to make (Retry-After) runs it again.
          if (!(error instanceof PlatformError) || error.httpStatus >= 500) throw error;
          await client.query('ROLLBACK TO SAVEPOINT write');
          outcome = { error: error.toWire() };
        }
        // The answer and COMMIT in one round trip; if the UPDATE fails, the COMMIT after it is not run.
        await client.query(
          `UPDATE ${this.table} SET outcome = ${literal(JSON.stringify(outcome))}
            WHERE caller_id = ${caller} AND request_id = ${requestId}; COMMIT`,
        );
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    if ('error' in outcome) throw PlatformError.fromWire(outcome.error);
    return outcome.ok;
  }

  private async earlierOutcome<T>(client: PoolClient, key: WriteKey, hash: string): Promise<Outcome<T>> {
    const result = await client.query<{ operation: string; request_hash: string; outcome: Outcome<T> | null }>(
      `SELECT operation, request_hash, outcome FROM ${this.table} WHERE caller_id = $1 AND request_id = $2`,
      [key.callerId, key.requestId],
    );
    const earlier = result.rows[0];
    if (!earlier?.outcome) {
      throw new PlatformError('REC_SERVER_ERROR', 'The earlier request with this X-Request-ID has no answer');
    }
    if (earlier.operation !== key.operation || earlier.request_hash !== hash) {
      throw new PlatformError('INVALID_VALUE', 'Provided value is invalid', {
        diagnostics: "Invalid value - this 'X-Request-ID' was already used for a different request",
      });
    }
    return earlier.outcome;
  }
}

/**
 * A value as an SQL string literal (pg's escaping: quotes doubled, and backslashes with an E'' literal). A NUL
 * character would end the query text early, so it is refused (PostgreSQL refuses it in a parameter as well).
 */
function literal(value: string): string {
  if (value.includes('\0')) throw new PlatformError('INVALID_VALUE', 'Provided value is invalid');
  return escapeLiteral(value);
}

/** The key of a write: the caller (token subject) and the request ID of its call context. */
export function writeKey(
  context: { requestId: string; caller?: { id: string } },
  operation: string,
  request: unknown,
): WriteKey {
  return { callerId: context.caller?.id ?? 'anonymous', requestId: context.requestId, operation, request };
}

import type { Pool, PoolClient } from 'pg';
import { PlatformError } from '@platform/shared-errors';

/** Whether this pds serves NHS sandbox requests (started with PDS_SEED=sandbox). */
export const SANDBOX_MODE = Symbol('PDS_SANDBOX_MODE');

/**
 * Whether a request is a sandbox request this pds serves. A request marked `sandbox` (only a gateway in NHS
 * sandbox mode marks one) reaching a pds that holds real patients is refused rather than served in a way
 * the caller did not ask for.
 */
export function isSandboxRequest(request: { sandbox?: boolean | undefined }, sandboxMode: boolean): boolean {
  if (request.sandbox !== true) return false;
  if (!sandboxMode) {
    throw new PlatformError('INVALID_VALUE', undefined, {
      diagnostics: 'Sandbox requests are served only by a pds started with PDS_SEED=sandbox',
    });
  }
  return true;
}

/**
 * A write in sandbox mode: the same statements as the real write, in a transaction that is always rolled
 * back, so the answer is the one a real write would give and nothing is kept (no version, no event, no
 * stored answer for the X-Request-ID): the NHS sandbox "does not actually persist any updates".
 */
export async function dryRun<T>(pool: Pool, work: (transaction: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    return await work(client);
  } finally {
    // A connection whose rollback failed is closed rather than given back to the pool.
    await client.query('ROLLBACK').catch((error: Error) => (broken = error));
    client.release(broken);
  }
}

/**
 * The NHS number a sandbox create allocates: the one of the specification's 201 example for POST /Patient
 * (components/examples/Patient.json, the NHS sandbox's own Patient mock). The sandbox answers a documented
 * allocation the same way every time and never draws on the real allocation sequence (which a rolled-back
 * transaction would still advance: a sequence's numbers are never given back).
 */
export const SANDBOX_ALLOCATED_NHS_NUMBER = '9000000009';

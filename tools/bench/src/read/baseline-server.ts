// The benchmarks' baseline: the least a server can do to answer the same read. A bare Fastify 5
// server and a `pg` pool of the same size as the pds service's, running the same SELECT (as a prepared
// statement, as pds does) on the same table, answering the stored resource with its ETag. No auth, no
// NATS, no audit, no logging. Started by the benchmark as a child process (its own event loop, as the
// gateway has); tells its parent the port it listens on over IPC and exits when the parent goes away.
import Fastify from 'fastify';
import { Pool } from 'pg';

interface PatientRow {
  nhs_number: string;
  version: number;
  resource: Record<string, unknown>;
  restricted: boolean;
  superseded_by: string | null;
  invalidated: boolean;
}

export interface BaselineReady {
  type: 'ready';
  port: number;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`baseline: ${name} is required\n`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  const schema = required('BASELINE_DB_SCHEMA');
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new Error('BASELINE_DB_SCHEMA must be a lower-case SQL identifier');
  const pool = new Pool({
    connectionString: required('BASELINE_DATABASE_URL'),
    max: Number(process.env['BASELINE_POOL_SIZE'] ?? 10),
    application_name: 'bench-baseline',
    // The owner-of-IP query: a custom plan per execution costs more than the query itself (measured 0.42 ms
    // against 0.19 ms a round trip), so the baseline, the best a PostgreSQL-backed server can do, plans once.
    ...(process.env['BASELINE_N3_SCHEMA'] ? { options: '-c plan_cache_mode=force_generic_plan' } : {}),
  });
  const text = `SELECT nhs_number, version, resource, restricted, superseded_by, invalidated FROM "${schema}".patient WHERE nhs_number = $1`;

  const app = Fastify({ logger: false });
  app.get<{ Params: { id: string } }>('/Patient/:id', async (request, reply) => {
    const result = await pool.query<PatientRow>({ name: 'baseline_patient_get', text, values: [request.params.id] });
    const row = result.rows[0];
    if (!row)
      return reply
        .code(404)
        .send({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
    return reply.header('ETag', `W/"${row.version}"`).type('application/fhir+json; charset=utf-8').send(row.resource);
  });
  // The N3 owner-of-IP lookup, when the registry benchmark names the registry's schema: the same query as
  // the registry's repository, as a prepared statement, answering the holder as JSON.
  const n3Schema = process.env['BASELINE_N3_SCHEMA'];
  if (n3Schema) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(n3Schema))
      throw new Error('BASELINE_N3_SCHEMA must be a lower-case SQL identifier');
    const ownerText = `SELECT a.id, a.block::text AS cidr, c.id AS connection_id, c.status, o.ods_code, o.name
      FROM "${n3Schema}".ip_allocation a
      JOIN "${n3Schema}".connection c ON c.id = a.connection_id
      JOIN "${n3Schema}".organisation o ON o.ods_code = c.ods_code
      WHERE a.block >>= $1::inet AND a.released_at IS NULL AND c.status = ANY($2::text[])
      ORDER BY masklen(a.block) DESC LIMIT 1`;
    app.get<{ Querystring: { ip?: string } }>('/n3/ip-owner', async (request, reply) => {
      const result = await pool.query<{
        id: string;
        cidr: string;
        connection_id: string;
        status: string;
        ods_code: string;
        name: string;
      }>({
        name: 'baseline_ip_owner',
        text: ownerText,
        values: [request.query.ip ?? '', ['live', 'migrating']],
      });
      const row = result.rows[0];
      if (!row) return reply.code(404).send({ code: 'NO_LIVE_OWNER' });
      return reply.send({
        ip: request.query.ip,
        allocation: { id: row.id, cidr: row.cidr },
        connection: { id: row.connection_id, status: row.status },
        organisation: { odsCode: row.ods_code, name: row.name },
      });
    });
  }
  await app.listen({ host: '127.0.0.1', port: Number(process.env['BASELINE_PORT'] ?? 0) });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const forced = setTimeout(() => process.exit(1), 5000);
    forced.unref();
    void app
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
  const ready: BaselineReady = { type: 'ready', port };
  if (process.send) process.send(ready);
  else process.stdout.write(`baseline listening on http://127.0.0.1:${port}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`baseline failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

// The read benchmarks' second reference: one process doing all the work a read of a patient requires, and
// none of the platform's architecture (no NATS, no signed caller statement, no Nest, no second process).
// What it does is what the gateway and pds do between them for `GET /Patient/{id}`:
//
// - the access token: RS256 verified with `jose` against the identity provider's JWKS
//   (`createRemoteJWKSet`, the same cooldown and timeout), the same checks (issuer, algorithm, required
//   claims, clock tolerance, `typ: Bearer`, audience or trusted `azp`) and the same cache of verified tokens
//   (by token, until expiry, 10,000 entries) as the gateway's `TokenVerifier`;
// - X-Request-ID (a UUID), the route's roles and the organisation the caller acts for, as the gateway's
//   `CallerGate`; the NHS number's check digit, as pds;
// - the read and its audit row as pds's `ReadAuditRepository` does them: the same group-commit statement
//   (`WITH audit AS (INSERT INTO read_audit ...) SELECT <patient columns> FROM patient WHERE nhs_number =
//   ANY ($11::bpchar[])`, named, up to 500 entries a batch, two batches in flight), the same audit columns
//   from the verified caller, answered only once committed; the stored JSON text with its ETag.
//
// The statement and the token checks are written here rather than imported: the bench may not depend on the
// apps (module boundaries). If pds or the gateway change what a read does, this file must follow.
// Started by the benchmark as a child process; tells its parent its port over IPC and exits with it.
import Fastify, { type FastifyReply } from 'fastify';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { Pool } from 'pg';
import { isValidNhsNumber, isWellFormedOdsCode } from '@platform/shared-identifiers';
import type { BaselineReady } from './baseline-server';

/** The gateway's READ_ROLES for `GET /Patient/{id}`. */
const READ_ROLES = ['clinician', 'practice-admin', 'pharmacist', 'provider-clinician'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const TOKEN_CACHE_SIZE = 10_000;
const MAX_BATCH = 500;
const MAX_IN_FLIGHT = 2;

interface Claims extends JWTPayload {
  typ?: string;
  azp?: string;
  preferred_username?: string;
  realm_access?: { roles?: unknown };
  resource_access?: Record<string, { roles?: unknown }>;
  nhsd_organisations?: unknown;
  nhs_number?: unknown;
}

interface Token {
  subject: string;
  username?: string;
  clientId?: string;
  roles: string[];
  organisations: string[];
  expiresAt: number;
}

interface PatientRow {
  nhs_number: string;
  version: number;
  resource_json: string;
  restricted: boolean;
  superseded_by: string | null;
  invalidated: boolean;
}

interface AuditEntry {
  at: Date;
  nhsNumber: string;
  actorId: string;
  actorUsername?: string;
  clientId?: string;
  organisation?: string;
  roles: string[];
  requestId: string;
  correlationId?: string;
}

interface Waiting {
  entry: AuditEntry;
  resolve: (row: PatientRow | undefined) => void;
  reject: (error: unknown) => void;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`same-work server: ${name} is required\n`);
    process.exit(2);
  }
  return value;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/** The gateway's token verification: jose against the remote JWKS, the same checks, the same cache. */
class Tokens {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;
  private readonly cache = new Map<string, Token>();

  constructor(
    private readonly issuer: string,
    jwksUrl: string,
    private readonly audience: string,
    private readonly trustedClients: string[],
  ) {
    this.keys = createRemoteJWKSet(new URL(jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 3000 });
  }

  async verify(token: string): Promise<Token> {
    const cached = this.cache.get(token);
    if (cached) {
      if (cached.expiresAt * 1000 > Date.now()) return cached;
      this.cache.delete(token);
    }
    let claims: Claims;
    try {
      claims = (
        await jwtVerify<Claims>(token, this.keys, {
          issuer: this.issuer,
          algorithms: ['RS256'],
          requiredClaims: ['exp', 'iat', 'sub'],
          clockTolerance: 5,
        })
      ).payload;
    } catch {
      throw new Refusal(401, 'ACCESS_DENIED');
    }
    if (claims.typ !== 'Bearer') throw new Refusal(401, 'ACCESS_DENIED');
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
    if (!audiences.includes(this.audience) && !(claims.azp !== undefined && this.trustedClients.includes(claims.azp)))
      throw new Refusal(401, 'ACCESS_DENIED');
    const clientRoles = Object.values(claims.resource_access ?? {}).flatMap((access) => strings(access.roles));
    const verified: Token = {
      subject: String(claims.sub),
      username: claims.preferred_username,
      clientId: claims.azp,
      roles: [...new Set([...strings(claims.realm_access?.roles), ...clientRoles])],
      organisations: strings(claims.nhsd_organisations),
      expiresAt: claims.exp ?? 0,
    };
    if (this.cache.size >= TOKEN_CACHE_SIZE) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(token, verified);
    return verified;
  }
}

/** pds's read audit: the row and its committed audit entry in one statement, batched (group commit). */
class AuditedReads {
  private queue: Waiting[] = [];
  private inFlight = 0;
  private readonly text: string;
  private readonly name: string;

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    const table = (name: string): string => `"${schema}".${name}`;
    this.name = `same_work_read_audit_${schema}`;
    this.text = `WITH audit AS (
         INSERT INTO ${table('read_audit')}
           (at, nhs_number, action, actor_id, actor_username, client_id, organisation, roles, request_id, correlation_id)
         SELECT at, nhs_number, action, actor_id, actor_username, client_id, organisation,
                string_to_array(roles, ','), request_id, correlation_id
         FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::text[], $10::text[])
           AS t(at, nhs_number, action, actor_id, actor_username, client_id, organisation, roles, request_id, correlation_id)
       )
       SELECT nhs_number, version, resource::text AS resource_json, restricted, superseded_by, invalidated
       FROM ${table('patient')} WHERE nhs_number = ANY ($11::bpchar[])`;
  }

  read(entry: AuditEntry): Promise<PatientRow | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight += 1;
      void this.write(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    try {
      const entries = batch.map((waiting) => waiting.entry);
      const column = <K extends keyof AuditEntry>(key: K): (AuditEntry[K] | null)[] =>
        entries.map((entry) => entry[key] ?? null);
      const result = await this.pool.query<PatientRow>({
        name: this.name,
        text: this.text,
        values: [
          column('at'),
          column('nhsNumber'),
          entries.map(() => 'patient.read'),
          column('actorId'),
          column('actorUsername'),
          column('clientId'),
          column('organisation'),
          entries.map((entry) => entry.roles.join(',')),
          column('requestId'),
          column('correlationId'),
          [...new Set(entries.map((entry) => entry.nhsNumber))],
        ],
      });
      const byNhsNumber = new Map(result.rows.map((row) => [row.nhs_number, row]));
      for (const waiting of batch) waiting.resolve(byNhsNumber.get(waiting.entry.nhsNumber));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function main(): Promise<void> {
  const schema = required('SAME_WORK_DB_SCHEMA');
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new Error('SAME_WORK_DB_SCHEMA must be a lower-case SQL identifier');
  const issuer = required('SAME_WORK_OIDC_ISSUER');
  const tokens = new Tokens(
    issuer,
    process.env['SAME_WORK_OIDC_JWKS_URL'] ?? `${issuer}/protocol/openid-connect/certs`,
    process.env['SAME_WORK_OIDC_AUDIENCE'] ?? 'nhs-platform',
    (process.env['SAME_WORK_OIDC_TRUSTED_CLIENTS'] ?? '').split(',').filter(Boolean),
  );
  const pool = new Pool({
    connectionString: required('SAME_WORK_DATABASE_URL'),
    max: Number(process.env['SAME_WORK_POOL_SIZE'] ?? 10),
    application_name: 'bench-same-work',
  });
  const reads = new AuditedReads(pool, schema);

  const app = Fastify({ logger: false });
  const refuse = (reply: FastifyReply, status: number, code: string): FastifyReply =>
    reply
      .code(status)
      .type('application/fhir+json; charset=utf-8')
      .send({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', details: code }] });

  app.get<{ Params: { id: string } }>('/Patient/:id', async (request, reply) => {
    try {
      const match = /^bearer +([\w-]+\.[\w-]*\.[\w-]*)$/i.exec(header(request.headers.authorization) ?? '');
      if (!match?.[1]) throw new Refusal(401, 'ACCESS_DENIED');
      const token = await tokens.verify(match[1]);
      const requestId = header(request.headers['x-request-id']);
      if (!requestId || !UUID.test(requestId)) throw new Refusal(400, 'INVALID_VALUE');
      if (!READ_ROLES.some((role) => token.roles.includes(role))) throw new Refusal(403, 'ACCESS_DENIED');
      const claimed = header(request.headers['nhsd-end-user-organisation-ods']);
      let organisation: string | undefined;
      if (claimed) {
        organisation = claimed.toUpperCase();
        if (!isWellFormedOdsCode(organisation)) throw new Refusal(400, 'INVALID_VALUE');
        if (!token.organisations.includes(organisation)) throw new Refusal(403, 'ACCESS_DENIED');
      } else {
        if (token.organisations.length > 1) throw new Refusal(400, 'MISSING_VALUE');
        organisation = token.organisations[0];
      }
      const nhsNumber = request.params.id;
      if (!isValidNhsNumber(nhsNumber)) throw new Refusal(400, 'INVALID_RESOURCE_ID');
      const correlationId = header(request.headers['x-correlation-id']);
      const row = await reads.read({
        at: new Date(),
        nhsNumber,
        actorId: token.subject,
        actorUsername: token.username,
        clientId: token.clientId,
        organisation,
        roles: token.roles,
        requestId,
        correlationId: correlationId ? correlationId.slice(0, 200) : undefined,
      });
      // The benchmark reads only patients that are neither restricted, superseded nor invalidated; anything
      // else would need pds's redaction or redirection, which this server does not do.
      if (!row || row.invalidated || row.superseded_by || row.restricted) throw new Refusal(404, 'RESOURCE_NOT_FOUND');
      return reply
        .header('ETag', `W/"${row.version}"`)
        .header('X-Request-ID', requestId)
        .type('application/fhir+json; charset=utf-8')
        .send(row.resource_json);
    } catch (error) {
      if (error instanceof Refusal) return refuse(reply, error.status, error.code);
      throw error;
    }
  });
  await app.listen({ host: '127.0.0.1', port: Number(process.env['SAME_WORK_PORT'] ?? 0) });
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
  else process.stdout.write(`same-work server listening on http://127.0.0.1:${port}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`same-work server failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

import { IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { CallerTrustConfig } from '@platform/shared-config';

/** N3 registry configuration, from environment variables of the same names. */
export class N3Config extends CallerTrustConfig {
  @Matches(/^nats:\/\/\S+$/, { message: 'NATS_URL must look like nats://host:port' })
  NATS_URL = 'nats://127.0.0.1:4222';

  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'N3_DB_SCHEMA must be a lower-case SQL identifier' })
  N3_DB_SCHEMA = 'n3';

  @IsInt()
  @Min(1)
  @Max(200)
  N3_DB_POOL_SIZE = 10;

  /** Longest wait for a database connection before a request is answered 503 (Retry-After) instead. */
  @IsInt()
  @Min(100)
  @Max(60000)
  N3_DB_ACQUIRE_TIMEOUT_MS = 2000;

  /** PostgreSQL's statement_timeout for the service's statements (migrations are not bound by it). */
  @IsInt()
  @Min(100)
  @Max(600000)
  N3_DB_STATEMENT_TIMEOUT_MS = 10000;

  @IsInt()
  @Min(0)
  @Max(65535)
  N3_HTTP_PORT = 9465;

  @IsString()
  N3_HTTP_HOST = '127.0.0.1';

  /** How long a write's answer is kept for retries with the same X-Request-ID. */
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  N3_IDEMPOTENCY_RETENTION_HOURS = 72;

  /** How long events already relayed to JetStream stay in the outbox table. */
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  N3_OUTBOX_RETENTION_HOURS = 168;

  /** `sandbox` loads the organisations the NHS reference payloads name, with demo connections and blocks. */
  @IsIn(['none', 'sandbox'])
  N3_SEED: 'none' | 'sandbox' = 'none';

  /**
   * With the sandbox seed: where the demo practices' GP Connect providers answer (the GP Connect provider
   * simulator the launcher starts); each sandbox GP practice without an endpoint gets `<url>/<ODS code>/fhir`.
   */
  @Matches(/^https?:\/\/[^\s/]+$/, { message: 'N3_SANDBOX_GPCONNECT_URL must be http(s)://host:port' })
  N3_SANDBOX_GPCONNECT_URL = 'http://127.0.0.1:9480';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

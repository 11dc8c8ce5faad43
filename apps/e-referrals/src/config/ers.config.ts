import { IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { CallerTrustConfig } from '@platform/shared-config';

/** E referrals configuration, from environment variables of the same names (and the caller-trust keys). */
export class EReferralsConfig extends CallerTrustConfig {
  @Matches(/^nats:\/\/\S+$/, { message: 'NATS_URL must look like nats://host:port' })
  NATS_URL = 'nats://127.0.0.1:4222';

  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'ERS_DB_SCHEMA must be a lower-case SQL identifier' })
  ERS_DB_SCHEMA = 'ers';

  @IsInt()
  @Min(1)
  @Max(200)
  ERS_DB_POOL_SIZE = 10;

  /** Longest wait for a database connection before a request is answered 503 (Retry-After) instead. */
  @IsInt()
  @Min(100)
  @Max(60000)
  ERS_DB_ACQUIRE_TIMEOUT_MS = 2000;

  /** PostgreSQL's statement_timeout for the service's statements (migrations are not bound by it). */
  @IsInt()
  @Min(100)
  @Max(600000)
  ERS_DB_STATEMENT_TIMEOUT_MS = 10000;

  @IsInt()
  @Min(0)
  @Max(65535)
  ERS_HTTP_PORT = 9467;

  @IsString()
  ERS_HTTP_HOST = '127.0.0.1';

  /** How long a write's answer is kept for retries with the same X-Request-ID. */
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  ERS_IDEMPOTENCY_RETENTION_HOURS = 72;

  /** How long events already relayed to JetStream stay in the outbox table. */
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  ERS_OUTBOX_RETENTION_HOURS = 168;

  /** Longest wait for PDS or the N3 registry to answer a request made on the caller's behalf. */
  @IsInt()
  @Min(100)
  @Max(60_000)
  ERS_RPC_TIMEOUT_MS = 3000;

  /** `sandbox` loads the postcodes, services, slots and referrals the NHS reference examples name. */
  @IsIn(['none', 'sandbox'])
  ERS_SEED: 'none' | 'sandbox' = 'none';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

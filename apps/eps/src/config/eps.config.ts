import { IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { CallerTrustConfig } from '@platform/shared-config';

/** EPS configuration, from environment variables of the same names. */
export class EpsConfig extends CallerTrustConfig {
  @Matches(/^nats:\/\/\S+$/, { message: 'NATS_URL must look like nats://host:port' })
  NATS_URL = 'nats://127.0.0.1:4222';

  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'EPS_DB_SCHEMA must be a lower-case SQL identifier' })
  EPS_DB_SCHEMA = 'eps';

  @IsInt()
  @Min(1)
  @Max(200)
  EPS_DB_POOL_SIZE = 10;

  /** Longest wait for a database connection before a request is answered 503 (Retry-After) instead. */
  @IsInt()
  @Min(100)
  @Max(60000)
  EPS_DB_ACQUIRE_TIMEOUT_MS = 2000;

  /** PostgreSQL's statement_timeout for the service's statements (migrations are not bound by it). */
  @IsInt()
  @Min(100)
  @Max(600000)
  EPS_DB_STATEMENT_TIMEOUT_MS = 10000;

  @IsInt()
  @Min(0)
  @Max(65535)
  EPS_HTTP_PORT = 9466;

  @IsString()
  EPS_HTTP_HOST = '127.0.0.1';

  /** How long PDS and the N3 registry may take to answer a check. */
  @IsInt()
  @Min(100)
  @Max(60_000)
  EPS_RPC_TIMEOUT_MS = 3000;

  /** How often the expiry job looks for prescriptions past their validity. */
  @IsInt()
  @Min(10)
  @Max(24 * 3600)
  EPS_EXPIRY_EVERY_SECONDS = 3600;

  @IsInt()
  @Min(1)
  @Max(24 * 365)
  EPS_IDEMPOTENCY_RETENTION_HOURS = 72;

  @IsInt()
  @Min(1)
  @Max(24 * 365)
  EPS_OUTBOX_RETENTION_HOURS = 168;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

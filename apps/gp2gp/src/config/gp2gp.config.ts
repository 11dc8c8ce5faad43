import { IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { CallerTrustConfig } from '@platform/shared-config';

/** Gp2gp configuration, from environment variables of the same names (and the caller-trust keys). */
export class Gp2gpConfig extends CallerTrustConfig {
  @Matches(/^nats:\/\/\S+$/, { message: 'NATS_URL must look like nats://host:port' })
  NATS_URL = 'nats://127.0.0.1:4222';

  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'GP2GP_DB_SCHEMA must be a lower-case SQL identifier' })
  GP2GP_DB_SCHEMA = 'gp2gp';

  @IsInt()
  @Min(1)
  @Max(200)
  GP2GP_DB_POOL_SIZE = 10;

  /** Longest wait for a database connection before a request is answered 503 (Retry-After) instead. */
  @IsInt()
  @Min(100)
  @Max(60000)
  GP2GP_DB_ACQUIRE_TIMEOUT_MS = 2000;

  /** PostgreSQL's statement_timeout for the service's statements (migrations are not bound by it). */
  @IsInt()
  @Min(100)
  @Max(600000)
  GP2GP_DB_STATEMENT_TIMEOUT_MS = 10000;

  @IsInt()
  @Min(0)
  @Max(65535)
  GP2GP_HTTP_PORT = 9468;

  @IsString()
  GP2GP_HTTP_HOST = '127.0.0.1';

  /** How long a write's answer is kept for retries with the same X-Request-ID. */
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  GP2GP_IDEMPOTENCY_RETENTION_HOURS = 72;

  /** How long events already relayed to JetStream stay in the outbox table. */
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  GP2GP_OUTBOX_RETENTION_HOURS = 168;

  /**
   * The key attachment links are signed with (HMAC-SHA256), the same on every replica. Unset: a random key per
   * process, so a link works only on the replica that made it (fine for one local process, not for a cluster).
   */
  @IsString()
  GP2GP_LINK_SECRET = '';

  /** How long an attachment link in a delivered Bundle stays valid. */
  @IsInt()
  @Min(10)
  @Max(24 * 60 * 60)
  GP2GP_LINK_TTL_SECONDS = 900;

  /** Attachments larger than this are split into fragments of this size (GP2GP's large-message limit, 4.5 MB). */
  @IsInt()
  @Min(64 * 1024)
  @Max(64 * 1024 * 1024)
  GP2GP_FRAGMENT_BYTES = 4_500_000;

  /** The largest structured record (the Bundle without its attachments) accepted from a sending practice. */
  @IsInt()
  @Min(16 * 1024)
  @Max(768 * 1024)
  GP2GP_MAX_EXTRACT_BYTES = 512 * 1024;

  /** How long the requesting practice has to send its final acknowledgement (GP2GP: 8 days), in hours. */
  @IsInt()
  @Min(1)
  @Max(24 * 60)
  GP2GP_ACK_TIMEOUT_HOURS = 192;

  /** Transfers one process moves at the same time. */
  @IsInt()
  @Min(1)
  @Max(64)
  GP2GP_WORKERS = 4;

  /** A worker's claim on a transfer; a transfer whose worker died is taken over this long after its last step. */
  @IsInt()
  @Min(500)
  @Max(600000)
  GP2GP_LEASE_MS = 30000;

  /** Tries of a sending practice's system that fails or does not answer, before the transfer fails (10 or 30). */
  @IsInt()
  @Min(1)
  @Max(50)
  GP2GP_SENDER_ATTEMPTS = 5;

  /** Timeout of one request to a sending practice's GP Connect provider (per read of data, not whole document). */
  @IsInt()
  @Min(100)
  @Max(600000)
  GP2GP_SENDER_TIMEOUT_MS = 30000;

  /** How often the worker looks for work and for acknowledgements that are overdue. */
  @IsInt()
  @Min(20)
  @Max(60000)
  GP2GP_POLL_MS = 500;

  /** The fragment object store's size limit in bytes (0: as large as JetStream allows). */
  @IsInt()
  @Min(0)
  GP2GP_OBJECT_STORE_MAX_BYTES = 0;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { CallerTrustConfig } from '@platform/shared-config';

/** Nhsmail relay configuration, from environment variables of the same names (and the caller-trust keys). */
export class NhsmailRelayConfig extends CallerTrustConfig {
  @Matches(/^nats:\/\/\S+$/, { message: 'NATS_URL must look like nats://host:port' })
  NATS_URL = 'nats://127.0.0.1:4222';

  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'NHSMAIL_DB_SCHEMA must be a lower-case SQL identifier' })
  NHSMAIL_DB_SCHEMA = 'nhsmail';

  @IsInt()
  @Min(1)
  @Max(200)
  NHSMAIL_DB_POOL_SIZE = 10;

  /** Longest wait for a database connection before a request is answered 503 (Retry-After) instead. */
  @IsInt()
  @Min(100)
  @Max(60000)
  NHSMAIL_DB_ACQUIRE_TIMEOUT_MS = 2000;

  /** PostgreSQL's statement_timeout for the service's statements (migrations are not bound by it). */
  @IsInt()
  @Min(100)
  @Max(600000)
  NHSMAIL_DB_STATEMENT_TIMEOUT_MS = 10000;

  @IsInt()
  @Min(0)
  @Max(65535)
  NHSMAIL_HTTP_PORT = 9469;

  @IsString()
  NHSMAIL_HTTP_HOST = '127.0.0.1';

  /** How long a write's answer is kept for retries with the same X-Request-ID. */
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  NHSMAIL_IDEMPOTENCY_RETENTION_HOURS = 72;

  /** How long events already relayed to JetStream stay in the outbox table. */
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  NHSMAIL_OUTBOX_RETENTION_HOURS = 168;

  /** Listen address of both SMTP ports. */
  @IsString()
  NHSMAIL_SMTP_HOST = '127.0.0.1';

  /** Authenticated submission (587 in production): STARTTLS, then AUTH. 0: any free port (tests). */
  @IsInt()
  @Min(0)
  @Max(65535)
  NHSMAIL_SUBMISSION_PORT = 2587;

  /** Relay and inbound (25 in production): the platform's domains from anyone, other domains from live N3 only. */
  @IsInt()
  @Min(0)
  @Max(65535)
  NHSMAIL_RELAY_PORT = 2525;

  /** The server certificate chain and its private key (PEM files) for STARTTLS. The launcher makes a local pair. */
  @IsString()
  @Matches(/\S/, { message: 'NHSMAIL_TLS_CERT must name the PEM certificate file for STARTTLS' })
  NHSMAIL_TLS_CERT = '';

  @IsString()
  @Matches(/\S/, { message: 'NHSMAIL_TLS_KEY must name the PEM private key file for STARTTLS' })
  NHSMAIL_TLS_KEY = '';

  /** The platform's own mail domains, comma-separated: mail for them is delivered to mailboxes. */
  @Matches(/^[a-z0-9.-]+(,[a-z0-9.-]+)*$/, { message: 'NHSMAIL_DOMAINS must be comma-separated domain names' })
  NHSMAIL_DOMAINS = 'nhs.net';

  /** The name the SMTP servers greet with. */
  @IsString()
  NHSMAIL_HOSTNAME = 'relay.nhs.net';

  /** Largest message accepted (announced with SIZE, enforced while streaming). */
  @IsInt()
  @Min(1024)
  @Max(200 * 1024 * 1024)
  NHSMAIL_MAX_MESSAGE_BYTES = 35 * 1024 * 1024;

  /** How long the answer of the N3 registry's owner-of-IP lookup is kept. */
  @IsInt()
  @Min(0)
  @Max(3600)
  NHSMAIL_N3_CACHE_SECONDS = 30;

  /**
   * Where an event-notice durable consumer that does not exist yet starts: `new` (the events published from the
   * relay's first start on), `all` (every event the stream holds) or an ISO 8601 UTC time. An existing durable
   * keeps its place whatever this says.
   */
  @Matches(/^(new|all|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z)$/, {
    message: 'NHSMAIL_NOTICES_START must be new, all or an ISO 8601 UTC time such as 2026-12-01T00:00:00Z',
  })
  NHSMAIL_NOTICES_START = 'new';

  /** `true`: make gp.<ODS>@ and pharmacy.<ODS>@ for the N3 registry directory's organisations at every start. */
  @IsIn(['true', 'false'], { message: 'NHSMAIL_PROVISION_DIRECTORY_AT_START must be true or false' })
  NHSMAIL_PROVISION_DIRECTORY_AT_START = 'false';

  /** Failed logins in a row that lock a mailbox, and for how long. */
  @IsInt()
  @Min(1)
  @Max(100)
  NHSMAIL_LOCKOUT_ATTEMPTS = 5;

  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  NHSMAIL_LOCKOUT_SECONDS = 900;

  /** The identity provider whose access tokens XOAUTH2 accepts (as the gateway's OIDC_* settings). */
  @Matches(/^https?:\/\/\S+$/, { message: 'OIDC_ISSUER must be an http(s) URL' })
  OIDC_ISSUER = 'http://127.0.0.1:8081/realms/nhs';

  /** Unset: <OIDC_ISSUER>/protocol/openid-connect/certs. */
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'OIDC_JWKS_URL must be an http(s) URL' })
  OIDC_JWKS_URL?: string = undefined;

  @IsString()
  OIDC_AUDIENCE = 'nhs-platform';

  /** Where mail for other domains goes: smtp://host:port (unset: it waits in the queue, deferred). */
  @IsOptional()
  @Matches(/^smtps?:\/\/\S+$/, { message: 'NHSMAIL_SMARTHOST_URL must look like smtp://host:port' })
  NHSMAIL_SMARTHOST_URL?: string = undefined;

  /**
   * Mail to other domains without a smarthost, and to these domains (comma-separated) even with one, goes
   * straight to the domain's mail hosts, found by MX lookup (outbound/mx-resolver.ts).
   */
  @Matches(/^([a-z0-9.-]+(,[a-z0-9.-]+)*)?$/i, { message: 'NHSMAIL_MX_DOMAINS must be comma-separated domain names' })
  NHSMAIL_MX_DOMAINS = '';

  /** DNS servers for MX lookups, comma-separated `ip` or `ip:port` (`[ipv6]:port`); empty: the system's. */
  @Matches(/^([0-9a-f.:[\]]+(,[0-9a-f.:[\]]+)*)?$/i, {
    message: 'NHSMAIL_DNS_SERVERS must be comma-separated addresses such as 10.0.0.2 or 127.0.0.1:5353',
  })
  NHSMAIL_DNS_SERVERS = '';

  /** The SMTP port of the mail hosts found by MX lookup (25; another only for tests). */
  @IsInt()
  @Min(1)
  @Max(65535)
  NHSMAIL_MX_PORT = 25;

  /** DKIM: the signing domain, selector and private key (PEM file). Unset key: outbound mail is not signed. */
  @IsString()
  NHSMAIL_DKIM_DOMAIN = 'nhs.net';

  @IsString()
  NHSMAIL_DKIM_SELECTOR = 'relay';

  @IsOptional()
  @IsString()
  NHSMAIL_DKIM_KEY?: string = undefined;

  /** Delivery worker: parallel deliveries, how often it looks for due work, and how long a claim lasts. */
  @IsInt()
  @Min(1)
  @Max(200)
  NHSMAIL_DELIVERY_CONCURRENCY = 8;

  @IsInt()
  @Min(10)
  @Max(60000)
  NHSMAIL_DELIVERY_POLL_MS = 250;

  @IsInt()
  @Min(1)
  @Max(3600)
  NHSMAIL_DELIVERY_LEASE_SECONDS = 120;

  /** Temporary failures: first retry after this, doubling each time, up to the limit of attempts. */
  @IsInt()
  @Min(1)
  @Max(86400)
  NHSMAIL_RETRY_BASE_SECONDS = 60;

  @IsInt()
  @Min(1)
  @Max(100)
  NHSMAIL_RETRY_LIMIT = 10;

  /** A still-undelivered message gets the sender a delay notice after this long (once). */
  @IsInt()
  @Min(1)
  @Max(7 * 86400)
  NHSMAIL_DELAY_NOTICE_SECONDS = 4 * 3600;

  /** [secure] mail: AES-256-GCM keys `id:base64` (32 bytes), comma-separated, the current one first. Unset: such mail waits. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,40}:[A-Za-z0-9+/]{43}=(,[A-Za-z0-9._-]{1,40}:[A-Za-z0-9+/]{43}=)*$/, {
    message: 'NHSMAIL_SECURE_KEYS must be id:base64 pairs of 32-byte keys, comma-separated',
  })
  NHSMAIL_SECURE_KEYS?: string = undefined;

  /** Outside domains accredited to receive [secure] mail in clear, comma-separated. */
  @Matches(/^([a-z0-9.-]+(,[a-z0-9.-]+)*)?$/, {
    message: 'NHSMAIL_ACCREDITED_DOMAINS must be comma-separated domain names',
  })
  NHSMAIL_ACCREDITED_DOMAINS = '';

  /** The gateway's public address, for the links in [secure] notices. */
  @Matches(/^https?:\/\/\S+$/, { message: 'NHSMAIL_SECURE_PAGE_URL must be an http(s) URL' })
  NHSMAIL_SECURE_PAGE_URL = 'http://127.0.0.1:8080';

  /** How long a [secure] link works, a code works, wrong codes before the link locks, and a session lasts. */
  @IsInt()
  @Min(1)
  @Max(365)
  NHSMAIL_SECURE_LINK_DAYS = 30;

  @IsInt()
  @Min(1)
  @Max(60)
  NHSMAIL_SECURE_CODE_MINUTES = 10;

  @IsInt()
  @Min(1)
  @Max(20)
  NHSMAIL_SECURE_CODE_ATTEMPTS = 5;

  @IsInt()
  @Min(1)
  @Max(120)
  NHSMAIL_SECURE_SESSION_MINUTES = 15;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

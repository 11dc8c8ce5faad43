import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

/** Gateway configuration, from environment variables of the same names. */
export class GatewayConfig {
  @IsString()
  GATEWAY_HOST = '127.0.0.1';

  @IsInt()
  @Min(0)
  @Max(65535)
  GATEWAY_PORT = 8080;

  @Matches(/^nats:\/\/\S+$/, { message: 'NATS_URL must look like nats://host:port' })
  NATS_URL = 'nats://127.0.0.1:4222';

  /** The URL clients reach the gateway at, for FHIR fullUrl values; defaults to the scheme and host of each request. */
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'GATEWAY_PUBLIC_URL must be an http(s) URL' })
  GATEWAY_PUBLIC_URL?: string = undefined;

  /** Keycloak realm URL; tokens must carry exactly this `iss`. */
  @Matches(/^https?:\/\/\S+$/, { message: 'OIDC_ISSUER must be an http(s) URL' })
  OIDC_ISSUER = 'http://127.0.0.1:8081/realms/nhs';

  /** Defaults to Keycloak's `<issuer>/protocol/openid-connect/certs`. */
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'OIDC_JWKS_URL must be an http(s) URL' })
  OIDC_JWKS_URL?: string = undefined;

  /** A token is for the platform when its `aud` holds this value... */
  @IsString()
  OIDC_AUDIENCE = 'nhs-platform';

  /** ...or when its `azp` is one of these client IDs (comma-separated). */
  @IsString()
  OIDC_TRUSTED_CLIENTS = '';

  /** NHS-sandbox-compatible mode: FHIR APIs answer without a token. */
  @IsBoolean()
  SANDBOX = false;

  @IsInt()
  @Min(100)
  @Max(120_000)
  GATEWAY_RPC_TIMEOUT_MS = 5000;

  @IsInt()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  GATEWAY_BODY_LIMIT_BYTES = 1024 * 1024;

  /** ODS extracts (text/csv) for the N3 registry's import: 50,000 organisations are about 12 MB. */
  @IsInt()
  @Min(1024)
  @Max(1024 * 1024 * 1024)
  GATEWAY_IMPORT_LIMIT_BYTES = 128 * 1024 * 1024;

  /** Longest request URL (path and query) accepted; longer ones get 414. Node refuses headers over 16 KB itself (431). */
  @IsInt()
  @Min(256)
  @Max(16 * 1024)
  GATEWAY_MAX_URL_BYTES = 8192;

  /** Deepest nesting of arrays and objects in a JSON body (the NHS's payloads nest about 15 deep); deeper is 400. */
  @IsInt()
  @Min(8)
  @Max(256)
  GATEWAY_JSON_MAX_DEPTH = 32;

  /** Sustained requests per second per client application (token `azp`). */
  @IsInt()
  @Min(1)
  RATE_LIMIT_PER_CLIENT = 3000;

  /** Burst size per client. */
  @IsInt()
  @Min(1)
  RATE_LIMIT_BURST = 3000;

  /** Per-client overrides: `client=rate:burst,client2=rate:burst`. */
  @Matches(/^$|^[\w.-]+=\d+:\d+(,[\w.-]+=\d+:\d+)*$/, { message: 'RATE_LIMIT_OVERRIDES must be client=rate:burst,...' })
  RATE_LIMIT_OVERRIDES = '';

  @IsBoolean()
  ACCESS_LOG = true;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

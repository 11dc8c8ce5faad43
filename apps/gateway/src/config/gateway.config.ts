import { CallerTrustConfig } from '@platform/shared-config';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  Validate,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';

/** Whether a host name or address is this machine's own: localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(?:\.\d{1,3}){3}$/.test(bare);
}

function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * SANDBOX opens the PDS FHIR routes without a token, so it is for a developer's own machine only: the
 * gateway refuses to start in sandbox mode unless the identity issuer (and JWKS), its public URL and its
 * listen address are all loopback. A production issuer or address names the variable that is wrong.
 */
@ValidatorConstraint({ name: 'sandboxIsLocal' })
class SandboxIsLocal implements ValidatorConstraintInterface {
  private problems(config: GatewayConfig): string[] {
    if (config.SANDBOX !== true) return [];
    const problems: string[] = [];
    if (!isLoopbackUrl(config.OIDC_ISSUER)) problems.push('OIDC_ISSUER');
    if (config.OIDC_JWKS_URL !== undefined && !isLoopbackUrl(config.OIDC_JWKS_URL)) problems.push('OIDC_JWKS_URL');
    if (config.GATEWAY_PUBLIC_URL !== undefined && !isLoopbackUrl(config.GATEWAY_PUBLIC_URL))
      problems.push('GATEWAY_PUBLIC_URL');
    if (!isLoopbackHost(config.GATEWAY_HOST)) problems.push('GATEWAY_HOST');
    return problems;
  }

  validate(_value: unknown, args: ValidationArguments): boolean {
    return this.problems(args.object as GatewayConfig).length === 0;
  }

  defaultMessage(args: ValidationArguments): string {
    return `sandbox mode (no token on the PDS FHIR routes) runs only on a local machine: ${this.problems(
      args.object as GatewayConfig,
    ).join(', ')} must be a loopback address (localhost, 127.0.0.1, ::1)`;
  }
}

/** Gateway configuration, from environment variables of the same names. */
export class GatewayConfig extends CallerTrustConfig {
  @IsString()
  GATEWAY_HOST = '127.0.0.1';

  @IsInt()
  @Min(0)
  @Max(65535)
  GATEWAY_PORT = 8080;

  @Matches(/^nats:\/\/\S+$/, { message: 'NATS_URL must look like nats://host:port' })
  NATS_URL = 'nats://127.0.0.1:4222';

  /**
   * The URL clients reach the gateway at, for FHIR fullUrl and Location values (required in the chart). Unset,
   * the gateway's own listen address is used; the request's Host header never is.
   */
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

  /**
   * NHS-sandbox-compatible mode: the PDS FHIR routes answer without a token. Local only: refused unless the
   * issuer, public URL and listen address are loopback. Other routes (EPS, N3, admin) still need a token.
   */
  @IsBoolean()
  @Validate(SandboxIsLocal)
  SANDBOX = false;

  @IsInt()
  @Min(100)
  @Max(120_000)
  GATEWAY_RPC_TIMEOUT_MS = 5000;

  /**
   * The most any JSON body may be; each route has its own smaller limit under it (PDS writes 64 KiB, N3 writes
   * 16 KiB, EPS messages 512 KiB), applied while the body streams in, after the caller is known.
   */
  @IsInt()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  GATEWAY_BODY_LIMIT_BYTES = 1024 * 1024;

  /**
   * ODS extracts (text/csv) for the N3 registry's import: 50,000 organisations are about 12 MB. Streamed to
   * the object store as it arrives (never held whole), and only from a registry-admin.
   */
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

  /**
   * Public clients (no secret, shared by many people, e.g. the demo CLI): their buckets are per user (token
   * `sub`) rather than one for the whole client. Comma-separated client IDs.
   */
  @Matches(/^$|^[\w.-]+(,[\w.-]+)*$/, { message: 'RATE_LIMIT_PUBLIC_CLIENTS must be client IDs, comma-separated' })
  RATE_LIMIT_PUBLIC_CLIENTS = 'platform-cli';

  /**
   * Sustained requests per second per client address, counted before the token is verified (so invalid
   * tokens count too). Behind a proxy, set GATEWAY_TRUSTED_PROXY_HOPS so that the address is the client's.
   */
  @IsInt()
  @Min(1)
  RATE_LIMIT_PER_ADDRESS = 3000;

  @IsInt()
  @Min(1)
  RATE_LIMIT_ADDRESS_BURST = 3000;

  /**
   * How many proxies in front of the gateway add to X-Forwarded-For (1 behind the ingress controller); 0
   * trusts no X-Forwarded-For and uses the connection's address.
   */
  @IsInt()
  @Min(0)
  @Max(5)
  GATEWAY_TRUSTED_PROXY_HOPS = 0;

  /**
   * A separate listener for /metrics (the pod's own port, never routed by the ingress; the chart sets it).
   * Set, /metrics is not served on GATEWAY_PORT; 0 (local runs), it is served there as before.
   */
  @IsInt()
  @Min(0)
  @Max(65535)
  GATEWAY_METRICS_PORT = 0;

  /**
   * The HMAC key of e-RS A042's temporary content locations (at least 32 characters, e.g. 32 random bytes in
   * base64), the same on every replica. Unset: a random key per process, so a location works only on the
   * replica that gave it out (fine for one local gateway, not for a cluster).
   */
  @Matches(/^$|^\S{32,}$/, { message: 'GATEWAY_ERS_LINK_SECRET must be at least 32 characters, no spaces' })
  GATEWAY_ERS_LINK_SECRET = '';

  /** Per-client overrides: `client=rate:burst,client2=rate:burst`. */
  @Matches(/^$|^[\w.-]+=\d+:\d+(,[\w.-]+=\d+:\d+)*$/, { message: 'RATE_LIMIT_OVERRIDES must be client=rate:burst,...' })
  RATE_LIMIT_OVERRIDES = '';

  @IsBoolean()
  ACCESS_LOG = true;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

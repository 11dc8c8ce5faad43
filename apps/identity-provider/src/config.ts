import { IsInt, IsNotEmpty, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';
import { DEFAULT_ACCESS_TOKEN_TTL_SECONDS, DEFAULT_DEMO_PASSWORD, PLATFORM_AUDIENCE } from './demo-realm';

/**
 * The local identity provider's settings, read once at start from these environment variables. Client secrets
 * are read per client (IDP_CLIENT_SECRET_<CLIENT_ID>) when the provider starts.
 */
export class IdentityProviderConfig {
  @IsString()
  @IsNotEmpty()
  IDP_HOST: string = '127.0.0.1';

  /** 0 picks a free port. */
  @IsInt()
  @Min(0)
  @Max(65535)
  IDP_PORT: number = 8081;

  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  IDP_ISSUER?: string = undefined;

  @IsInt()
  @Min(1)
  @Max(86400)
  IDP_ACCESS_TOKEN_TTL: number = DEFAULT_ACCESS_TOKEN_TTL_SECONDS;

  @IsString()
  @IsNotEmpty()
  IDP_DEMO_PASSWORD: string = DEFAULT_DEMO_PASSWORD;

  @IsString()
  @IsNotEmpty()
  IDP_AUDIENCE: string = PLATFORM_AUDIENCE;
}

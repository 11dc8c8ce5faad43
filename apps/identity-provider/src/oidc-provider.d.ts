// oidc-provider ships no type declarations. This declares the part of its API the local identity provider
// uses (checked against oidc-provider 9.13: lib/provider.js, lib/helpers/errors.js, lib/actions/token.js).
declare module 'oidc-provider' {
  import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

  export interface Client {
    readonly clientId: string;
    readonly scope?: string;
  }

  export interface OIDCContext {
    /** Request parameters allowed for the route (token endpoint: those registered for the grant); set once parsed. */
    readonly params?: Readonly<Record<string, string | undefined>>;
    /** The authenticated client (token endpoint), once client authentication has run. */
    readonly client?: Client;
    readonly route?: string;
  }

  /** The Koa context oidc-provider hands to middleware and grant handlers. */
  export interface KoaContext {
    path: string;
    /** Set it, as koa-mount does, when stripping the issuer's path before oidc-provider's router. */
    mountPath?: string;
    readonly method: string;
    readonly headers: IncomingHttpHeaders;
    status: number;
    body: unknown;
    set(field: string, value: string): void;
    readonly oidc: OIDCContext;
  }

  export type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
  export type GrantHandler = (ctx: KoaContext) => Promise<void>;

  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    token_endpoint_auth_method?: 'none' | 'client_secret_basic' | 'client_secret_post';
    grant_types?: string[];
    response_types?: string[];
    redirect_uris?: string[];
    scope?: string;
  }

  export interface AccountClaims {
    sub: string;
    [claim: string]: unknown;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<AccountClaims> | AccountClaims;
  }

  export interface FeatureToggle {
    enabled: boolean;
  }

  export type RouteName =
    | 'authorization'
    | 'end_session'
    | 'introspection'
    | 'jwks'
    | 'revocation'
    | 'token'
    | 'userinfo';

  export interface ErrorOut {
    error: string;
    error_description?: string;
  }

  export interface Configuration {
    clients?: ClientMetadata[];
    jwks?: { keys: Record<string, unknown>[] };
    features?: Record<string, FeatureToggle>;
    routes?: Partial<Record<RouteName, string>>;
    responseTypes?: string[];
    scopes?: string[];
    claims?: Record<string, string[]>;
    findAccount?: (ctx: KoaContext, sub: string) => Promise<Account | undefined>;
    clientBasedCORS?: (ctx: KoaContext, origin: string, client: Client) => boolean;
    renderError?: (ctx: KoaContext, out: ErrorOut, error: Error) => void | Promise<void>;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    /** Looks a client up; static clients' metadata is validated (and may throw) on the first lookup. */
    readonly Client: { find(clientId: string): Promise<Client | undefined> };
    /** Node request listener (Koa's `app.callback()`). */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    /** Adds a Koa middleware that runs before oidc-provider's own routes. */
    use(middleware: Middleware): this;
    registerGrantType(name: string, handler: GrantHandler, params?: string | readonly string[]): void;
    on(event: 'grant.error' | 'server_error', listener: (ctx: KoaContext, error: Error) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
  }

  export namespace errors {
    class OIDCProviderError extends Error {
      error: string;
      error_description?: string;
      status: number;
      statusCode: number;
      expose: boolean;
    }
    class CustomOIDCProviderError extends OIDCProviderError {
      constructor(error: string, description: string);
    }
    class InvalidRequest extends OIDCProviderError {
      constructor(description?: string, status?: number);
    }
    class InvalidScope extends OIDCProviderError {
      constructor(description: string, scope: string);
    }
  }
}

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { format } from 'node:util';
import { SignJWT, jwtVerify } from 'jose';
import type { Logger } from '@platform/shared-logging';
import type * as OidcProvider from 'oidc-provider';
import type { ClientMetadata, Configuration, GrantHandler, KoaContext, Middleware } from 'oidc-provider';
import {
  buildAccessTokenClaims,
  resolveScope,
  subjectForServiceAccount,
  subjectForUser,
  userinfoFromClaims,
  SUPPORTED_SCOPES,
  type TokenSubject,
} from './claims';
import {
  clientSecret,
  DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
  DEFAULT_DEMO_PASSWORD,
  DEMO_CLIENTS,
  findDemoClient,
  findDemoUser,
  PLATFORM_AUDIENCE,
  REALM_NAME,
} from './demo-realm';
import { KEYCLOAK_PATHS } from './keycloak-paths';
import { createSigningKey, SIGNING_ALGORITHM, type SigningKey } from './signing-key';

export interface IdentityProviderOptions {
  host: string;
  /** 0 picks a free port; the issuer then carries the port actually bound. */
  port: number;
  /** Overrides `http://<host>:<port>/realms/<realm>`, e.g. when the provider is reached through another name. */
  issuer?: string;
  realm?: string;
  /** `aud` of every access token. */
  audience?: string;
  accessTokenTtlSeconds?: number;
  demoPassword?: string;
  /** Secrets of the confidential clients by client id; otherwise IDP_CLIENT_SECRET_<CLIENT_ID>, then the demo default. */
  clientSecrets?: Readonly<Record<string, string>>;
  logger: Logger;
}

export interface RunningIdentityProvider {
  readonly issuer: string;
  /** Base URL of the HTTP listener. */
  readonly url: string;
  close(): Promise<void>;
}

/** The issuer Keycloak would have on this host and port. A wildcard listen address is named `localhost`. */
export function defaultIssuer(host: string, port: number, realm: string = REALM_NAME): string {
  return `http://${hostForUrl(host)}:${port}/realms/${realm}`;
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

interface IssuedToken {
  accessToken: string;
  expiresIn: number;
}

/**
 * Starts the local, Keycloak-compatible identity provider. oidc-provider serves discovery, the JWKS and client
 * authentication at Keycloak's paths; the password and client_credentials grants are handled here and issue
 * Keycloak-shaped RS256 access tokens signed with the key oidc-provider publishes.
 */
export async function startIdentityProvider(options: IdentityProviderOptions): Promise<RunningIdentityProvider> {
  const { logger } = options;
  const ttlSeconds = options.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS;
  const audience = options.audience ?? PLATFORM_AUDIENCE;
  const demoPassword = options.demoPassword ?? DEFAULT_DEMO_PASSWORD;

  let handle: RequestListener = (_request, response) => {
    response.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}');
  };
  const server = createServer((request, response) => handle(request, response));
  await listen(server, options.port, options.host);

  try {
    const port = (server.address() as AddressInfo).port;
    const issuer = (options.issuer ?? defaultIssuer(options.host, port, options.realm)).replace(/\/+$/, '');
    const mountPath = new URL(issuer).pathname.replace(/\/+$/, '');
    const key = await createSigningKey();
    const oidc = await loadOidcProvider(logger);
    const { errors } = oidc;

    const issue = async (clientId: string, subject: TokenSubject, scope: string, serviceAccount: boolean) => {
      const claims = buildAccessTokenClaims({
        issuer,
        audience,
        clientId,
        subject,
        scope,
        serviceAccount,
        issuedAt: Math.floor(Date.now() / 1000),
        ttlSeconds,
        tokenId: randomUUID(),
      });
      const accessToken = await new SignJWT(claims)
        .setProtectedHeader({ alg: SIGNING_ALGORITHM, typ: 'JWT', kid: key.kid })
        .sign(key.privateKey);
      return { accessToken, expiresIn: ttlSeconds } satisfies IssuedToken;
    };

    const grantedScope = (requested: string | undefined): string => {
      const { scope, unknown } = resolveScope(requested);
      if (unknown.length > 0) throw new errors.InvalidScope(`Invalid scopes: ${unknown.join(' ')}`, unknown.join(' '));
      return scope;
    };

    // Keycloak "direct access grants": a public client exchanges a demo user's name and password.
    const passwordGrant: GrantHandler = async (ctx) => {
      const client = authenticatedClient(ctx);
      const params = ctx.oidc.params ?? {};
      for (const name of ['username', 'password']) {
        if (!params[name]) throw new errors.InvalidRequest(`missing required parameter '${name}'`);
      }
      const scope = grantedScope(params['scope']);
      const user = findDemoUser(params['username'] ?? '');
      if (!user || !samePassword(params['password'] ?? '', demoPassword)) {
        const error = new errors.CustomOIDCProviderError('invalid_grant', 'Invalid user credentials');
        error.status = 401;
        error.statusCode = 401;
        throw error;
      }
      const token = await issue(client, subjectForUser(user), scope, false);
      ctx.body = tokenResponse(token, scope);
      logger.info(
        { event: 'token.issued', grantType: 'password', clientId: client, username: user.username },
        'token issued',
      );
    };

    // Application access: the service account of a confidential client, authenticated by oidc-provider.
    const clientCredentialsGrant: GrantHandler = async (ctx) => {
      const client = authenticatedClient(ctx);
      const demoClient = findDemoClient(client);
      if (demoClient?.type !== 'confidential') {
        throw new errors.CustomOIDCProviderError(
          'unauthorized_client',
          'Client not enabled to retrieve service account',
        );
      }
      const scope = grantedScope(ctx.oidc.params?.['scope']);
      const token = await issue(client, subjectForServiceAccount(demoClient), scope, true);
      ctx.body = tokenResponse(token, scope);
      logger.info({ event: 'token.issued', grantType: 'client_credentials', clientId: client }, 'token issued');
    };

    const provider = await withLibraryNoticesLogged(logger, () => {
      const created = new oidc.default(issuer, providerConfiguration(key, options.clientSecrets));
      // Registered here rather than through features.clientCredentials: both grants issue the same token shape.
      created.registerGrantType('password', passwordGrant, ['username', 'password', 'scope']);
      created.registerGrantType('client_credentials', clientCredentialsGrant, ['scope']);
      return created;
    });
    // oidc-provider validates static client metadata on first use: do it now, so a bad client fails the start.
    await Promise.all(DEMO_CLIENTS.map((client) => provider.Client.find(client.clientId)));
    provider.use(keycloakRouting(mountPath, userinfoHandler(key, issuer, options.realm ?? REALM_NAME)));
    provider.on('grant.error', (ctx, error) => {
      const params = ctx.oidc.params ?? {};
      logger.info(
        {
          event: 'token.rejected',
          grantType: params['grant_type'],
          clientId: ctx.oidc.client?.clientId ?? params['client_id'],
          error: describeError(error),
        },
        'token request rejected',
      );
    });
    provider.on('server_error', (_ctx, error) => logger.error({ err: error }, 'identity provider request failed'));
    provider.on('error', (error) => logger.error({ err: error }, 'identity provider request failed'));
    handle = provider.callback();

    const url = `http://${hostForUrl(options.host)}:${port}`;
    return { issuer, url, close: () => closeServer(server) };
  } catch (error) {
    await closeServer(server);
    throw error;
  }
}

function providerConfiguration(key: SigningKey, secrets: Readonly<Record<string, string>> = {}): Configuration {
  const clients: ClientMetadata[] = DEMO_CLIENTS.map((client) =>
    client.type === 'public'
      ? {
          client_id: client.clientId,
          token_endpoint_auth_method: 'none',
          grant_types: ['password'],
          response_types: [],
          redirect_uris: [],
        }
      : {
          client_id: client.clientId,
          client_secret: secrets[client.clientId] ?? clientSecret(client),
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
        },
  );
  return {
    clients,
    jwks: { keys: [{ ...key.privateJwk }] },
    routes: { ...KEYCLOAK_PATHS, end_session: '/protocol/openid-connect/logout' },
    responseTypes: ['code'],
    scopes: [...SUPPORTED_SCOPES],
    claims: { openid: ['sub'], profile: ['name', 'given_name', 'family_name', 'preferred_username'] },
    features: {
      // Only the grants Keycloak's direct access and service accounts offer; no browser login, PAR or DPoP.
      devInteractions: { enabled: false },
      dPoP: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      resourceIndicators: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      userinfo: { enabled: true },
    },
    // Local runs only: a browser tool (an API explorer) may call the token endpoint from any origin.
    clientBasedCORS: () => true,
    renderError: (ctx, out) => {
      ctx.body = out;
    },
  };
}

/**
 * Serves oidc-provider under the issuer's path (`/realms/nhs`), as koa-mount would, answers the health probes
 * and the userinfo endpoint, and gives a JSON 404 for anything else.
 */
function keycloakRouting(mountPath: string, userinfo: Middleware): Middleware {
  return async (ctx, next) => {
    if (ctx.path === '/health/live' || ctx.path === '/health/ready') {
      ctx.body = { status: 'UP' };
      return;
    }
    if (mountPath !== '') {
      if (ctx.path !== mountPath && !ctx.path.startsWith(`${mountPath}/`)) {
        ctx.status = 404;
        ctx.body = { error: 'not_found', error_description: `no realm at ${ctx.path}` };
        return;
      }
      ctx.mountPath = mountPath;
      ctx.path = ctx.path.slice(mountPath.length) || '/';
    }
    if (ctx.path === KEYCLOAK_PATHS.userinfo && (ctx.method === 'GET' || ctx.method === 'POST')) {
      await userinfo(ctx, next);
      return;
    }
    await next();
  };
}

/**
 * Keycloak's userinfo endpoint for the access tokens issued here (oidc-provider's own only accepts tokens it
 * stored and that have no audience).
 */
function userinfoHandler(key: SigningKey, issuer: string, realm: string): Middleware {
  return async (ctx) => {
    const match = /^Bearer\s+(\S+)$/i.exec(ctx.headers.authorization ?? '');
    ctx.set('Cache-Control', 'no-store');
    if (!match?.[1]) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', `Bearer realm="${realm}"`);
      ctx.body = { error: 'invalid_request', error_description: 'Token not provided' };
      return;
    }
    try {
      const { payload } = await jwtVerify(match[1], key.publicKey, {
        issuer,
        algorithms: [SIGNING_ALGORITHM],
        typ: 'JWT',
      });
      if (payload['typ'] !== 'Bearer') throw new Error('not an access token');
      ctx.body = userinfoFromClaims(payload);
    } catch {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer error="invalid_token", error_description="Token verification failed"');
      ctx.body = { error: 'invalid_token', error_description: 'Token verification failed' };
    }
  };
}

function authenticatedClient(ctx: KoaContext): string {
  const clientId = ctx.oidc.client?.clientId;
  // oidc-provider authenticates the client before any grant handler runs.
  if (clientId === undefined) throw new Error('grant handler reached without an authenticated client');
  return clientId;
}

function tokenResponse(token: IssuedToken, scope: string): Record<string, unknown> {
  return {
    access_token: token.accessToken,
    expires_in: token.expiresIn,
    refresh_expires_in: 0,
    token_type: 'Bearer',
    'not-before-policy': 0,
    scope,
  };
}

function samePassword(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function describeError(error: Error): string {
  const oauth = error as Error & { error?: unknown; error_description?: unknown };
  return typeof oauth.error === 'string'
    ? `${oauth.error}${typeof oauth.error_description === 'string' ? `: ${oauth.error_description}` : ''}`
    : error.message;
}

type OidcProviderModule = typeof OidcProvider;

/**
 * oidc-provider is ESM-only: it is loaded with a real dynamic import (the build keeps `import()`), which works
 * from the CommonJS output on every supported Node version.
 */
async function loadOidcProvider(logger: Logger): Promise<OidcProviderModule> {
  return withLibraryNoticesLogged(logger, () => import('oidc-provider'));
}

// Notices oidc-provider prints for choices made on purpose here: Node 20 is below its supported LTS line (the
// platform runs on Node >= 20.19 and is tested there), and the in-memory store is right for a local provider
// whose tokens are self-contained JWTs.
const EXPECTED_NOTICES = /Unsupported runtime|in-memory adapter/;

/**
 * Runs a step during which oidc-provider may print notices with console.warn/console.info, and turns them into
 * log lines so that the process output stays one JSON line per event.
 */
async function withLibraryNoticesLogged<T>(logger: Logger, step: () => T | Promise<T>): Promise<T> {
  const { warn, info } = console;
  const relay = (...args: unknown[]) => {
    const message = format(...args);
    if (EXPECTED_NOTICES.test(message)) logger.debug({ source: 'oidc-provider' }, message);
    else logger.warn({ source: 'oidc-provider' }, message);
  };
  console.warn = relay;
  console.info = relay;
  try {
    return await step();
  } finally {
    console.warn = warn;
    console.info = info;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}

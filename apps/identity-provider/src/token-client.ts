import { KEYCLOAK_PATHS } from './keycloak-paths';

/** The identity provider did not answer: nothing listens at the URL, or it did not respond in time. */
export class IdentityProviderUnreachableError extends Error {
  constructor(
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(`identity provider not reachable at ${url}`, options);
    this.name = 'IdentityProviderUnreachableError';
  }
}

/** The identity provider answered the token request with an OAuth error. */
export class TokenRequestError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string | undefined,
  ) {
    super(description === undefined ? error : `${error}: ${description}`);
    this.name = 'TokenRequestError';
  }
}

export type TokenGrant =
  | { grantType: 'password'; clientId: string; username: string; password: string }
  | { grantType: 'client_credentials'; clientId: string; clientSecret: string };

/**
 * Requests an access token from a Keycloak-compatible realm URL (`http://host:port/realms/nhs`) and returns
 * the compact JWT.
 */
export async function requestAccessToken(realmUrl: string, grant: TokenGrant, timeoutMs = 5000): Promise<string> {
  const body = new URLSearchParams({ grant_type: grant.grantType });
  const headers: Record<string, string> = { accept: 'application/json' };
  if (grant.grantType === 'password') {
    body.set('client_id', grant.clientId);
    body.set('username', grant.username);
    body.set('password', grant.password);
  } else {
    const credentials = `${encodeURIComponent(grant.clientId)}:${encodeURIComponent(grant.clientSecret)}`;
    headers['authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }

  const url = realmUrl.replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(`${url}${KEYCLOAK_PATHS.token}`, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw new IdentityProviderUnreachableError(url, { cause });
  }

  const text = await response.text();
  let payload: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object') payload = parsed as Record<string, unknown>;
  } catch {
    // not JSON: reported below as a failed request
  }
  const accessToken = payload['access_token'];
  if (response.ok && typeof accessToken === 'string' && accessToken !== '') return accessToken;
  const error = typeof payload['error'] === 'string' ? payload['error'] : `HTTP ${response.status}`;
  const description = typeof payload['error_description'] === 'string' ? payload['error_description'] : undefined;
  throw new TokenRequestError(response.status, error, description);
}

/** Keycloak's endpoint paths under a realm's issuer (`<server>/realms/<realm>`). */
export const KEYCLOAK_PATHS = {
  authorization: '/protocol/openid-connect/auth',
  token: '/protocol/openid-connect/token',
  jwks: '/protocol/openid-connect/certs',
  userinfo: '/protocol/openid-connect/userinfo',
} as const;

export const DISCOVERY_PATH = '/.well-known/openid-configuration';

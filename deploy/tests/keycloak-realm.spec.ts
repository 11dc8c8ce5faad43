// deploy/keycloak/: the realm `nhs` as production imports it (realm-nhs-production.json) and as local runs,
// dev and staging have it (realm-nhs.json, which the local identity provider mirrors). Production must not let
// a public client take a user's password (the OAuth password grant, Keycloak's "direct access grants"), nor
// carry the demo users; otherwise the two realms are the same, so a change to one that is not made to the
// other fails here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './manifests';

interface RealmClient {
  clientId: string;
  description?: string;
  publicClient: boolean;
  bearerOnly?: boolean;
  standardFlowEnabled: boolean;
  implicitFlowEnabled: boolean;
  directAccessGrantsEnabled: boolean;
  serviceAccountsEnabled: boolean;
  secret?: string;
  redirectUris: string[];
  attributes: Record<string, string>;
}

interface RealmUser {
  username: string;
  serviceAccountClientId?: string;
  credentials?: unknown[];
}

interface Realm {
  realm: string;
  sslRequired: string;
  registrationAllowed: boolean;
  bruteForceProtected: boolean;
  clients: RealmClient[];
  users: RealmUser[];
}

const keycloakDir = path.join(repoRoot, 'deploy/keycloak');
const load = (file: string): Realm => JSON.parse(readFileSync(path.join(keycloakDir, file), 'utf8')) as Realm;
const production = load('realm-nhs-production.json');
const demo = load('realm-nhs.json');

const DEVICE_GRANT = 'oauth2.device.authorization.grant.enabled';

/** The production realm as it must be: the demo realm with exactly these differences. */
function productionFrom(realm: Realm): Realm {
  const copy = structuredClone(realm);
  for (const client of copy.clients) {
    if (client.clientId !== 'platform-cli') continue;
    client.description = 'Command line tooling: OAuth 2.0 device authorization grant (no password grant in production)';
    client.directAccessGrantsEnabled = false;
    client.attributes = { ...client.attributes, [DEVICE_GRANT]: 'true' };
  }
  copy.users = copy.users.filter((user) => user.serviceAccountClientId !== undefined);
  return copy;
}

describe('Keycloak realm for production (deploy/keycloak/realm-nhs-production.json)', () => {
  it('lets no public client use the password grant or the implicit flow', () => {
    const publicClients = production.clients.filter((client) => client.publicClient);
    expect(publicClients.map((client) => client.clientId)).toEqual(['platform-cli']);
    for (const client of publicClients) {
      expect({
        clientId: client.clientId,
        directAccessGrantsEnabled: client.directAccessGrantsEnabled,
        implicitFlowEnabled: client.implicitFlowEnabled,
      }).toEqual({ clientId: client.clientId, directAccessGrantsEnabled: false, implicitFlowEnabled: false });
    }
  });

  it('lets no client at all use the password grant; the command line signs in with the device grant', () => {
    expect(production.clients.filter((client) => client.directAccessGrantsEnabled).map((c) => c.clientId)).toEqual([]);
    const cli = production.clients.find((client) => client.clientId === 'platform-cli');
    expect(cli).toMatchObject({ standardFlowEnabled: false, redirectUris: [], attributes: { [DEVICE_GRANT]: 'true' } });
  });

  it('holds no demo users and no credentials: only the service accounts of the confidential clients', () => {
    expect(production.users.map((user) => [user.username, user.serviceAccountClientId])).toEqual(
      production.clients
        .filter((client) => client.serviceAccountsEnabled)
        .map((client) => [`service-account-${client.clientId}`, client.clientId]),
    );
    expect(production.users.filter((user) => user.credentials !== undefined)).toEqual([]);
    for (const client of production.clients.filter((candidate) => !candidate.publicClient)) {
      expect([client.clientId, client.secret]).toEqual([client.clientId, '**********']);
    }
  });

  it('requires TLS, refuses self-registration and locks out password guessing', () => {
    expect(production).toMatchObject({ realm: 'nhs', registrationAllowed: false, bruteForceProtected: true });
    expect(['external', 'all']).toContain(production.sslRequired);
  });

  it('is otherwise the realm local runs use, so that the two cannot drift apart', () => {
    expect(production).toEqual(productionFrom(demo));
  });
});

describe('Keycloak realm for local runs, dev and staging (deploy/keycloak/realm-nhs.json)', () => {
  it('keeps the password grant only on the public command-line client, for the demo users', () => {
    expect(
      demo.clients.filter((client) => client.directAccessGrantsEnabled).map((c) => [c.clientId, c.publicClient]),
    ).toEqual([['platform-cli', true]]);
    expect(demo.users.filter((user) => user.credentials !== undefined)).toEqual([]);
  });
});

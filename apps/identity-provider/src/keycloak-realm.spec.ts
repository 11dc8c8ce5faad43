import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  confidentialClients,
  DEMO_CLIENTS,
  DEMO_USERS,
  PLATFORM_AUDIENCE,
  REALM_NAME,
  REALM_ROLES,
  serviceAccountUsername,
} from './demo-realm';

// The production Keycloak realm and the local provider must agree on roles, clients, users and claims.

interface ProtocolMapper {
  name: string;
  protocolMapper: string;
  config: Record<string, string>;
}

interface RealmClient {
  id: string;
  clientId: string;
  publicClient: boolean;
  directAccessGrantsEnabled: boolean;
  serviceAccountsEnabled: boolean;
  standardFlowEnabled: boolean;
  secret?: string;
  protocolMappers: ProtocolMapper[];
}

interface RealmUser {
  id: string;
  username: string;
  firstName?: string;
  lastName?: string;
  serviceAccountClientId?: string;
  attributes: Record<string, string[]>;
  realmRoles: string[];
  credentials?: unknown;
}

interface RealmExport {
  realm: string;
  accessTokenLifespan: number;
  roles: { realm: { name: string }[] };
  clients: RealmClient[];
  users: RealmUser[];
  components: Record<string, { providerId: string; config: Record<string, string[]> }[]>;
}

const file = path.join(__dirname, '../../../deploy/keycloak/realm-nhs.json');
const text = readFileSync(file, 'utf8');
const realm = JSON.parse(text) as RealmExport;

function client(clientId: string): RealmClient {
  const found = realm.clients.find((candidate) => candidate.clientId === clientId);
  if (!found) throw new Error(`client ${clientId} missing from ${file}`);
  return found;
}

describe('deploy/keycloak/realm-nhs.json', () => {
  it('is the nhs realm with the seven realm roles and a 300 s access token lifespan', () => {
    expect(realm.realm).toBe(REALM_NAME);
    expect(realm.roles.realm.map((role) => role.name)).toEqual([...REALM_ROLES]);
    expect(realm.accessTokenLifespan).toBe(300);
  });

  it('has the same clients: platform-cli public with direct access grants, the systems confidential', () => {
    expect(realm.clients.map((candidate) => [candidate.clientId, candidate.id])).toEqual(
      DEMO_CLIENTS.map((demo) => [demo.clientId, demo.id]),
    );
    expect(client('platform-cli')).toMatchObject({
      publicClient: true,
      directAccessGrantsEnabled: true,
      serviceAccountsEnabled: false,
      standardFlowEnabled: false,
    });
    for (const demo of confidentialClients()) {
      expect(client(demo.clientId)).toMatchObject({
        publicClient: false,
        directAccessGrantsEnabled: false,
        serviceAccountsEnabled: true,
        secret: '**********',
      });
    }
  });

  it('maps the platform audience, nhsd_organisations, nhs_number and realm roles into every access token', () => {
    for (const candidate of realm.clients) {
      const byType = new Map(candidate.protocolMappers.map((mapper) => [mapper.protocolMapper, mapper.config]));
      const byName = new Map(candidate.protocolMappers.map((mapper) => [mapper.name, mapper.config]));
      expect(byType.get('oidc-audience-mapper')).toMatchObject({
        'included.custom.audience': PLATFORM_AUDIENCE,
        'access.token.claim': 'true',
      });
      expect(byName.get('nhsd_organisations')).toMatchObject({
        'user.attribute': 'nhsd_organisations',
        'claim.name': 'nhsd_organisations',
        multivalued: 'true',
        'access.token.claim': 'true',
      });
      expect(byName.get('nhs_number')).toMatchObject({
        'user.attribute': 'nhs_number',
        'claim.name': 'nhs_number',
        multivalued: 'false',
        'access.token.claim': 'true',
      });
      expect(byType.get('oidc-usermodel-realm-role-mapper')).toMatchObject({
        'claim.name': 'realm_access.roles',
        'access.token.claim': 'true',
      });
    }
  });

  it('has the demo users with the same ids, roles and organisations, and the service accounts', () => {
    const expected = [
      ...DEMO_USERS.map((user) => ({
        id: user.id,
        username: user.username,
        roles: [...user.roles],
        organisations: [...user.organisations],
        nhsNumbers: user.nhsNumber ? [user.nhsNumber] : [],
      })),
      ...confidentialClients().map((demo) => ({
        id: demo.serviceAccountUserId,
        username: serviceAccountUsername(demo.clientId),
        roles: [...demo.roles],
        organisations: [...demo.organisations],
        nhsNumbers: [],
      })),
    ];
    const actual = realm.users.map((user) => ({
      id: user.id,
      username: user.username,
      roles: user.realmRoles,
      organisations: user.attributes['nhsd_organisations'] ?? [],
      nhsNumbers: user.attributes['nhs_number'] ?? [],
    }));
    expect(actual).toEqual(expected);
    for (const demo of confidentialClients()) {
      const account = realm.users.find((user) => user.username === serviceAccountUsername(demo.clientId));
      expect(account?.serviceAccountClientId).toBe(demo.clientId);
    }
  });

  it('declares nhsd_organisations as a multivalued attribute in the user profile', () => {
    const [provider] = realm.components['org.keycloak.userprofile.UserProfileProvider'] ?? [];
    const profile = JSON.parse(provider?.config['kc.user.profile.config']?.[0] ?? '{}') as {
      attributes?: { name: string; multivalued?: boolean }[];
    };
    expect(profile.attributes?.find((attribute) => attribute.name === 'nhsd_organisations')?.multivalued).toBe(true);
  });

  it('carries no credentials and no real secrets', () => {
    expect(realm.users.some((user) => user.credentials !== undefined)).toBe(false);
    expect(text).not.toMatch(/"credentials"|"password"/);
    for (const demo of confidentialClients()) expect(text).not.toContain(demo.demoSecret);
  });
});

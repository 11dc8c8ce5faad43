/**
 * The demo realm served by the local identity provider: realm roles, users and clients. It mirrors
 * deploy/keycloak/realm-nhs.json (the realm imported into the production Keycloak), which carries the same
 * ids, roles and organisations but no credentials. Every person here is a synthetic member of staff.
 */

import { PLATFORM_ROLES, type PlatformRole } from '@platform/shared-auth';
export const REALM_NAME = 'nhs';

/** The audience of every access token: the platform API behind the gateway (Keycloak audience mapper). */
export const PLATFORM_AUDIENCE = 'nhs-platform';

/** Lifetime of access tokens unless IDP_ACCESS_TOKEN_TTL says otherwise (Keycloak's accessTokenLifespan). */
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 300;

/** Password of every demo user unless IDP_DEMO_PASSWORD says otherwise. */
export const DEFAULT_DEMO_PASSWORD = 'demo';

export const REALM_ROLES = PLATFORM_ROLES;

export type RealmRole = PlatformRole;

export const REALM_ROLE_DESCRIPTIONS: Readonly<Record<RealmRole, string>> = {
  clinician: 'GP, prescriber or referrer working for a GP practice',
  pharmacist: 'Pharmacist dispensing and claiming prescriptions for a pharmacy',
  'provider-clinician': 'Hospital clinician reviewing referrals and publishing services',
  'practice-admin': 'GP practice administrator: registrations, record transfers',
  'registry-admin': 'Maintains the N3 connection registry',
  ops: 'Platform operations',
  patient: 'A patient acting for themselves (for example booking with their UBRN)',
};

export interface DemoUser {
  /** Stable subject (`sub`) of the user's tokens; also the user id in the Keycloak realm export. */
  readonly id: string;
  readonly username: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly roles: readonly RealmRole[];
  /** ODS codes of the organisations the user may act for (`nhsd_organisations`). */
  readonly organisations: readonly string[];
  /** A patient's own NHS number (`nhs_number`, the claim NHS login gives). */
  readonly nhsNumber?: string;
  readonly description: string;
}

export const DEMO_USERS: readonly DemoUser[] = [
  {
    id: '0325c5b2-3cc3-4d25-8cdb-c6083a6a4c01',
    username: 'clinician',
    firstName: 'Alex',
    lastName: 'Carter',
    roles: ['clinician'],
    organisations: ['A83008'],
    description: 'GP at practice A83008',
  },
  {
    id: 'bdfce7ae-1b09-4867-9038-0adae3ee6261',
    username: 'pharmacist',
    firstName: 'Priya',
    lastName: 'Shah',
    roles: ['pharmacist'],
    organisations: ['FCG72'],
    description: 'Pharmacist at pharmacy FCG72',
  },
  {
    id: '30efcd41-9c25-4323-876a-8956686b6362',
    username: 'provider-clinician',
    firstName: 'Tom',
    lastName: 'Okafor',
    roles: ['provider-clinician'],
    organisations: ['RR8'],
    description: 'Consultant at hospital trust RR8',
  },
  {
    id: 'c3cc5d23-274e-4f31-bf93-2d684dcaeb1d',
    username: 'practice-admin',
    firstName: 'Grace',
    lastName: 'Hughes',
    roles: ['practice-admin'],
    organisations: ['A83008'],
    description: 'Practice administrator at A83008',
  },
  {
    id: 'dd0b3c85-aa63-474a-8725-0555913a771d',
    username: 'registry-admin',
    firstName: 'Sam',
    lastName: 'Patel',
    roles: ['registry-admin'],
    organisations: ['X26'],
    description: 'N3 registry administrator (X26)',
  },
  {
    id: 'a4d80a91-5f44-4900-91ee-d5e5063e8a56',
    username: 'ops',
    firstName: 'Jordan',
    lastName: 'Lee',
    roles: ['ops'],
    organisations: ['X26'],
    description: 'Platform operations (X26)',
  },
  {
    id: '467e3c64-6b38-41ea-a1b9-91e18a4d1b83',
    username: 'patient',
    firstName: 'Robin',
    lastName: 'Evans',
    roles: ['patient'],
    organisations: [],
    nhsNumber: '9000000033',
    description: 'A patient (NHS number 9000000033, the PDS sandbox minimal record); acts for no organisation',
  },
  {
    id: '275425a2-fcc7-4d35-87f6-faf8eaa17e51',
    username: 'multi-org-clinician',
    firstName: 'Morgan',
    lastName: 'Reid',
    roles: ['clinician'],
    organisations: ['A83008', 'B82617'],
    description: 'GP working for two practices, A83008 and B82617',
  },
];

interface BaseClient {
  /** Keycloak's internal client id in the realm export. */
  readonly id: string;
  readonly clientId: string;
  readonly description: string;
}

/** A public client using the password grant (Keycloak "direct access grants"); it has no secret. */
export interface PublicDemoClient extends BaseClient {
  readonly type: 'public';
}

/** A confidential client using client_credentials (Keycloak service account): application access. */
export interface ConfidentialDemoClient extends BaseClient {
  readonly type: 'confidential';
  /** Stable subject of the service account's tokens; the service-account user id in the realm export. */
  readonly serviceAccountUserId: string;
  readonly roles: readonly RealmRole[];
  readonly organisations: readonly string[];
  /** Used when IDP_CLIENT_SECRET_<CLIENT_ID> is not set. Local runs and tests only. */
  readonly demoSecret: string;
}

export type DemoClient = PublicDemoClient | ConfidentialDemoClient;

export const DEMO_CLIENTS: readonly DemoClient[] = [
  {
    type: 'public',
    id: '62813fa1-0879-4e1b-86a5-3ca1b234941b',
    clientId: 'platform-cli',
    description: 'Command line and test tooling: password grant for the demo users',
  },
  {
    type: 'confidential',
    id: 'acebe297-f84d-4768-a495-38ea30d85342',
    clientId: 'pharmacy-system',
    serviceAccountUserId: '4f0c6f3e-5d7b-4a55-9a2e-2f3b7c1d8e90',
    roles: ['pharmacist'],
    organisations: ['FCG72'],
    demoSecret: 'pharmacy-system-secret',
    description: "A pharmacy's dispensing system (application access) for FCG72",
  },
  {
    type: 'confidential',
    id: '8b1f2d44-0a6e-4c3b-9f57-61d2e8a9c7b3',
    clientId: 'gp-system',
    serviceAccountUserId: 'c9e4a1b7-2f38-4d6a-8e05-7b3c9d1f2a64',
    roles: ['clinician'],
    organisations: ['A83008'],
    demoSecret: 'gp-system-secret',
    description: "A GP practice's clinical system (application access) for A83008",
  },
];

export function findDemoUser(username: string): DemoUser | undefined {
  return DEMO_USERS.find((user) => user.username === username);
}

export function findDemoClient(clientId: string): DemoClient | undefined {
  return DEMO_CLIENTS.find((client) => client.clientId === clientId);
}

export function confidentialClients(): ConfidentialDemoClient[] {
  return DEMO_CLIENTS.filter((client): client is ConfidentialDemoClient => client.type === 'confidential');
}

/** `pharmacy-system` -> `IDP_CLIENT_SECRET_PHARMACY_SYSTEM`. */
export function clientSecretVariable(clientId: string): string {
  return `IDP_CLIENT_SECRET_${clientId.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

/** The secret a confidential client authenticates with: its environment variable, else the demo default. */
export function clientSecret(client: ConfidentialDemoClient, env: NodeJS.ProcessEnv = process.env): string {
  const configured = env[clientSecretVariable(client.clientId)];
  return configured !== undefined && configured !== '' ? configured : client.demoSecret;
}

/** Keycloak names a client's service-account user `service-account-<clientId>`. */
export function serviceAccountUsername(clientId: string): string {
  return `service-account-${clientId}`;
}

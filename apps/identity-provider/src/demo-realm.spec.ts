import { isWellFormedOdsCode } from '@platform/shared-identifiers';
import {
  clientSecret,
  clientSecretVariable,
  confidentialClients,
  DEMO_CLIENTS,
  DEMO_USERS,
  findDemoClient,
  findDemoUser,
  REALM_ROLES,
} from './demo-realm';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('demo realm', () => {
  it('has one demo user per realm role, named after the role and holding exactly that role', () => {
    for (const role of REALM_ROLES) {
      expect(findDemoUser(role)?.roles).toEqual([role]);
    }
  });

  it('gives each user the organisations of the brief', () => {
    const organisations = Object.fromEntries(DEMO_USERS.map((user) => [user.username, user.organisations]));
    expect(organisations).toEqual({
      clinician: ['A83008'],
      pharmacist: ['FCG72'],
      'provider-clinician': ['RR8'],
      'practice-admin': ['A83008'],
      'registry-admin': ['X26'],
      ops: ['X26'],
      patient: [],
      'multi-org-clinician': ['A83008', 'B82617'],
    });
    expect(findDemoUser('multi-org-clinician')?.roles).toEqual(['clinician']);
  });

  it('uses well-formed ODS codes and stable, unique UUID subjects', () => {
    const codes = [...DEMO_USERS, ...confidentialClients()].flatMap((subject) => subject.organisations);
    expect(codes.filter((code) => !isWellFormedOdsCode(code))).toEqual([]);
    const ids = [
      ...DEMO_USERS.map((user) => user.id),
      ...DEMO_CLIENTS.map((client) => client.id),
      ...confidentialClients().map((client) => client.serviceAccountUserId),
    ];
    expect(ids.every((id) => UUID.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has the public CLI client and the two application clients', () => {
    expect(findDemoClient('platform-cli')?.type).toBe('public');
    expect(findDemoClient('pharmacy-system')).toMatchObject({ roles: ['pharmacist'], organisations: ['FCG72'] });
    expect(findDemoClient('gp-system')).toMatchObject({ roles: ['clinician'], organisations: ['A83008'] });
    expect(findDemoClient('unknown')).toBeUndefined();
  });

  it('reads client secrets from IDP_CLIENT_SECRET_<CLIENT_ID>, else the documented demo default', () => {
    const pharmacy = confidentialClients().find((client) => client.clientId === 'pharmacy-system');
    if (!pharmacy) throw new Error('pharmacy-system missing');
    expect(clientSecretVariable('pharmacy-system')).toBe('IDP_CLIENT_SECRET_PHARMACY_SYSTEM');
    expect(clientSecret(pharmacy, {})).toBe('pharmacy-system-secret');
    expect(clientSecret(pharmacy, { IDP_CLIENT_SECRET_PHARMACY_SYSTEM: '' })).toBe('pharmacy-system-secret');
    expect(clientSecret(pharmacy, { IDP_CLIENT_SECRET_PHARMACY_SYSTEM: 's3cret' })).toBe('s3cret');
  });
});

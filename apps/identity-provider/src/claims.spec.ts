import {
  buildAccessTokenClaims,
  resolveScope,
  subjectForServiceAccount,
  subjectForUser,
  userinfoFromClaims,
} from './claims';
import { confidentialClients, findDemoUser } from './demo-realm';

const ISSUER = 'http://127.0.0.1:8081/realms/nhs';

function demoUser(username: string) {
  const user = findDemoUser(username);
  if (!user) throw new Error(`no demo user ${username}`);
  return user;
}

describe('access token claims', () => {
  it("puts a patient's own NHS number in nhs_number, as NHS login does, and no such claim for staff", () => {
    const token = (username: string) =>
      buildAccessTokenClaims({
        issuer: ISSUER,
        audience: 'nhs-platform',
        clientId: 'platform-cli',
        subject: subjectForUser(demoUser(username)),
        scope: 'openid',
        issuedAt: 0,
        ttlSeconds: 60,
        tokenId: 't',
      });
    expect(token('patient').nhs_number).toBe('9000000033');
    expect(userinfoFromClaims(token('patient'))['nhs_number']).toBe('9000000033');
    expect(token('clinician')).not.toHaveProperty('nhs_number');
  });

  it('builds a Keycloak-shaped token for a user', () => {
    const claims = buildAccessTokenClaims({
      issuer: ISSUER,
      audience: 'nhs-platform',
      clientId: 'platform-cli',
      subject: subjectForUser(demoUser('multi-org-clinician')),
      scope: 'openid profile email',
      issuedAt: 1_700_000_000,
      ttlSeconds: 300,
      tokenId: 'token-1',
    });
    expect(claims).toEqual({
      iss: ISSUER,
      sub: '275425a2-fcc7-4d35-87f6-faf8eaa17e51',
      aud: 'nhs-platform',
      azp: 'platform-cli',
      typ: 'Bearer',
      iat: 1_700_000_000,
      exp: 1_700_000_300,
      jti: 'token-1',
      scope: 'openid profile email',
      realm_access: { roles: ['clinician'] },
      resource_access: {},
      preferred_username: 'multi-org-clinician',
      name: 'Morgan Reid',
      given_name: 'Morgan',
      family_name: 'Reid',
      nhsd_organisations: ['A83008', 'B82617'],
    });
  });

  it('names a client-credentials token after the service account, as Keycloak does', () => {
    const pharmacy = confidentialClients().find((client) => client.clientId === 'pharmacy-system');
    if (!pharmacy) throw new Error('pharmacy-system missing');
    const claims = buildAccessTokenClaims({
      issuer: ISSUER,
      audience: 'nhs-platform',
      clientId: 'pharmacy-system',
      subject: subjectForServiceAccount(pharmacy),
      scope: 'profile email',
      issuedAt: 10,
      ttlSeconds: 60,
      tokenId: 'token-2',
      serviceAccount: true,
    });
    expect(claims).toMatchObject({
      sub: pharmacy.serviceAccountUserId,
      azp: 'pharmacy-system',
      client_id: 'pharmacy-system',
      preferred_username: 'service-account-pharmacy-system',
      realm_access: { roles: ['pharmacist'] },
      nhsd_organisations: ['FCG72'],
      exp: 70,
    });
    expect(claims).not.toHaveProperty('name');
  });

  it('gives a patient an empty organisation list', () => {
    const claims = buildAccessTokenClaims({
      issuer: ISSUER,
      audience: 'nhs-platform',
      clientId: 'platform-cli',
      subject: subjectForUser(demoUser('patient')),
      scope: 'profile email',
      issuedAt: 0,
      ttlSeconds: 300,
      tokenId: 'token-3',
    });
    expect(claims.nhsd_organisations).toEqual([]);
    expect(claims.realm_access.roles).toEqual(['patient']);
  });

  it('grants the default scopes plus the requested optional ones and reports unknown scopes', () => {
    expect(resolveScope(undefined)).toEqual({ scope: 'profile email', unknown: [] });
    expect(resolveScope('openid')).toEqual({ scope: 'openid profile email', unknown: [] });
    expect(resolveScope('email  openid')).toEqual({ scope: 'openid profile email', unknown: [] });
    expect(resolveScope('openid admin')).toEqual({ scope: 'openid profile email', unknown: ['admin'] });
  });

  it('answers userinfo with the profile claims only', () => {
    expect(
      userinfoFromClaims({ sub: 's', aud: 'nhs-platform', preferred_username: 'ops', nhsd_organisations: ['X26'] }),
    ).toEqual({ sub: 's', preferred_username: 'ops', nhsd_organisations: ['X26'] });
  });
});

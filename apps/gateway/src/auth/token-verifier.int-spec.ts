import { rejectionOf } from '@platform/shared-testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK, type KeyLike } from 'jose';
import { TokenVerifier } from './token-verifier';

const issuer = 'http://127.0.0.1/realms/nhs';

describe('TokenVerifier against a real JWKS endpoint', () => {
  let server: Server;
  let jwksUrl: string;
  let privateKey: KeyLike;
  let otherKey: KeyLike;
  let publicJwk: JWK;
  let jwksRequests = 0;

  beforeAll(async () => {
    ({ privateKey, publicKey: publicJwk } = await generateKeyPair('RS256').then(async (pair) => ({
      privateKey: pair.privateKey,
      publicKey: { ...(await exportJWK(pair.publicKey)), kid: 'realm-key', alg: 'RS256', use: 'sig' },
    })));
    otherKey = (await generateKeyPair('RS256')).privateKey;
    server = createServer((_request, response) => {
      jwksRequests += 1;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const verifier = (): TokenVerifier =>
    new TokenVerifier({ issuer, jwksUrl, audience: 'nhs-platform', trustedClients: ['trusted-app'] });

  function token(
    claims: Record<string, unknown> = {},
    options: { key?: KeyLike; expiresIn?: string | number; issuer?: string; kid?: string } = {},
  ): Promise<string> {
    return new SignJWT({
      typ: 'Bearer',
      aud: 'nhs-platform',
      azp: 'platform-cli',
      realm_access: { roles: ['clinician'] },
      nhsd_organisations: ['A83008'],
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? 'realm-key' })
      .setIssuer(options.issuer ?? issuer)
      .setSubject('user-1')
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(options.key ?? privateKey);
  }

  it('accepts a realm token and reads roles, client and organisations from Keycloak claims', async () => {
    const verified = await verifier().verify(
      await token({ preferred_username: 'clinician', resource_access: { pds: { roles: ['reader'] } } }),
    );
    expect(verified).toMatchObject({
      subject: 'user-1',
      username: 'clinician',
      clientId: 'platform-cli',
      roles: ['clinician', 'reader'],
      organisations: ['A83008'],
    });
  });

  it.each([
    ['expired', () => token({}, { expiresIn: Math.floor(Date.now() / 1000) - 60 }), /expired/],
    ['from another issuer', () => token({}, { issuer: 'http://evil.example/realms/nhs' }), /claim/],
    ['signed with another key', () => token({}, { key: otherKey }), /signature/],
    ['signed with an unknown kid', () => token({}, { key: otherKey, kid: 'other' }), /key/],
    ['an ID token rather than an access token', () => token({ typ: 'ID' }), /bearer/],
    [
      'for another audience and an untrusted client',
      () => token({ aud: 'someone-else', azp: 'other-app' }),
      /platform/,
    ],
    [
      'unsigned (alg: none)',
      () =>
        Promise.resolve(
          new UnsecuredJWT({ typ: 'Bearer' })
            .setIssuer(issuer)
            .setSubject('x')
            .setIssuedAt()
            .setExpirationTime('5m')
            .encode(),
        ),
      /algorithm|Invalid/,
    ],
    [
      'HS256 signed with the public key',
      async () =>
        new SignJWT({ typ: 'Bearer' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(issuer)
          .setSubject('x')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(JSON.stringify(publicJwk))),
      /algorithm/,
    ],
    ['garbage', () => Promise.resolve('not.a.jwt'), /Invalid/],
  ])('refuses a token that is %s with 401 ACCESS_DENIED', async (_name, make, diagnostics) => {
    const error = await rejectionOf(verifier().verify(await make()));
    expect(error.code).toBe('ACCESS_DENIED');
    expect(error.httpStatus).toBe(401);
    expect(error.diagnostics).toMatch(diagnostics);
  });

  it('answers 503 rather than 401 when the realm keys cannot be fetched', async () => {
    const unreachable = new TokenVerifier({
      issuer,
      jwksUrl: 'http://127.0.0.1:9/certs',
      audience: 'nhs-platform',
      trustedClients: [],
    });
    const error = await rejectionOf(unreachable.verify(await token()));
    expect(error.code).toBe('REC_UNAVAILABLE');
    expect(error.httpStatus).toBe(503);
  });

  it('accepts a token for another audience when its azp is a trusted client', async () => {
    const verified = await verifier().verify(await token({ aud: 'account', azp: 'trusted-app' }));
    expect(verified.clientId).toBe('trusted-app');
  });

  it('verifies a token once and then serves it from memory until it expires', async () => {
    const once = verifier();
    const jwt = await token();
    const before = jwksRequests;
    await once.verify(jwt);
    await once.verify(jwt);
    await once.verify(jwt);
    expect(jwksRequests - before).toBe(1);
  });

  describe('after a cached token expires', () => {
    // Only the clock is fake: the JWKS endpoint is still fetched over real sockets with real timers.
    beforeEach(() =>
      jest.useFakeTimers({
        doNotFake: [
          'hrtime',
          'nextTick',
          'performance',
          'queueMicrotask',
          'requestAnimationFrame',
          'cancelAnimationFrame',
          'requestIdleCallback',
          'cancelIdleCallback',
          'setImmediate',
          'clearImmediate',
          'setInterval',
          'clearInterval',
          'setTimeout',
          'clearTimeout',
        ],
        now: Date.now(),
      }),
    );
    afterEach(() => jest.useRealTimers());

    it('refuses it (401, expired) although it was verified and cached while valid, and keeps refusing it', async () => {
      const cache = verifier();
      const jwt = await token({}, { expiresIn: '2m' });
      const verified = await cache.verify(jwt);
      const expiresAtMs = verified.expiresAt * 1000;
      const before = jwksRequests;

      jest.setSystemTime(expiresAtMs - 1000);
      await expect(cache.verify(jwt)).resolves.toEqual(verified);
      expect(jwksRequests - before).toBe(0);

      // Past the expiry and the 5 s of clock tolerance: the cached verdict must not be served.
      jest.setSystemTime(expiresAtMs + 6000);
      for (let attempt = 0; attempt < 3; attempt++) {
        const error = await rejectionOf(cache.verify(jwt));
        expect([error.code, error.httpStatus, error.diagnostics]).toEqual([
          'ACCESS_DENIED',
          401,
          'Invalid Access Token: expired',
        ]);
      }
      // A fresh token is still accepted at the new time: the refusal is about the token, not the verifier.
      await expect(cache.verify(await token())).resolves.toMatchObject({ subject: 'user-1' });
    });
  });
});

import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import {
  ASSERTION_TYPE,
  CallerAssertionSigner,
  CallerAssertionVerifier,
  generateCallerKey,
  messageDigest,
  privateKeyFrom,
  trustedKeysFrom,
} from './caller-assertion';
import type { CallContext } from './call-context';

const SUBJECT = 'pds.patient.get.v1';
const DATA = { nhsNumber: '9000000009' };
const pharmacist: CallContext = {
  requestId: '7a4b4f0e-2f1b-4c8e-9a55-0c1d2e3f4a5b',
  correlationId: 'corr-1',
  caller: { id: 'user-7', username: 'pharmacist', roles: ['pharmacist'], organisation: 'FA565' },
};

async function setup(): Promise<{
  gateway: CallerAssertionSigner;
  eps: CallerAssertionSigner;
  verifier: CallerAssertionVerifier;
  keys: Awaited<ReturnType<typeof generateCallerKey>>[];
}> {
  const keys = await Promise.all([generateCallerKey('gateway', 'gateway-1'), generateCallerKey('eps', 'eps-1')]);
  const [gatewayKey, epsKey] = keys;
  const trusted = await trustedKeysFrom(JSON.stringify({ keys: keys.map((key) => key.publicJwk) }));
  return {
    gateway: new CallerAssertionSigner('gateway', privateKeyFrom(gatewayKey.privateKey), gatewayKey.kid),
    eps: new CallerAssertionSigner('eps', privateKeyFrom(epsKey.privateKey), epsKey.kid),
    verifier: new CallerAssertionVerifier(trusted),
    keys,
  };
}

const refusal = (promise: Promise<unknown>): Promise<string | undefined> =>
  promise.then(
    () => 'accepted',
    (error: { code?: string; diagnostics?: string }) => `${error.code}: ${error.diagnostics}`,
  );

describe('signed caller statements', () => {
  it('carry the person the gateway authenticated to the service, and nothing else', async () => {
    const { gateway, verifier } = await setup();
    const assertion = await gateway.sign(SUBJECT, DATA, pharmacist);
    const { context, via } = await verifier.verify(SUBJECT, DATA, assertion);
    expect(context).toEqual({ ...pharmacist, assertion });
    expect(via).toBeUndefined();
  });

  it('bind the statement to its message: another subject or other data is refused, whatever the key order', async () => {
    const { gateway, verifier } = await setup();
    const data = { query: 'family=Smith&birthdate=eq2010-10-22', limit: 5 };
    const reordered = { limit: 5, query: data.query };
    expect(
      (
        await verifier.verify(
          'pds.patient.search.v1',
          reordered,
          await gateway.sign('pds.patient.search.v1', data, pharmacist),
        )
      ).context.caller?.id,
    ).toBe('user-7');
    const forOne = await gateway.sign(SUBJECT, DATA, pharmacist);
    expect(await refusal(verifier.verify(SUBJECT, { nhsNumber: '9000000017' }, forOne))).toBe(
      'ACCESS_DENIED: Caller context refused: the statement was signed for another message',
    );
    expect(await refusal(verifier.verify('pds.patient.update.v1', DATA, forOne))).toMatch(/another message/);
  });

  it('bind data as the receiver decodes it: a payload class with unset fields and a date, after JSON', async () => {
    const { gateway, verifier } = await setup();
    class Request {
      nhsNumber = '9000000009';
      reason?: string = undefined;
      at = new Date('2026-12-05T12:00:00Z');
      flags = [undefined, 'x'];
    }
    const sent = new Request();
    const received: unknown = JSON.parse(JSON.stringify(sent));
    const assertion = await gateway.sign(SUBJECT, sent, pharmacist);
    expect((await verifier.verify(SUBJECT, received, assertion)).context.caller?.id).toBe('user-7');
  });

  it('refuse a statement seen before (a replayed message)', async () => {
    const { gateway, verifier } = await setup();
    const assertion = await gateway.sign(SUBJECT, DATA, pharmacist);
    await verifier.verify(SUBJECT, DATA, assertion);
    expect(await refusal(verifier.verify(SUBJECT, DATA, assertion))).toMatch(/used before \(replay\)/);
  });

  it('refuse a missing statement, a forged one, an expired one, and an access token passed off as one', async () => {
    const { gateway, verifier, keys } = await setup();
    expect(await refusal(verifier.verify(SUBJECT, DATA, undefined))).toMatch(/no signed caller statement/);
    const stranger = await generateCallerKey('gateway', 'gateway-1');
    const forged = new CallerAssertionSigner('gateway', privateKeyFrom(stranger.privateKey), 'gateway-1');
    expect(await refusal(verifier.verify(SUBJECT, DATA, await forged.sign(SUBJECT, DATA, pharmacist)))).toMatch(
      /not a valid statement \(ERR_JWS_SIGNATURE_VERIFICATION_FAILED\)/,
    );
    const unknownKey = new CallerAssertionSigner('gateway', privateKeyFrom(stranger.privateKey), 'gateway-9');
    expect(await refusal(verifier.verify(SUBJECT, DATA, await unknownKey.sign(SUBJECT, DATA, pharmacist)))).toMatch(
      /unknown key/,
    );
    const gatewayKey = createPrivateKey({
      key: Buffer.from(keys[0].privateKey, 'base64'),
      format: 'der',
      type: 'pkcs8',
    });
    const claims = { rid: pharmacist.requestId, msg: messageDigest(SUBJECT, DATA), roles: ['clinician'] };
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: ASSERTION_TYPE, kid: 'gateway-1' })
      .setIssuer('gateway')
      .setSubject('user-7')
      .setJti(randomUUID())
      .setIssuedAt(now - 120)
      .setExpirationTime(now - 60)
      .sign(gatewayKey);
    expect(await refusal(verifier.verify(SUBJECT, DATA, expired))).toMatch(/expired/);
    const accessToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: 'gateway-1' })
      .setIssuer('gateway')
      .setSubject('user-7')
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('30s')
      .sign(gatewayKey);
    expect(await refusal(verifier.verify(SUBJECT, DATA, accessToken))).toMatch(/ERR_JWT_CLAIM_VALIDATION_FAILED/);
    expect(await refusal(verifier.verify(SUBJECT, DATA, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'))).toMatch(
      /not a valid/,
    );
    expect(await refusal(verifier.verify(SUBJECT, DATA, await gateway.sign(SUBJECT, DATA, pharmacist)))).toBe(
      'accepted',
    );
  });

  it("refuse a service's key used to speak as the gateway, or as another service", async () => {
    const { verifier, keys } = await setup();
    const epsKey = privateKeyFrom(keys[1].privateKey);
    const asGateway = new CallerAssertionSigner('gateway', epsKey, 'eps-1');
    expect(await refusal(verifier.verify(SUBJECT, DATA, await asGateway.sign(SUBJECT, DATA, pharmacist)))).toMatch(
      /signed with another issuer's key/,
    );
    const asPds = new CallerAssertionSigner('pds', epsKey, 'eps-1');
    expect(await refusal(verifier.verify(SUBJECT, DATA, await asPds.sign(SUBJECT, DATA, pharmacist)))).toMatch(
      /another issuer's key/,
    );
  });

  it('let a service act for the person whose statement it received (EPS asking PDS audits the pharmacist)', async () => {
    const { gateway, eps, verifier } = await setup();
    const incoming = await gateway.sign('eps.prescription.release.v1', { parameters: {} }, pharmacist);
    const received = await verifier.verify('eps.prescription.release.v1', { parameters: {} }, incoming);
    const onward = await eps.sign(SUBJECT, DATA, received.context);
    const atPds = await verifier.verify(SUBJECT, DATA, onward);
    expect(atPds.via).toBe('eps');
    expect(atPds.context.caller).toEqual(pharmacist.caller);
    expect(atPds.context.requestId).toBe(pharmacist.requestId);
    // EPS calls PDS and the registry for one request: the same nested statement serves both.
    expect(
      (
        await verifier.verify(
          'n3.organisation.get.v1',
          { odsCode: 'FA565' },
          await eps.sign('n3.organisation.get.v1', { odsCode: 'FA565' }, received.context),
        )
      ).via,
    ).toBe('eps');
  });

  it('refuse a service that makes up the person it acts for, or nests a statement for another request', async () => {
    const { gateway, eps, verifier, keys } = await setup();
    const selfMade = await new CallerAssertionSigner('gateway', privateKeyFrom(keys[1].privateKey), 'eps-1').sign(
      SUBJECT,
      DATA,
      pharmacist,
    );
    expect(
      await refusal(
        verifier.verify(SUBJECT, DATA, await eps.sign(SUBJECT, DATA, { ...pharmacist, assertion: selfMade })),
      ),
    ).toMatch(/another issuer's key/);
    const otherRequest = await gateway.sign(SUBJECT, DATA, { ...pharmacist, requestId: 'another-request' });
    expect(
      await refusal(
        verifier.verify(SUBJECT, DATA, await eps.sign(SUBJECT, DATA, { ...pharmacist, assertion: otherRequest })),
      ),
    ).toMatch(/nested statement is for another request/);
  });

  it('give a service acting for itself only its service role', async () => {
    const { eps, verifier } = await setup();
    const { context } = await verifier.verify(SUBJECT, DATA, await eps.sign(SUBJECT, DATA, { requestId: 'job-1' }));
    expect(context.caller).toEqual({ id: 'eps', roles: ['service:eps'] });
  });

  it('refuse trusted keys that are private or say no issuer', async () => {
    const { keys } = await setup();
    await expect(trustedKeysFrom(JSON.stringify({ keys: [{ ...keys[0].publicJwk, iss: undefined }] }))).rejects.toThrow(
      /kid and an iss/,
    );
    await expect(trustedKeysFrom(JSON.stringify({ keys: [{ ...keys[0].publicJwk, d: 'secret' }] }))).rejects.toThrow(
      /public Ed25519/,
    );
    await expect(trustedKeysFrom('{"keys":[]}')).rejects.toThrow(/no key/);
  });
});

import { createHmac, createPublicKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { jwtVerify } from 'jose';
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

// Statements are made and checked with node:crypto rather than jose's JWT layer (ADR 0014, "Verification
// without jose"). These tests play an attacker who crafts the JWS by hand: every check jose made must still
// hold, and what the signer makes must still be a standard compact JWS that jose itself accepts.

const SUBJECT = 'pds.patient.get.v1';
const DATA = { nhsNumber: '9000000009' };
const clinician: CallContext = {
  requestId: '7a4b4f0e-2f1b-4c8e-9a55-0c1d2e3f4a5b',
  caller: { id: 'user-1', username: 'clinician', roles: ['clinician'], organisation: 'A12345' },
};

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A compact JWS signed with `key` over exactly the header and claims given. */
function craft(header: Record<string, unknown>, claims: unknown, key: KeyObject): string {
  const input = `${encode(header)}.${encode(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

async function setup(): Promise<{
  key: KeyObject;
  publicKey: KeyObject;
  signer: CallerAssertionSigner;
  verifier: CallerAssertionVerifier;
}> {
  const generated = await generateCallerKey('gateway', 'gateway-1');
  const key = privateKeyFrom(generated.privateKey);
  return {
    key,
    publicKey: createPublicKey(key),
    signer: new CallerAssertionSigner('gateway', key, 'gateway-1'),
    verifier: new CallerAssertionVerifier(await trustedKeysFrom(JSON.stringify({ keys: [generated.publicJwk] }))),
  };
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    rid: clinician.requestId,
    msg: messageDigest(SUBJECT, DATA),
    roles: ['clinician'],
    iss: 'gateway',
    sub: 'user-1',
    jti: randomUUID(),
    iat: now,
    exp: now + 30,
    ...overrides,
  };
}

const HEADER = { alg: 'EdDSA', typ: ASSERTION_TYPE, kid: 'gateway-1' };

const outcome = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'accepted',
    (error: { diagnostics?: string }) => error.diagnostics ?? 'refused',
  );

describe('caller statements checked with node:crypto', () => {
  it('are still standard compact JWS: jose verifies what the signer makes, and the verifier accepts what jose would', async () => {
    const { key, publicKey, signer, verifier } = await setup();
    const statement = await signer.sign(SUBJECT, DATA, clinician);
    const { payload, protectedHeader } = await jwtVerify(statement, publicKey, {
      algorithms: ['EdDSA'],
      typ: ASSERTION_TYPE,
      issuer: 'gateway',
      subject: 'user-1',
      maxTokenAge: 35,
    });
    expect(protectedHeader).toEqual(HEADER);
    expect(payload).toMatchObject({
      rid: clinician.requestId,
      msg: messageDigest(SUBJECT, DATA),
      roles: ['clinician'],
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(30);
    expect(await outcome(verifier.verify(SUBJECT, DATA, craft(HEADER, claims(), key)))).toBe('accepted');
  });

  it('refuse another algorithm, an HMAC made with the public key, and headers jose would refuse', async () => {
    const { key, publicKey, verifier } = await setup();
    const body = encode(claims());
    const hmacHeader = encode({ ...HEADER, alg: 'HS256' });
    const secret = publicKey.export({ format: 'der', type: 'spki' });
    const hmac = createHmac('sha256', secret).update(`${hmacHeader}.${body}`).digest('base64url');
    expect(await outcome(verifier.verify(SUBJECT, DATA, `${hmacHeader}.${body}.${hmac}`))).toMatch(
      /ERR_JOSE_ALG_NOT_ALLOWED/,
    );
    expect(await outcome(verifier.verify(SUBJECT, DATA, `${encode({ ...HEADER, alg: 'none' })}.${body}.`))).toMatch(
      /not a valid statement/,
    );
    expect(await outcome(verifier.verify(SUBJECT, DATA, craft({ ...HEADER, crit: ['exp'] }, claims(), key)))).toMatch(
      /not a valid statement/,
    );
    expect(await outcome(verifier.verify(SUBJECT, DATA, craft({ ...HEADER, b64: false }, claims(), key)))).toMatch(
      /not a valid statement/,
    );
    expect(await outcome(verifier.verify(SUBJECT, DATA, craft({ ...HEADER, kid: undefined }, claims(), key)))).toMatch(
      /unknown key/,
    );
    expect(await outcome(verifier.verify(SUBJECT, DATA, craft({ ...HEADER, typ: 'JWT' }, claims(), key)))).toMatch(
      /ERR_JWT_CLAIM_VALIDATION_FAILED/,
    );
  });

  it('refuse a changed claim, a cut or padded signature, and text that is not a three-part JWS', async () => {
    const { key, verifier } = await setup();
    const statement = craft(HEADER, claims(), key);
    const [header, , signature] = statement.split('.');
    const promoted = `${header}.${encode(claims({ roles: ['clinician', 'ops'] }))}.${signature}`;
    expect(await outcome(verifier.verify(SUBJECT, DATA, promoted))).toMatch(/ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
    expect(await outcome(verifier.verify(SUBJECT, DATA, statement.slice(0, -4)))).toMatch(/not a valid statement/);
    expect(await outcome(verifier.verify(SUBJECT, DATA, `${statement}AAAA`))).toMatch(/not a valid statement/);
    expect(await outcome(verifier.verify(SUBJECT, DATA, `${statement}.x`))).toMatch(/not a valid statement/);
    expect(await outcome(verifier.verify(SUBJECT, DATA, statement.replace('.', '.+')))).toMatch(
      /not a valid statement/,
    );
    expect(await outcome(verifier.verify(SUBJECT, DATA, craft(HEADER, ['not', 'claims'], key)))).toMatch(
      /not a valid statement/,
    );
  });

  it('refuse a statement issued in the future, older than its lifetime whatever its exp, or not yet valid', async () => {
    const { key, verifier } = await setup();
    const now = Math.floor(Date.now() / 1000);
    expect(
      await outcome(verifier.verify(SUBJECT, DATA, craft(HEADER, claims({ iat: now + 60, exp: now + 90 }), key))),
    ).toMatch(/ERR_JWT_CLAIM_VALIDATION_FAILED/);
    expect(
      await outcome(verifier.verify(SUBJECT, DATA, craft(HEADER, claims({ iat: now - 60, exp: now + 3600 }), key))),
    ).toMatch(/expired/);
    expect(await outcome(verifier.verify(SUBJECT, DATA, craft(HEADER, claims({ nbf: now + 60 }), key)))).toMatch(
      /ERR_JWT_CLAIM_VALIDATION_FAILED/,
    );
    // Within the 5 s of clock skew either way: accepted.
    expect(await outcome(verifier.verify(SUBJECT, DATA, craft(HEADER, claims({ iat: now + 3 }), key)))).toBe(
      'accepted',
    );
  });

  it('refuse a statement missing a required claim or carrying one of the wrong type', async () => {
    const { key, verifier } = await setup();
    for (const missing of ['iss', 'sub', 'jti', 'iat', 'exp', 'rid', 'msg', 'roles']) {
      const without = claims();
      delete without[missing];
      expect(await outcome(verifier.verify(SUBJECT, DATA, craft(HEADER, without, key)))).toMatch(
        /not a valid statement|roles/,
      );
    }
    for (const wrong of [{ jti: 7 }, { sub: ['user-1'] }, { exp: '9999999999' }, { iat: null }, { rid: { id: 1 } }]) {
      expect(await outcome(verifier.verify(SUBJECT, DATA, craft(HEADER, claims(wrong), key)))).toMatch(
        /ERR_JWT_CLAIM_VALIDATION_FAILED/,
      );
    }
    expect(await outcome(verifier.verify(SUBJECT, DATA, craft(HEADER, claims({ roles: 'clinician' }), key)))).toMatch(
      /roles must be a list/,
    );
  });

  it("carry the token's access mode; an older statement without one, or a mode not known here, carries none", async () => {
    const { key, signer, verifier } = await setup();
    for (const accessMode of ['user-restricted', 'application-restricted'] as const) {
      const context: CallContext = { ...clinician, caller: { ...clinician.caller!, accessMode } };
      const verified = await verifier.verify(SUBJECT, DATA, await signer.sign(SUBJECT, DATA, context));
      expect(verified.context.caller?.accessMode).toBe(accessMode);
    }
    // A statement of a gateway older than the claim (none), and one naming a mode this version does not know:
    // no mode, which pds reads as application-restricted.
    for (const older of [claims(), claims({ mode: 'healthcare-worker' })]) {
      const verified = await verifier.verify(SUBJECT, DATA, craft(HEADER, older, key));
      expect(verified.context.caller).toEqual({ id: 'user-1', roles: ['clinician'] });
      expect(verified.context.caller?.accessMode).toBeUndefined();
    }
    for (const mode of [1, ['user-restricted'], { mode: 'user-restricted' }, null]) {
      expect(await outcome(verifier.verify(SUBJECT, DATA, craft(HEADER, claims({ mode }), key)))).toMatch(
        /mode must be a name/,
      );
    }
  });

  it('refuse to sign with anything but an Ed25519 private key', async () => {
    const { publicKey } = await setup();
    expect(() => new CallerAssertionSigner('gateway', publicKey, 'gateway-1')).toThrow(/Ed25519 private key/);
  });
});

import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { headers as natsHeaders, JSONCodec, type MsgHdrs } from 'nats';
import { PDS_SUBJECTS } from '@platform/contracts-pds';
import {
  CallerAssertionSigner,
  generateCallerKey,
  HEADER,
  privateKeyFrom,
  toNatsHeaders,
  type CallContext,
} from '@platform/shared-nats';
import { testGatewaySigner } from '@platform/testing-services';
import { startPdsUnderTest, type PdsUnderTest } from './pds.test-harness';

const codec = JSONCodec<unknown>();

/**
 * PDS plays no part in trusting whoever reaches NATS: each test here is an attacker on the bus, with the
 * headers the gateway would set but without (or with a stolen, replayed or rebound) signed caller statement.
 */
describe('PDS trusts only signed caller statements (an attacker on the bus)', () => {
  let under: PdsUnderTest;
  const clinician = (requestId = randomUUID()): CallContext => ({
    requestId,
    caller: { id: 'gp-user', username: 'clinician', roles: ['clinician'], organisation: 'A83008' },
  });

  beforeAll(async () => {
    under = await startPdsUnderTest({ schemaPrefix: 'pds_trust', seed: 'sandbox' });
  });

  afterAll(async () => {
    await under?.stop();
  });

  /** Sends a request in Nest's envelope, with the given headers, and answers the reply's `err` or `response`. */
  async function send(
    subject: string,
    data: unknown,
    headers: MsgHdrs,
  ): Promise<{ err?: { code: string; diagnostics?: string }; response?: unknown }> {
    const reply = await under.connection.request(subject, codec.encode({ pattern: subject, data, id: randomUUID() }), {
      timeout: 5000,
      headers,
    });
    return codec.decode(reply.data) as { err?: { code: string; diagnostics?: string }; response?: unknown };
  }

  async function signedHeaders(subject: string, data: unknown, context: CallContext): Promise<MsgHdrs> {
    const headers = toNatsHeaders(context);
    headers.set(HEADER.callerAssertion, await (await testGatewaySigner()).sign(subject, data, context));
    return headers;
  }

  const audited = async (requestId: string): Promise<{ actor_id: string; roles: string[] }[]> =>
    (
      await under.db.query<{ actor_id: string; roles: string[] }>(
        `SELECT actor_id, roles FROM "${under.schema}".read_audit WHERE request_id = $1`,
        [requestId],
      )
    ).rows;

  it('refuses a read that only claims a caller in headers, and audits nothing', async () => {
    const context = clinician();
    const answer = await send(PDS_SUBJECTS.patientGet, { nhsNumber: '9000000009' }, toNatsHeaders(context));
    expect(answer.err).toMatchObject({
      code: 'ACCESS_DENIED',
      diagnostics: expect.stringMatching(/no signed caller statement/),
    });
    expect(await audited(context.requestId)).toEqual([]);
  });

  it('answers a signed read, and audits the signed caller whatever the headers beside it claim', async () => {
    const context = clinician();
    const data = { nhsNumber: '9000000009' };
    const headers = await signedHeaders(PDS_SUBJECTS.patientGet, data, context);
    headers.set(HEADER.callerId, 'someone-else');
    headers.set(HEADER.callerRoles, 'clinician,ops');
    const answer = await send(PDS_SUBJECTS.patientGet, data, headers);
    expect(answer.err).toBeUndefined();
    for (let attempt = 0; attempt < 50 && (await audited(context.requestId)).length === 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await audited(context.requestId)).toEqual([{ actor_id: 'gp-user', roles: ['clinician'] }]);
  });

  it('refuses a replayed message and a statement moved onto another patient', async () => {
    const context = clinician();
    const data = { nhsNumber: '9000000009' };
    const headers = await signedHeaders(PDS_SUBJECTS.patientGet, data, context);
    expect((await send(PDS_SUBJECTS.patientGet, data, headers)).err).toBeUndefined();
    expect((await send(PDS_SUBJECTS.patientGet, data, headers)).err?.diagnostics).toMatch(/replay/);
    const moved = await signedHeaders(PDS_SUBJECTS.patientGet, data, clinician());
    expect((await send(PDS_SUBJECTS.patientGet, { nhsNumber: '9000000017' }, moved)).err?.diagnostics).toMatch(
      /another message/,
    );
  });

  it('refuses a statement signed by a key it does not trust, however well formed', async () => {
    const stranger = await generateCallerKey('gateway');
    const signer = new CallerAssertionSigner('gateway', privateKeyFrom(stranger.privateKey), stranger.kid);
    const context = clinician();
    const data = { nhsNumber: '9000000009' };
    const headers = toNatsHeaders(context);
    headers.set(HEADER.callerAssertion, await signer.sign(PDS_SUBJECTS.patientGet, data, context));
    // Named as the gateway's own key (same kid), its signature does not verify.
    expect((await send(PDS_SUBJECTS.patientGet, data, headers)).err?.diagnostics).toMatch(
      /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
    );
  });

  it('checks the roles of each subject itself: a signed patient reads only their own record and never searches; ops cannot change records', async () => {
    const patient: CallContext = {
      requestId: randomUUID(),
      caller: { id: 'p-1', roles: ['patient'], nhsNumber: '9000000009' },
    };
    const own = await send(
      PDS_SUBJECTS.patientGet,
      { nhsNumber: '9000000009' },
      await signedHeaders(PDS_SUBJECTS.patientGet, { nhsNumber: '9000000009' }, patient),
    );
    expect(own.err).toBeUndefined();
    const another = await send(
      PDS_SUBJECTS.patientGet,
      { nhsNumber: '9000000033' },
      await signedHeaders(PDS_SUBJECTS.patientGet, { nhsNumber: '9000000033' }, patient),
    );
    expect(another.err).toMatchObject({ code: 'ACCESS_DENIED', diagnostics: expect.stringMatching(/own record/) });
    const query = { query: 'family=Smith&birthdate=eq2010-10-22' };
    const search = await send(
      PDS_SUBJECTS.patientSearch,
      query,
      await signedHeaders(PDS_SUBJECTS.patientSearch, query, patient),
    );
    expect(search.err).toMatchObject({
      code: 'ACCESS_DENIED',
      diagnostics: expect.stringMatching(/none of these roles/),
    });
    const ops: CallContext = { requestId: randomUUID(), caller: { id: 'ops-1', roles: ['ops', 'pharmacist'] } };
    const update = {
      nhsNumber: '9000000009',
      ifMatch: 'W/"2"',
      patches: [{ op: 'replace', path: '/gender', value: 'male' }],
    };
    const changed = await send(
      PDS_SUBJECTS.patientUpdate,
      update,
      await signedHeaders(PDS_SUBJECTS.patientUpdate, update, ops),
    );
    expect(changed.err?.code).toBe('ACCESS_DENIED');
  });

  it('leaves only the health check open without a statement', async () => {
    const answer = await send(PDS_SUBJECTS.healthCheck, {}, natsHeaders());
    expect(answer.err).toBeUndefined();
  });
});

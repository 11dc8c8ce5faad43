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
import { gpClinician, startPdsUnderTest, type PdsUnderTest } from './pds.test-harness';

const codec = JSONCodec<unknown>();

/**
 * PDS plays no part in trusting whoever reaches NATS: each test here is an attacker on the bus, with the
 * headers the gateway would set but without (or with a stolen, replayed or rebound) signed caller statement.
 */
describe('PDS trusts only signed caller statements (an attacker on the bus)', () => {
  let under: PdsUnderTest;
  const clinician = gpClinician;

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

  describe('application-restricted access, enforced by pds from the signed statement (not only at the gateway)', () => {
    const LIST = 'family=Sm*&gender=female&birthdate=eq2010-10-22';
    const application = (): CallContext => ({
      requestId: randomUUID(),
      caller: {
        id: 'gp-system',
        username: 'service-account-gp-system',
        roles: ['clinician'],
        organisation: 'A83008',
        accessMode: 'application-restricted',
      },
    });
    /** A statement from a gateway older than the access mode claim: read as application-restricted. */
    const older = (): CallContext => ({
      requestId: randomUUID(),
      caller: { id: 'gp-user', roles: ['clinician'], organisation: 'A83008' },
    });
    const version = async (): Promise<number> =>
      (
        await under.db.query<{ version: number }>(
          `SELECT version FROM "${under.schema}".patient WHERE nhs_number = '9000000009'`,
        )
      ).rows[0]?.version ?? 0;

    it('a user gets the list this search matches (three patients)', async () => {
      const query = { query: LIST };
      const answer = await send(
        PDS_SUBJECTS.patientSearch,
        query,
        await signedHeaders(PDS_SUBJECTS.patientSearch, query, clinician()),
      );
      expect((answer.response as { matches: unknown[] }).matches).toHaveLength(3);
    });

    it.each([
      ['claiming application-restricted mode', application],
      ['without an access mode (an older statement)', older],
    ])('a statement %s gets no list from a search sent straight to pds, however it asks', async (_name, caller) => {
      const before = await under.db.query(`SELECT count(*)::int AS n FROM "${under.schema}".read_audit`);
      const plain = { query: LIST };
      const one = await send(
        PDS_SUBJECTS.patientSearch,
        plain,
        await signedHeaders(PDS_SUBJECTS.patientSearch, plain, caller()),
      );
      expect(one.response).toEqual({ matches: [], tooManyMatches: true });
      for (const limit of ['2', '50', '1&_max-results=50']) {
        const asking = { query: `${LIST}&_max-results=${limit}` };
        const refused = await send(
          PDS_SUBJECTS.patientSearch,
          asking,
          await signedHeaders(PDS_SUBJECTS.patientSearch, asking, caller()),
        );
        expect(refused.err).toMatchObject({ code: 'INVALID_VALUE' });
        expect(JSON.stringify(refused)).not.toMatch(/Smith|Smyth|900000000/);
      }
      // Nobody was disclosed, so nobody was audited.
      const after = await under.db.query(`SELECT count(*)::int AS n FROM "${under.schema}".read_audit`);
      expect(after.rows).toEqual(before.rows);
      // A single unique match is what this access mode is for.
      const unique = { query: 'family=Smith&gender=female&birthdate=eq2010-10-22' };
      const single = await send(
        PDS_SUBJECTS.patientSearch,
        unique,
        await signedHeaders(PDS_SUBJECTS.patientSearch, unique, caller()),
      );
      expect((single.response as { matches: { patient: { id: string } }[] }).matches.map((m) => m.patient.id)).toEqual([
        '9000000009',
      ]);
    });

    it.each([
      ['claiming application-restricted mode', application],
      ['without an access mode (an older statement)', older],
    ])('a statement %s cannot update or create, and nothing changes', async (_name, caller) => {
      const current = await version();
      const update = {
        nhsNumber: '9000000009',
        ifMatch: `W/"${current}"`,
        patches: [{ op: 'replace', path: '/gender', value: 'male' }],
      };
      const changed = await send(
        PDS_SUBJECTS.patientUpdate,
        update,
        await signedHeaders(PDS_SUBJECTS.patientUpdate, update, caller()),
      );
      expect(changed.err).toMatchObject({
        code: 'ACCESS_DENIED',
        diagnostics: expect.stringMatching(/Application-restricted/),
      });
      const create = {
        patient: {
          resourceType: 'Patient',
          name: [{ use: 'usual', family: 'Busattack', given: ['Ada'] }],
          gender: 'female',
          birthDate: '1990-01-01',
        },
      };
      const created = await send(
        PDS_SUBJECTS.patientCreate,
        create,
        await signedHeaders(PDS_SUBJECTS.patientCreate, create, caller()),
      );
      expect(created.err).toMatchObject({ code: 'ACCESS_DENIED' });
      expect(await version()).toBe(current);
      const made = await under.db.query(
        `SELECT count(*)::int AS n FROM "${under.schema}".patient WHERE resource::text LIKE '%Busattack%'`,
      );
      expect(made.rows[0]?.n).toBe(0);
    });

    // The statement without a mode is the case the guard's clearing of the header decides: nothing signed
    // overwrites a forged header there.
    it.each([
      ['an application-restricted statement', application],
      ['a statement without an access mode (an older statement)', older],
    ])('a header claiming user-restricted mode beside %s changes nothing', async (_name, caller) => {
      const current = await version();
      const update = {
        nhsNumber: '9000000009',
        ifMatch: `W/"${current}"`,
        patches: [{ op: 'replace', path: '/gender', value: 'male' }],
      };
      const headers = await signedHeaders(PDS_SUBJECTS.patientUpdate, update, caller());
      headers.set(HEADER.callerAccessMode, 'user-restricted');
      expect((await send(PDS_SUBJECTS.patientUpdate, update, headers)).err?.code).toBe('ACCESS_DENIED');
      const query = { query: `${LIST}&_max-results=50` };
      const searchHeaders = await signedHeaders(PDS_SUBJECTS.patientSearch, query, caller());
      searchHeaders.set(HEADER.callerAccessMode, 'user-restricted');
      expect((await send(PDS_SUBJECTS.patientSearch, query, searchHeaders)).err?.code).toBe('INVALID_VALUE');
      expect(await version()).toBe(current);
    });
  });

  it('leaves only the health check open without a statement', async () => {
    const answer = await send(PDS_SUBJECTS.healthCheck, {}, natsHeaders());
    expect(answer.err).toBeUndefined();
  });
});

import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { EReferralsClient, FhirResource } from '@platform/contracts-ers';
import { referencePath, startTestJwks, type TestJwks } from '@platform/shared-testing';
import { startBuiltGateway, type BuiltGateway } from '@platform/testing-services';
import {
  newSdsUserId,
  newServiceId,
  OTHER_PROVIDER,
  organisationToken,
  provider,
  PROVIDER,
  serviceNaming,
  startEReferralsUnderTest,
  stateOf,
  type EReferralsUnderTest,
  ersRequest,
  issueCode,
  type ErsAnswer,
  type ErsSender,
} from '../e-referrals.test-harness';

const ADMIN = 'SERVICE_PROVIDER_CLINICIAN_ADMIN';

/**
 * NHSD-eRS-On-Behalf-Of-User-ID through the built gateway, as the NHS e-RS API specification has it: with
 * SERVICE_PROVIDER_CLINICIAN_ADMIN it is required and must name a clinician A040 lists for the organisation
 * acted for; with any other business function it is refused. Each refusal is 403 FORBIDDEN. On the subjects
 * served directly (A008, A010) and through Nest (A022, A005, A040).
 */
describe('e-referrals: acting on behalf of a provider clinician (NHSD-eRS-On-Behalf-Of-User-ID)', () => {
  let under: EReferralsUnderTest;
  let client: EReferralsClient;
  let jwks: TestJwks;
  let gateway: BuiltGateway;
  let hospitalToken: string;
  let gpToken: string;
  /** A clinician the hospital (R69) names on a service of its own, and one only the other trust names. */
  const ours = newSdsUserId();
  const theirs = newSdsUserId();

  const token = (username: string, role: string, organisation: string): Promise<string> =>
    organisationToken(jwks, username, role, organisation);

  const send = (
    method: 'GET' | 'POST',
    path: string,
    as: ErsSender,
    options: { body?: unknown; ifMatch?: string } = {},
  ): Promise<ErsAnswer> => ersRequest(gateway.base, method, path, as, options);

  const forbidden = (answer: ErsAnswer): { status: number; code: string | undefined } => ({
    status: answer.status,
    code: issueCode(answer),
  });

  const admin = (onBehalfOf?: string): ErsSender => ({
    token: hospitalToken,
    businessFunction: ADMIN,
    ...(onBehalfOf === undefined ? {} : { onBehalfOf }),
  });
  const clinician = (onBehalfOf?: string): ErsSender => ({
    token: hospitalToken,
    businessFunction: 'SERVICE_PROVIDER_CLINICIAN',
    ...(onBehalfOf === undefined ? {} : { onBehalfOf }),
  });

  /** Every way the header is wrong for the hospital's user: each is 403 FORBIDDEN. */
  const refusedCallers = (): [string, ErsSender][] => [
    ['the admin without the header', admin()],
    ['the clinician function with the header', clinician(ours)],
    ['the admin naming a clinician only another trust names (A040 does not list them)', admin(theirs)],
    ['the admin naming a user nobody names', admin('999999999999')],
    ['the admin with a malformed id', admin('021600556514; drop')],
    ['the admin naming two users', admin(`${ours},${ours}`)],
  ];

  const worklistRequest = (): FhirResource =>
    JSON.parse(
      readFileSync(referencePath('pds-ers/ers', 'stu3/A008_worklist_request_ReferralsForReview.json'), 'utf8'),
    ) as FhirResource;

  beforeAll(async () => {
    under = await startEReferralsUnderTest({ schemaPrefix: 'ers_on_behalf_of' });
    ({ client } = under);
    await client.publishService(
      { resource: serviceNaming(newServiceId(), ours, { ods: PROVIDER }) },
      provider().context(),
    );
    await client.publishService(
      { resource: serviceNaming(newServiceId(), theirs, { ods: OTHER_PROVIDER }) },
      provider(OTHER_PROVIDER).context(),
    );
    jwks = await startTestJwks();
    gateway = await startBuiltGateway({ natsUrl: under.natsUrl, jwksUrl: jwks.url });
    hospitalToken = await token('provider-clinician', 'provider-clinician', PROVIDER);
    gpToken = await token('clinician', 'clinician', 'A83008');
  });

  afterAll(async () => {
    await gateway?.stop();
    await jwks?.stop();
    await under?.stop();
  });

  it('A040 lists the clinician the hospital names, not the one only the other trust names, and takes no header', async () => {
    const list = await send('GET', 'R4/Practitioner?_query=onBehalfOf', admin());
    expect(list.status).toBe(200);
    const ids = ((list.body['entry'] as { resource: { id: string } }[]) ?? []).map((entry) => entry.resource.id);
    expect(ids).toContain(ours);
    expect(ids).not.toContain(theirs);
  });

  it('A008 (served directly): the admin on behalf of a listed clinician gets the worklist; every other use of the header is 403', async () => {
    const allowed = await send('POST', 'STU3/ReferralRequest/$ers.fetchworklist', admin(ours), {
      body: worklistRequest(),
    });
    expect(allowed.status).toBe(200);
    expect(allowed.body['resourceType']).toBe('List');
    const sandboxClinician = await send('POST', 'STU3/ReferralRequest/$ers.fetchworklist', admin('021600556514'), {
      body: worklistRequest(),
    });
    expect(sandboxClinician.status).toBe(200);
    const plain = await send('POST', 'STU3/ReferralRequest/$ers.fetchworklist', clinician(), {
      body: worklistRequest(),
    });
    expect(plain.status).toBe(200);

    for (const [name, as] of refusedCallers()) {
      const refused = await send('POST', 'STU3/ReferralRequest/$ers.fetchworklist', as, { body: worklistRequest() });
      expect({ name, ...forbidden(refused) }).toEqual({ name, status: 403, code: 'FORBIDDEN' });
    }
    // Longer than any id: the contract refuses it before it reaches e-referrals.
    const long = await send('POST', 'STU3/ReferralRequest/$ers.fetchworklist', admin('1'.repeat(65)), {
      body: worklistRequest(),
    });
    expect(forbidden(long)).toEqual({ status: 400, code: 'INVALID_VALUE' });
  });

  it('A008: forty simultaneous admins, half naming their own clinician and half the other trust’s, get 200 and 403', async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        send('POST', 'STU3/ReferralRequest/$ers.fetchworklist', admin(index % 2 === 0 ? ours : theirs), {
          body: worklistRequest(),
        }),
      ),
    );
    expect(answers.filter((answer, index) => index % 2 === 0 && answer.status === 200)).toHaveLength(20);
    expect(
      answers.filter((answer, index) => index % 2 === 1 && answer.status === 403 && issueCode(answer) === 'FORBIDDEN'),
    ).toHaveLength(20);
  });

  it('A010 (served directly): a referrer may not send the header', async () => {
    const search = await send(
      'POST',
      'STU3/HealthcareService/$ers.searchHealthcareServicesForPatient',
      { token: gpToken, businessFunction: 'REFERRING_CLINICIAN', onBehalfOf: ours },
      { body: { resourceType: 'Parameters', parameter: [] } },
    );
    expect(forbidden(search)).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect(JSON.stringify(search.body)).toContain('On-Behalf-Of User ID');
  });

  it('A022 (a write): refused without a change for every wrong header, then done on behalf of the listed clinician', async () => {
    const body = {
      resourceType: 'Parameters',
      meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-cancelAppointmentActionLater-Parameters-1'] },
      parameter: [{ name: 'comments', valueString: 'Please contact patient to rebook' }],
    };
    const path = 'STU3/ReferralRequest/000000070001/$ers.cancelAppointmentActionLater';
    for (const [name, as] of refusedCallers()) {
      const refused = await send('POST', path, as, { body, ifMatch: 'W/"5"' });
      expect({ name, ...forbidden(refused) }).toEqual({ name, status: 403, code: 'FORBIDDEN' });
    }
    const before = await send('GET', 'STU3/ReferralRequest/000000070001', admin(ours));
    expect(before.status).toBe(200);
    expect(before.etag).toBe('W/"5"');
    expect(stateOf(before.body)).toBe('BOOKED');

    const done = await send('POST', path, admin(ours), { body, ifMatch: 'W/"5"' });
    expect(done.status).toBe(200);
    expect(done.etag).toBe('W/"6"');
    expect(stateOf(done.body)).toBe('TRIAGED_PROVIDER_TO_ACTION');

    // The history names the admin who acted and, beside them, the clinician acted for; so does the read audit.
    const history = await under.db.query<{ changed_by: string; changed_by_ods: string; on_behalf_of: string | null }>(
      `SELECT changed_by, changed_by_ods, on_behalf_of FROM "${under.schema}".referral_version
        WHERE ubrn = '000000070001' AND version = 6`,
    );
    expect(history.rows).toEqual([
      { changed_by: 'provider-clinician-R69', changed_by_ods: PROVIDER, on_behalf_of: ours },
    ]);
    const reads = await under.db.query<{ business_function: string; on_behalf_of: string | null }>(
      `SELECT business_function, on_behalf_of FROM "${under.schema}".read_audit WHERE ubrn = '000000070001' AND action = 'A005'`,
    );
    expect(reads.rows).toEqual([{ business_function: ADMIN, on_behalf_of: ours }]);
  });
});

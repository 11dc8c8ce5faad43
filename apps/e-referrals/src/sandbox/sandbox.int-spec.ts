import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { EReferralsClient, FhirResource } from '@platform/contracts-ers';
import { referencePath, rejectionOf } from '@platform/shared-testing';
import { referrer, startEReferralsUnderTest, stateOf, type EReferralsUnderTest } from '../e-referrals.test-harness';

const example = (file: string): FhirResource =>
  JSON.parse(readFileSync(referencePath('pds-ers/ers', file), 'utf8')) as FhirResource;

const ids = (bundle: FhirResource, type: string): string[] =>
  ((bundle['entry'] as { resource: { resourceType: string; id: string } }[]) ?? [])
    .filter((entry) => entry.resource.resourceType === type)
    .map((entry) => entry.resource.id);

/**
 * Sandbox mode (ERS_SEED=sandbox): the NHS e-RS examples' requests get the outcomes their response files show
 * (NHS reference payloads, MIT licence, in shared/reference/pds-ers/ers).
 */
describe('e-referrals sandbox: the NHS examples against the seeded services, slots and referrals', () => {
  let under: EReferralsUnderTest;
  let client: EReferralsClient;
  const gp = referrer();
  const fn = { businessFunction: gp.businessFunction };

  beforeAll(async () => {
    under = await startEReferralsUnderTest({ schemaPrefix: 'ers_sandbox' });
    ({ client } = under);
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('A015: the slots of 12000 (Minimum), 11000 a page of five (Page1PageSize5), 10000 none (NoSlots), page 5 refused', async () => {
    const minimum = await client.searchSlots(
      { ...fn, query: { 'schedule.actor:HealthcareService': '12000', _count: '20', page: '1' } },
      gp.context(),
    );
    const expected = example('stu3/A015_slots_response_Minimum.json');
    expect(minimum.resource['total']).toBe(expected['total']);
    expect(ids(minimum.resource, 'Slot')).toEqual(ids(expected, 'Slot'));
    expect(ids(minimum.resource, 'Schedule')).toEqual(ids(expected, 'Schedule'));

    const page = await client.searchSlots(
      { ...fn, query: { 'schedule.actor:HealthcareService': '11000', _count: '5', page: '1' } },
      gp.context(),
    );
    const pageExpected = example('stu3/A015_slots_response_Page1PageSize5.json');
    expect(page.resource['total']).toBe(pageExpected['total']);
    expect(ids(page.resource, 'Slot')).toEqual(ids(pageExpected, 'Slot'));
    expect((page.resource['link'] as { relation: string }[]).map((link) => link.relation)).toEqual(['self', 'next']);

    const none = await client.searchSlots(
      { ...fn, query: { 'schedule.actor:HealthcareService': '10000' } },
      gp.context(),
    );
    expect(none.resource).toMatchObject({ total: 0, entry: [] });

    const error = example('stu3/A015_slots_response_400_ErrorPage5.json');
    const refused = await rejectionOf(
      client.searchSlots(
        { ...fn, query: { 'schedule.actor:HealthcareService': '11000', _count: '5', page: '5' } },
        gp.context(),
      ),
    );
    const issue = (error['issue'] as { diagnostics: string }[])[0];
    expect(refused).toMatchObject({ code: 'INVALID_VALUE', diagnostics: issue?.diagnostics });
  });

  it('A005 reads the booked example referral, and A004 answers PRIORITY with the codes of the NHS file', async () => {
    const booked = await client.getReferral({ ...fn, id: '000000070001' }, gp.context());
    const expected = example('stu3/A005_referralRequest_response_BookedDBS.json');
    expect(booked.resource['id']).toBe(expected['id']);
    expect(booked.versionId).toBe((expected['meta'] as { versionId: string }).versionId);
    expect(stateOf(booked.resource)).toBe('BOOKED');
    expect(JSON.stringify(booked.resource)).toContain('"reference":"Slot/11002001"');
    const priority = await client.codeSystem({ ...fn, id: 'PRIORITY' }, gp.context());
    const codes = (resource: FhirResource): string[] =>
      (resource['concept'] as { code: string }[]).map((item) => item.code).sort();
    expect(codes(priority.resource)).toEqual(codes(example('stu3/A004_CodeSystem_PRIORITY.json')));
  });

  it("A011: the NHS Minimal example refers PDS's sandbox patient 9912003888 to service 11002, NOT_BOOKED and URGENT", async () => {
    const created = await client.createReferral(
      { ...fn, resource: example('stu3/A011_createReferral_request_Minimal.json') },
      gp.context(),
    );
    const expected = example('stu3/A011_createReferral_response_ReferralRequest.json');
    expect(created.resource['resourceType']).toBe(expected['resourceType']);
    expect(created.resource['id']).toMatch(/^\d{12}$/);
    expect(stateOf(created.resource)).toBe(stateOf(expected));
    expect(JSON.stringify(created.resource)).toContain('"code":"URGENT"');
    expect(JSON.stringify(created.resource)).toContain('"value":"9912003888"');
    expect(JSON.stringify(created.resource)).toContain('"value":"11002"');
  });

  it('A035 finds the example services 1 and 2 by name, and A016 books the example request into slot 11000021', async () => {
    const services = await client.listServices({ ...fn, query: { _id: '1,2' } }, gp.context());
    const names = (bundle: FhirResource): string[] =>
      (bundle['entry'] as { resource: { name: string } }[]).map((entry) => entry.resource.name);
    expect(names(services.resource)).toEqual(names(example('r4/A035_HealthcareService_search_minimal.json')));
    const booked = await client.createAppointment(
      { ...fn, resource: example('stu3/A016_book_request_MinimalBooking.json') },
      gp.context(),
    );
    const expected = example('stu3/A016_book_response_MinimalBooking.json');
    expect(booked.resource).toMatchObject({
      resourceType: 'Appointment',
      status: expected['status'],
      slot: expected['slot'],
      incomingReferral: [{ reference: 'ReferralRequest/000000070000/_history/7' }],
    });
    expect(JSON.stringify(booked.resource)).toContain('Forthright Cardiology Business Service');
  });
});

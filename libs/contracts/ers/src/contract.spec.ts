import 'reflect-metadata';
import { errorDefinition } from '@platform/shared-errors';
import { validatePayload, type CallContext } from '@platform/shared-nats';
import { rejectionOf } from '@platform/shared-testing';
import { stubRpc } from '@platform/testing-services';
import { businessFunctionsOf } from './business-functions';
import { EReferralsClient } from './client';
import { ERS_CODE_SYSTEM } from './errors';
import { FakeEReferralsClient } from './fake-client';
import { ON_BEHALF_OF_MAX_LENGTH, plainQueryRequest, plainResourceRequest, ResourceRequest } from './payloads';
import { ERS_SUBJECTS } from './subjects';
import { worklistResource } from './worklist';

const context: CallContext = {
  requestId: 'r-1',
  caller: { id: 'user-1', roles: ['clinician'], organisation: 'A83008' },
};
const referral = { resource: { resourceType: 'ReferralRequest', id: '000000070000' }, versionId: '1' };

describe('the e-referrals contract', () => {
  it('sends a create on ers.referral.create.v1 with the business function and accepts a FHIR reply back', async () => {
    const { rpc, sent } = stubRpc(referral);
    const request = { resource: { resourceType: 'Parameters' }, businessFunction: 'REFERRING_CLINICIAN' as const };
    await expect(new EReferralsClient(rpc).createReferral(request, context)).resolves.toEqual(referral);
    expect(sent).toEqual([{ subject: ERS_SUBJECTS.referralCreate, data: request }]);
  });

  it.each<[string, object]>([
    ['no resource', {}],
    ['a business function e-RS does not have', { resource: {}, businessFunction: 'SUPERUSER' }],
    ['a field the contract does not describe', { resource: {}, colour: 'red' }],
    ['a resource that is not an object', { resource: 'x' }],
  ])('refuses a request with %s before it reaches the bus (INVALID_VALUE)', async (_case, request) => {
    const { rpc, sent } = stubRpc(referral);
    const error = await rejectionOf(new EReferralsClient(rpc).createReferral(request as never, context));
    expect(error.code).toBe('INVALID_VALUE');
    expect(sent).toEqual([]);
  });

  it('answers REC_SERVER_ERROR when the service replies with something that is not a FHIR reply', async () => {
    for (const reply of [null, {}, { resource: 'x' }, { resource: {}, versionId: 1 }]) {
      const { rpc } = stubRpc(reply);
      expect((await rejectionOf(new EReferralsClient(rpc).getReferral({ id: '000000070000' }, context))).code).toBe(
        'REC_SERVER_ERROR',
      );
    }
  });

  it('registers the e-RS codes with the statuses the NHS API answers them with, in the eRS code system', () => {
    expect(errorDefinition('SLOT_NOT_AVAILABLE')).toMatchObject({ status: 422, system: ERS_CODE_SYSTEM });
    expect(errorDefinition('INVALID_REQUEST_STATE')).toMatchObject({ status: 422, system: ERS_CODE_SYSTEM });
    expect(errorDefinition('REFERRAL_LOCKED')).toMatchObject({ status: 423 });
    expect(errorDefinition('FORBIDDEN')).toMatchObject({ status: 403, issueCode: 'forbidden' });
  });

  it('maps platform roles to e-RS business functions', () => {
    expect(businessFunctionsOf(['clinician'])).toEqual(['REFERRING_CLINICIAN']);
    expect(businessFunctionsOf(['practice-admin'])).toEqual(['REFERRING_ADMIN', 'REFERRING_CLINICIAN_ADMIN']);
    expect(businessFunctionsOf(['provider-clinician'])).toEqual([
      'SERVICE_PROVIDER_CLINICIAN',
      'SERVICE_PROVIDER_CLINICIAN_ADMIN',
    ]);
    expect(businessFunctionsOf(['ops', 'pharmacist'])).toEqual([]);
  });

  it('turns a compact worklist into the NHS eRS-FetchWorklist-List-1', () => {
    const list = worklistResource({
      listType: 'REFERRALS_FOR_REVIEW',
      total: 1,
      services: { '11012': 'Excellent Cardiology Business Service 12' },
      rows: [
        [
          '000000070002',
          7,
          'ROUTINE',
          'CARDIOLOGY',
          '9462979626',
          '11012',
          'AWAITING_TRIAGE',
          null,
          '2021-09-03T14:09:15.297Z',
          '2021-09-03T14:09:15.297Z',
        ],
      ],
    });
    expect(list).toMatchObject({
      resourceType: 'List',
      contained: [{ resourceType: 'Patient', id: 'Patient-9462979626' }],
      entry: [{ item: { reference: 'ReferralRequest/000000070002' } }],
    });
    expect(JSON.stringify(list)).toContain('"referralRequestVersion","valueInteger":7');
    expect(JSON.stringify(list)).toContain('TRIAGE_DEFERRAL');
  });
});

describe('FakeEReferralsClient', () => {
  it('answers what the test set, validates like the real client, and records the calls', async () => {
    const fake = new FakeEReferralsClient().answer('getReferral', referral);
    await expect(fake.getReferral({ id: '000000070000' }, context)).resolves.toEqual(referral);
    expect((await rejectionOf(fake.getAppointment({ id: '1' }, context))).code).toBe('RESOURCE_NOT_FOUND');
    expect((await rejectionOf(fake.getReferral({ id: 42 } as never, context))).code).toBe('INVALID_VALUE');
    expect(fake.calls.map((call) => call.method)).toEqual(['getReferral', 'getAppointment']);
  });
});

describe('the on-behalf-of user in a request (NHSD-eRS-On-Behalf-Of-User-ID)', () => {
  const admin = 'SERVICE_PROVIDER_CLINICIAN_ADMIN' as const;

  it('is carried by the hand checks of the direct subjects as the class takes it', async () => {
    const resource = { resourceType: 'Parameters' };
    expect(plainResourceRequest({ resource, businessFunction: admin, onBehalfOf: '021600556514' })).toEqual({
      resource,
      businessFunction: admin,
      onBehalfOf: '021600556514',
    });
    expect(plainQueryRequest({ query: {}, businessFunction: admin, onBehalfOf: '021600556514' })).toEqual({
      query: {},
      businessFunction: admin,
      onBehalfOf: '021600556514',
    });
    // Not a string, or too long: left to the class, which refuses it.
    for (const onBehalfOf of [42, '1'.repeat(ON_BEHALF_OF_MAX_LENGTH + 1)]) {
      expect(plainResourceRequest({ resource, onBehalfOf })).toBeUndefined();
      expect(plainQueryRequest({ query: {}, onBehalfOf })).toBeUndefined();
      expect((await rejectionOf(validatePayload(ResourceRequest, { resource, onBehalfOf } as never))).code).toBe(
        'INVALID_VALUE',
      );
    }
  });
});

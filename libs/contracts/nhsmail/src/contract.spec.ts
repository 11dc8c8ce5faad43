import 'reflect-metadata';
import { errorDefinition } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { rejectionOf } from '@platform/shared-testing';
import { stubRpc } from '@platform/testing-services';
import { NhsmailRelayClient } from './client';
import { NHSMAIL_CODE_SYSTEM } from './errors';
import { FakeNhsmailRelayClient } from './fake-client';
import type { CreateMailboxRequest, Mailbox } from './mailboxes';
import { NHSMAIL_SUBJECT_POLICIES } from './policy';
import { NHSMAIL_SUBJECTS } from './subjects';

const context: CallContext = { requestId: 'r-1', caller: { id: 'admin-1', roles: ['registry-admin'] } };
const mailbox: Mailbox = {
  address: 'pharmacy.fa123@nhs.net',
  kind: 'shared',
  displayName: 'Pharmacy FA123',
  ownerUsername: null,
  odsCode: 'FA123',
  members: ['jane.smith'],
  hasPassword: false,
  createdAt: '2026-01-01T00:00:00.000Z',
};
const create: CreateMailboxRequest = {
  address: 'pharmacy.fa123@nhs.net',
  kind: 'shared',
  displayName: 'Pharmacy FA123',
  odsCode: 'FA123',
  members: ['jane.smith'],
};

describe('the nhsmail-relay contract', () => {
  it('sends a valid create on nhsmail.mailbox.create.v1 and accepts a mailbox back', async () => {
    const { rpc, sent } = stubRpc(mailbox);
    await expect(new NhsmailRelayClient(rpc).createMailbox(create, context)).resolves.toEqual(mailbox);
    expect(sent).toEqual([{ subject: NHSMAIL_SUBJECTS.mailboxCreate, data: create }]);
  });

  it.each<[string, object]>([
    ['an address in upper case', { ...create, address: 'Pharmacy.FA123@nhs.net' }],
    ['no domain', { ...create, address: 'pharmacy' }],
    ['an unknown kind', { ...create, kind: 'group' }],
    ['a personal mailbox without its owner', { ...create, kind: 'personal' }],
    ['an application account without a password', { ...create, kind: 'application' }],
    ['a short password', { ...create, password: 'short' }],
    ['a field the contract does not describe', { ...create, colour: 'red' }],
  ])('refuses a create with %s before it reaches the bus (INVALID_VALUE)', async (_case, request) => {
    const { rpc, sent } = stubRpc(mailbox);
    const error = await rejectionOf(
      new NhsmailRelayClient(rpc).createMailbox(request as CreateMailboxRequest, context),
    );
    expect(error.code).toBe('INVALID_VALUE');
    expect(sent).toEqual([]);
  });

  it('answers REC_SERVER_ERROR when the service replies with something that is not a mailbox', async () => {
    for (const reply of [null, {}, { ...mailbox, kind: 'group' }, { ...mailbox, members: [1] }]) {
      const { rpc } = stubRpc(reply);
      const error = await rejectionOf(new NhsmailRelayClient(rpc).getMailbox({ address: mailbox.address }, context));
      expect(error.code).toBe('REC_SERVER_ERROR');
    }
  });

  it('registers its own codes in its own code system', () => {
    expect(errorDefinition('NHSMAIL_MAILBOX_NOT_FOUND')).toMatchObject({ status: 404, system: NHSMAIL_CODE_SYSTEM });
    expect(errorDefinition('NHSMAIL_MAILBOX_EXISTS')).toMatchObject({ status: 409, system: NHSMAIL_CODE_SYSTEM });
  });

  it('states who may call every subject, and leaves only the health check open', () => {
    expect(Object.keys(NHSMAIL_SUBJECT_POLICIES).sort()).toEqual(Object.values(NHSMAIL_SUBJECTS).sort());
    const open = Object.entries(NHSMAIL_SUBJECT_POLICIES).filter(([, policy]) => 'public' in policy);
    expect(open.map(([subject]) => subject)).toEqual([NHSMAIL_SUBJECTS.healthCheck]);
  });
});

describe('FakeNhsmailRelayClient', () => {
  it('answers a retried create with the first mailbox, and refuses a second mailbox at the same address', async () => {
    const fake = new FakeNhsmailRelayClient();
    const first = await fake.createMailbox(create, context);
    await expect(fake.createMailbox(create, context)).resolves.toEqual(first);
    expect((await rejectionOf(fake.createMailbox(create, { ...context, requestId: 'r-2' }))).code).toBe(
      'NHSMAIL_MAILBOX_EXISTS',
    );
    await expect(fake.getMailbox({ address: first.address })).resolves.toEqual(first);
    expect((await rejectionOf(fake.getMailbox({ address: 'nobody@nhs.net' }))).code).toBe('NHSMAIL_MAILBOX_NOT_FOUND');
  });
});

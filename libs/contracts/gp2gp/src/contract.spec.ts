import 'reflect-metadata';
import { errorDefinition } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { rejectionOf } from '@platform/shared-testing';
import { stubRpc } from '@platform/testing-services';
import { Gp2gpClient } from './client';
import { GP2GP_CODE_SYSTEM } from './errors';
import { GP2GP_SUBJECT_POLICIES } from './policy';
import { REASONS, TRANSFER_STATES } from './states';
import { GP2GP_SUBJECTS } from './subjects';

const context: CallContext = {
  requestId: 'r-1',
  caller: { id: 'admin-1', roles: ['practice-admin'], organisation: 'Y12345' },
};
const start = { conversationId: '0b6f7a52-4c1e-4d4b-9a55-2f1f0c6a9e10', nhsNumber: '9000000009', sendingOds: 'A83008' };

describe('the gp2gp contract', () => {
  it('sends a valid start on gp2gp.transfer.start.v1 and accepts a transfer back', async () => {
    const reply = { conversationId: start.conversationId, outcome: 'accepted', state: 'EHR_EXTRACT_REQUEST_ACCEPTED' };
    const { rpc, sent } = stubRpc(reply);
    await expect(new Gp2gpClient(rpc).startTransfer(start, context)).resolves.toEqual(reply);
    expect(sent).toEqual([{ subject: GP2GP_SUBJECTS.transferStart, data: start }]);
  });

  it.each<[string, object]>([
    ['a conversation ID that is not a UUID', { ...start, conversationId: 'conv-1' }],
    ['a sending practice in lower case', { ...start, sendingOds: 'a83008' }],
    ['no NHS number', { conversationId: start.conversationId, sendingOds: 'A83008' }],
    ['a field the contract does not describe', { ...start, fromAsid: '200000000359' }],
  ])('refuses a start with %s before it reaches the bus (INVALID_VALUE)', async (_case, request) => {
    const { rpc, sent } = stubRpc({});
    const error = await rejectionOf(new Gp2gpClient(rpc).startTransfer(request as typeof start, context));
    expect(error.code).toBe('INVALID_VALUE');
    expect(sent).toEqual([]);
  });

  it('refuses an acknowledgement with an unknown response or reason code before it reaches the bus', async () => {
    const { rpc, sent } = stubRpc({});
    const client = new Gp2gpClient(rpc);
    const conversationId = start.conversationId;
    for (const request of [
      { conversationId, confirmationResponse: 'MAYBE' },
      { conversationId, confirmationResponse: 'FAILED_TO_INTEGRATE', reasonCode: '42' },
    ]) {
      expect((await rejectionOf(client.acknowledge(request as never, context))).code).toBe('INVALID_VALUE');
    }
    expect(sent).toEqual([]);
  });

  it('answers REC_SERVER_ERROR when the service replies with something that is not a transfer', async () => {
    for (const reply of [null, {}, { conversationId: 'x', outcome: 'completed', state: 'EHR_EXTRACT_TRANSLATED' }]) {
      const { rpc } = stubRpc(reply);
      expect((await rejectionOf(new Gp2gpClient(rpc).startTransfer(start, context))).code).toBe('REC_SERVER_ERROR');
    }
  });

  it('registers its own errors as problems in its code system', () => {
    expect(errorDefinition('GP2GP_TRANSFER_NOT_FOUND')).toMatchObject({ status: 404, system: GP2GP_CODE_SYSTEM });
    expect(errorDefinition('GP2GP_LINK_EXPIRED')).toMatchObject({ status: 410 });
    expect(errorDefinition('GP2GP_LINK_INVALID')).toMatchObject({ status: 403 });
  });

  it('gives every NHS reason code of the brief a final error state, and practices and operators their subjects', () => {
    for (const code of [
      '06',
      '07',
      '10',
      '11',
      '12',
      '17',
      '18',
      '19',
      '20',
      '21',
      '24',
      '25',
      '28',
      '29',
      '30',
      '31',
      '99',
    ]) {
      expect(TRANSFER_STATES).toContain(REASONS[code as keyof typeof REASONS].state);
    }
    expect(GP2GP_SUBJECT_POLICIES[GP2GP_SUBJECTS.transferStart]).toEqual({ roles: ['practice-admin', 'clinician'] });
    expect(GP2GP_SUBJECT_POLICIES[GP2GP_SUBJECTS.transferResend]).toEqual({ roles: ['ops'] });
    expect(GP2GP_SUBJECT_POLICIES[GP2GP_SUBJECTS.transferStatus]).toEqual({ roles: ['ops'] });
  });
});

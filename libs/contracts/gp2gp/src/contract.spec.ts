import 'reflect-metadata';
import { errorDefinition } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { rejectionOf } from '@platform/shared-testing';
import { Gp2gpClient } from './client';
import { GP2GP_CODE_SYSTEM } from './errors';
import { FakeGp2gpClient } from './fake-client';
import type { Item } from './items';
import { GP2GP_SUBJECTS } from './subjects';
import { stubRpc } from '@platform/testing-services';

const context: CallContext = { requestId: 'r-1', caller: { id: 'user-1', roles: ['ops'] } };
const item: Item = {
  id: '0b6f7a52-4c1e-4d4b-9a55-2f1f0c6a9e10',
  name: 'an item',
  description: null,
  version: 1,
  createdAt: '2025-01-01T00:00:00.000Z',
};

describe('the gp2gp contract', () => {
  it('sends a valid create on gp2gp.item.create.v1 and accepts an item back', async () => {
    const { rpc, sent } = stubRpc(item);
    await expect(new Gp2gpClient(rpc).createItem({ name: 'an item' }, context)).resolves.toEqual(item);
    expect(sent).toEqual([{ subject: GP2GP_SUBJECTS.itemCreate, data: { name: 'an item' } }]);
  });

  it.each<[string, object]>([
    ['an empty name', { name: '' }],
    ['no name', {}],
    ['a field the contract does not describe', { name: 'x', colour: 'red' }],
    ['a name that is not text', { name: 42 }],
  ])('refuses a create with %s before it reaches the bus (INVALID_VALUE)', async (_case, request) => {
    const { rpc, sent } = stubRpc(item);
    const error = await rejectionOf(new Gp2gpClient(rpc).createItem(request as { name: string }, context));
    expect(error.code).toBe('INVALID_VALUE');
    expect(sent).toEqual([]);
  });

  it('refuses an item ID that is not a UUID before it reaches the bus', async () => {
    const { rpc, sent } = stubRpc(item);
    expect((await rejectionOf(new Gp2gpClient(rpc).getItem({ itemId: '1' }, context))).code).toBe('INVALID_VALUE');
    expect(sent).toEqual([]);
  });

  it('answers REC_SERVER_ERROR when the service replies with something that is not an item', async () => {
    for (const reply of [null, {}, { ...item, version: '1' }, { ...item, name: undefined }]) {
      const { rpc } = stubRpc(reply);
      expect((await rejectionOf(new Gp2gpClient(rpc).getItem({ itemId: item.id }, context))).code).toBe(
        'REC_SERVER_ERROR',
      );
    }
  });

  it('registers GP2GP_ITEM_NOT_FOUND as a 404 problem in its own code system', () => {
    expect(errorDefinition('GP2GP_ITEM_NOT_FOUND')).toMatchObject({ status: 404, system: GP2GP_CODE_SYSTEM });
  });
});

describe('FakeGp2gpClient', () => {
  it('answers a retried create with the first item, and GP2GP_ITEM_NOT_FOUND for an unknown one', async () => {
    const fake = new FakeGp2gpClient();
    const first = await fake.createItem({ name: 'x' }, context);
    await expect(fake.createItem({ name: 'x' }, context)).resolves.toEqual(first);
    await expect(fake.getItem({ itemId: first.id })).resolves.toEqual(first);
    expect((await rejectionOf(fake.getItem({ itemId: item.id }))).code).toBe('GP2GP_ITEM_NOT_FOUND');
    expect((await rejectionOf(fake.createItem({ name: '' }, { requestId: 'r-2' }))).code).toBe('INVALID_VALUE');
  });
});

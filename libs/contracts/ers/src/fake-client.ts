import { randomUUID } from 'node:crypto';
import { PlatformError } from '@platform/shared-errors';
import { validatePayload, type CallContext } from '@platform/shared-nats';
import type { EReferralsApi } from './client';
import './errors';
import { CreateItemRequest, GetItemRequest, type Item } from './items';

/** An in-memory e-referrals for consumers' unit tests: same validation, answers and error codes as the real client. */
export class FakeEReferralsClient implements EReferralsApi {
  private readonly items = new Map<string, Item>();
  /** Answers by caller and X-Request-ID, so a retried write returns the first answer. */
  private readonly writes = new Map<string, Item>();

  withItem(item: Item): this {
    this.items.set(item.id, item);
    return this;
  }

  async createItem(request: CreateItemRequest, context: CallContext): Promise<Item> {
    const checked = await validatePayload(CreateItemRequest, request);
    const key = `${context.caller?.id ?? 'anonymous'} ${context.requestId}`;
    const earlier = this.writes.get(key);
    if (earlier) return earlier;
    const item: Item = {
      id: randomUUID(),
      name: checked.name,
      description: checked.description ?? null,
      version: 1,
      createdAt: new Date().toISOString(),
    };
    this.items.set(item.id, item);
    this.writes.set(key, item);
    return item;
  }

  async getItem(request: GetItemRequest): Promise<Item> {
    const { itemId } = await validatePayload(GetItemRequest, request);
    const item = this.items.get(itemId);
    if (!item) throw new PlatformError('ERS_ITEM_NOT_FOUND');
    return item;
  }

  health(): Promise<{ status: 'ok'; service: string }> {
    return Promise.resolve({ status: 'ok', service: 'e-referrals' });
  }
}

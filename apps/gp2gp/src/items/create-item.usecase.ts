import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { GP2GP_EVENTS, type CreateItemRequest, type Item, type ItemCreatedEvent } from '@platform/contracts-gp2gp';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { ItemRepository } from './item.repository';

/**
 * Creates an item and queues `gp2gp.item.created.v1` in the same transaction. Exactly once per (caller,
 * X-Request-ID): a retry, even one that arrives while the first is running, gets the first answer.
 */
@Injectable()
export class CreateItemUseCase {
  constructor(
    private readonly items: ItemRepository,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  async execute(request: CreateItemRequest, context: CallContext): Promise<Item> {
    const key = writeKey(context, 'item.create', request);
    const item = await this.writes.run(key, async (transaction) => {
      const created = await this.items.insert(transaction, {
        id: randomUUID(),
        name: request.name,
        description: request.description ?? null,
        createdBy: key.callerId,
      });
      const event: ItemCreatedEvent = { itemId: created.id, version: created.version, occurredAt: created.createdAt };
      await this.outbox.append(transaction, GP2GP_EVENTS.itemCreated, event, context);
      return created;
    });
    this.outbox.kick();
    return item;
  }
}

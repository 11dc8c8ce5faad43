import { Injectable } from '@nestjs/common';
import type { Item } from '@platform/contracts-gp2gp';
import { PlatformError } from '@platform/shared-errors';
import { ItemRepository } from './item.repository';

/** One item by its ID (GP2GP_ITEM_NOT_FOUND when there is none). */
@Injectable()
export class GetItemUseCase {
  constructor(private readonly items: ItemRepository) {}

  async execute(itemId: string): Promise<Item> {
    const item = await this.items.find(itemId);
    if (!item) throw new PlatformError('GP2GP_ITEM_NOT_FOUND', undefined, { diagnostics: `No item ${itemId}` });
    return item;
  }
}

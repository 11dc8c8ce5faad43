import { Injectable } from '@nestjs/common';
import type { Item } from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import { ItemRepository } from './item.repository';

/** One item by its ID (ERS_ITEM_NOT_FOUND when there is none). */
@Injectable()
export class GetItemUseCase {
  constructor(private readonly items: ItemRepository) {}

  async execute(itemId: string): Promise<Item> {
    const item = await this.items.find(itemId);
    if (!item) throw new PlatformError('ERS_ITEM_NOT_FOUND', undefined, { diagnostics: `No item ${itemId}` });
    return item;
  }
}

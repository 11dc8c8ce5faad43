/** `gp2gp.item.created.v1`: an item was created. */
export interface ItemCreatedEvent {
  itemId: string;
  version: number;
  occurredAt: string;
}

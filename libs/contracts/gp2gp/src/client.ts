import { PlatformError } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient } from '@platform/shared-nats';
import './errors';
import { CreateItemRequest, GetItemRequest, type Item } from './items';
import { GP2GP_SUBJECTS } from './subjects';

/** What other projects may ask of gp2gp. */
export interface Gp2gpApi {
  /** Creates an item; exactly once per (caller, X-Request-ID). */
  createItem(request: CreateItemRequest, context: CallContext): Promise<Item>;
  /** One item (GP2GP_ITEM_NOT_FOUND otherwise). */
  getItem(request: GetItemRequest, context: CallContext): Promise<Item>;
  health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }>;
}

function expectItem(reply: unknown): Item {
  const item = reply as Partial<Item> | null;
  const valid =
    typeof item === 'object' &&
    item !== null &&
    typeof item.id === 'string' &&
    typeof item.name === 'string' &&
    (item.description === null || typeof item.description === 'string') &&
    Number.isInteger(item.version) &&
    typeof item.createdAt === 'string';
  if (!valid) throw new PlatformError('REC_SERVER_ERROR', 'gp2gp answered with something that is not an item');
  return item as Item;
}

/** The typed gp2gp client: validates what it sends and the shape of what it receives, over NATS. */
export class Gp2gpClient implements Gp2gpApi {
  constructor(private readonly rpc: NatsRpcClient) {}

  async createItem(request: CreateItemRequest, context: CallContext): Promise<Item> {
    return expectItem(await this.rpc.requestValidated(GP2GP_SUBJECTS.itemCreate, CreateItemRequest, request, context));
  }

  async getItem(request: GetItemRequest, context: CallContext): Promise<Item> {
    return expectItem(await this.rpc.requestValidated(GP2GP_SUBJECTS.itemGet, GetItemRequest, request, context));
  }

  async health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }> {
    return this.rpc.request(GP2GP_SUBJECTS.healthCheck, {}, context, timeoutMs);
  }
}

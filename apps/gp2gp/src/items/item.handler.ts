import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { CreateItemRequest, GetItemRequest, GP2GP_SUBJECTS, type Item } from '@platform/contracts-gp2gp';
import { withCallContext } from '@platform/shared-nats';
import { CreateItemUseCase } from './create-item.usecase';
import { GetItemUseCase } from './get-item.usecase';

@Controller()
export class ItemHandler {
  constructor(
    private readonly createItem: CreateItemUseCase,
    private readonly getItem: GetItemUseCase,
  ) {}

  @MessagePattern(GP2GP_SUBJECTS.itemCreate)
  create(@Payload() request: CreateItemRequest, @Ctx() nats: NatsContext): Promise<Item> {
    return withCallContext(nats, (call) => this.createItem.execute(request, call));
  }

  @MessagePattern(GP2GP_SUBJECTS.itemGet)
  get(@Payload() request: GetItemRequest, @Ctx() nats: NatsContext): Promise<Item> {
    return withCallContext(nats, () => this.getItem.execute(request.itemId));
  }
}

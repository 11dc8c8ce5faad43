import { Body, Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  GP2GP_READERS,
  GP2GP_WRITERS,
  type Gp2gpApi,
  type CreateItemRequest,
  type Item,
} from '@platform/contracts-gp2gp';
import { PlatformError } from '@platform/shared-errors';
import { ApiRoute } from '../auth/route-policy';
import { callContextOf } from '../http/call-context';

export const GP2GP_CLIENT = Symbol('GP2GP_CLIENT');

/** A JSON object body, or 400 saying what was expected. */
function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body)) {
    throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'The request body must be a JSON object' });
  }
  return body as Record<string, unknown>;
}

@ApiTags('Gp2gp, JSON')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Request-ID', required: false, description: 'UUID; required on writes (the idempotency key)' })
@Controller('gp2gp')
export class Gp2gpController {
  constructor(@Inject(GP2GP_CLIENT) private readonly gp2gp: Gp2gpApi) {}

  @Post('items')
  @ApiRoute(GP2GP_WRITERS, { write: true })
  @ApiOperation({ summary: 'Create an item (exactly once per X-Request-ID)', description: 'Roles: ops' })
  @ApiResponse({ status: 201, description: 'The item, with ETag W/"1" and Location' })
  async create(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Item> {
    const item = await this.gp2gp.createItem(objectBody(body) as unknown as CreateItemRequest, callContextOf(request));
    void reply.status(201).header('Location', `/gp2gp/items/${item.id}`).header('ETag', `W/"${item.version}"`);
    return item;
  }

  @Get('items/:id')
  @ApiRoute(GP2GP_READERS)
  @ApiOperation({ summary: 'An item; ETag W/"version"', description: 'Roles: ops' })
  @ApiResponse({ status: 404, description: 'GP2GP_ITEM_NOT_FOUND' })
  async get(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Item> {
    const item = await this.gp2gp.getItem({ itemId: id }, callContextOf(request));
    void reply.header('ETag', `W/"${item.version}"`);
    return item;
  }
}

import { Body, Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ERS_READERS,
  ERS_WRITERS,
  type EReferralsApi,
  type CreateItemRequest,
  type Item,
} from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import { ApiRoute } from '../auth/route-policy';
import { callContextOf } from '../http/call-context';

export const E_REFERRALS_CLIENT = Symbol('E_REFERRALS_CLIENT');

/** A JSON object body, or 400 saying what was expected. */
function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body)) {
    throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'The request body must be a JSON object' });
  }
  return body as Record<string, unknown>;
}

@ApiTags('E referrals, JSON')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Request-ID', required: false, description: 'UUID; required on writes (the idempotency key)' })
@Controller('e-referrals')
export class EReferralsController {
  constructor(@Inject(E_REFERRALS_CLIENT) private readonly eReferrals: EReferralsApi) {}

  @Post('items')
  @ApiRoute(ERS_WRITERS, { write: true })
  @ApiOperation({ summary: 'Create an item (exactly once per X-Request-ID)', description: 'Roles: ops' })
  @ApiResponse({ status: 201, description: 'The item, with ETag W/"1" and Location' })
  async create(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Item> {
    const item = await this.eReferrals.createItem(
      objectBody(body) as unknown as CreateItemRequest,
      callContextOf(request),
    );
    void reply.status(201).header('Location', `/e-referrals/items/${item.id}`).header('ETag', `W/"${item.version}"`);
    return item;
  }

  @Get('items/:id')
  @ApiRoute(ERS_READERS)
  @ApiOperation({ summary: 'An item; ETag W/"version"', description: 'Roles: ops' })
  @ApiResponse({ status: 404, description: 'ERS_ITEM_NOT_FOUND' })
  async get(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Item> {
    const item = await this.eReferrals.getItem({ itemId: id }, callContextOf(request));
    void reply.header('ETag', `W/"${item.version}"`);
    return item;
  }
}

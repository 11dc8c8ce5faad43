import { Body, Controller, Delete, Get, Headers, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {
  AllocateBlockRequest,
  Connection,
  ConnectionEvent,
  ConnectionHistoryRequest,
  CreateConnectionRequest,
  IpAllocation,
  IpOwner,
  ListConnectionsRequest,
  N3Api,
  Page,
  Paged,
  TransitionConnectionRequest,
} from '@platform/contracts-n3';
import { ApiRoute, BODY_LIMITS } from '../auth/route-policy';
import { callContextOf } from '../http/call-context';
import { N3_CLIENT, objectBody, REGISTRY_READERS, REGISTRY_WRITERS, versionOf } from './n3-body';

@ApiTags('N3 connection registry: connections and IP blocks')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Request-ID', required: false, description: 'UUID; required on writes (the idempotency key)' })
@Controller('n3')
export class ConnectionsController {
  constructor(@Inject(N3_CLIENT) private readonly n3: N3Api) {}

  @Get('ip-owner')
  @ApiRoute(REGISTRY_READERS)
  @ApiOperation({ summary: 'Which live connection and organisation hold an IP address (most specific block wins)' })
  @ApiResponse({ status: 404, description: 'NO_LIVE_OWNER' })
  ipOwner(@Query() query: Record<string, string>, @Req() request: FastifyRequest): Promise<IpOwner> {
    return this.n3.ipOwner(query as unknown as { ip: string }, callContextOf(request));
  }

  @Get('connections')
  @ApiRoute(REGISTRY_READERS)
  @ApiOperation({ summary: 'List connections by organisation, status or supplier (registry-admin, ops)' })
  list(@Query() query: Record<string, string>, @Req() request: FastifyRequest): Promise<Page<Connection>> {
    return this.n3.listConnections(query as unknown as ListConnectionsRequest, callContextOf(request));
  }

  @Post('connections')
  @ApiRoute(REGISTRY_WRITERS, { write: true, maxBodyBytes: BODY_LIMITS.registryWrite })
  @ApiOperation({ summary: 'Order a connection for an organisation (status ordered)' })
  @ApiResponse({ status: 201, description: 'The connection, with ETag W/"1" and Location' })
  async create(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Connection> {
    const connection = await this.n3.createConnection(
      objectBody(body) as unknown as CreateConnectionRequest,
      callContextOf(request),
    );
    void reply
      .status(201)
      .header('Location', `/n3/connections/${connection.id}`)
      .header('ETag', `W/"${connection.version}"`);
    return connection;
  }

  @Get('connections/:id')
  @ApiRoute(REGISTRY_READERS)
  @ApiOperation({ summary: 'A connection with the blocks it holds; ETag W/"version"' })
  async get(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Connection> {
    const connection = await this.n3.getConnection({ connectionId: id }, callContextOf(request));
    void reply.header('ETag', `W/"${connection.version}"`);
    return connection;
  }

  @Get('connections/:id/history')
  @ApiRoute(REGISTRY_READERS)
  @ApiOperation({
    summary: "A connection's history: every status change and block, who and when",
    description: 'Oldest first; ?limit= (1 to 200, default 50) and ?offset=: a full page means there may be more.',
  })
  history(
    @Param('id') id: string,
    @Query() query: Record<string, string>,
    @Req() request: FastifyRequest,
  ): Promise<ConnectionEvent[]> {
    return this.n3.connectionHistory(
      { ...query, connectionId: id } as unknown as Paged<ConnectionHistoryRequest>,
      callContextOf(request),
    );
  }

  @Post('connections/:id/transitions')
  @ApiRoute(REGISTRY_WRITERS, { write: true, maxBodyBytes: BODY_LIMITS.registryWrite })
  @ApiOperation({
    summary: 'Move a connection: ordered -> provisioning -> live -> migrating -> ceased',
    description: 'Body {"to": status, "reason"?}. If-Match W/"version" is checked when sent (409 when stale).',
  })
  @ApiResponse({ status: 409, description: 'INVALID_TRANSITION or RESOURCE_VERSION_MISMATCH' })
  async transition(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Connection> {
    const expectedVersion = versionOf(ifMatch);
    const move = {
      ...objectBody(body),
      connectionId: id,
      ...(expectedVersion === undefined ? {} : { expectedVersion }),
    } as unknown as TransitionConnectionRequest;
    const connection = await this.n3.transitionConnection(move, callContextOf(request));
    void reply.status(200).header('ETag', `W/"${connection.version}"`);
    return connection;
  }

  @Post('connections/:id/ip-allocations')
  @ApiRoute(REGISTRY_WRITERS, { write: true, maxBodyBytes: BODY_LIMITS.registryWrite })
  @ApiOperation({ summary: 'Give a connection a CIDR block; no two connections can hold overlapping blocks' })
  @ApiResponse({ status: 400, description: 'INVALID_CIDR' })
  @ApiResponse({ status: 409, description: 'IP_RANGE_CONFLICT naming the connection that holds the range' })
  async allocate(
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IpAllocation> {
    const allocation = { ...objectBody(body), connectionId: id } as unknown as AllocateBlockRequest;
    const allocated = await this.n3.allocateBlock(allocation, callContextOf(request));
    void reply.status(201);
    return allocated;
  }

  @Delete('connections/:id/ip-allocations/:allocationId')
  @ApiRoute(REGISTRY_WRITERS, { write: true })
  @ApiOperation({ summary: 'Release a block (it can then be given to another connection)' })
  release(
    @Param('id') id: string,
    @Param('allocationId') allocationId: string,
    @Req() request: FastifyRequest,
  ): Promise<IpAllocation> {
    return this.n3.releaseBlock({ connectionId: id, allocationId }, callContextOf(request));
  }
}

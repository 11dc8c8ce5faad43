import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  AllocateBlockRequest,
  CreateConnectionRequest,
  CreateSiteRequest,
  GetConnectionRequest,
  IpOwnerRequest,
  ListConnectionsRequest,
  ListSitesRequest,
  N3_SUBJECTS,
  ReleaseBlockRequest,
  TransitionConnectionRequest,
  type Connection,
  type ConnectionEvent,
  type IpAllocation,
  type IpOwner,
  type Page,
  type Site,
} from '@platform/contracts-n3';
import { withCallContext } from '@platform/shared-nats';
import { ConnectionsUseCase } from './connections.usecase';

@Controller()
export class ConnectionsHandler {
  constructor(private readonly connections: ConnectionsUseCase) {}

  @MessagePattern(N3_SUBJECTS.siteCreate)
  createSite(@Payload() request: CreateSiteRequest, @Ctx() nats: NatsContext): Promise<Site> {
    return withCallContext(nats, (call) => this.connections.createSite(request, call));
  }

  @MessagePattern(N3_SUBJECTS.siteList)
  sites(@Payload() request: ListSitesRequest): Promise<Site[]> {
    return this.connections.listSites(request.odsCode);
  }

  @MessagePattern(N3_SUBJECTS.connectionCreate)
  create(@Payload() request: CreateConnectionRequest, @Ctx() nats: NatsContext): Promise<Connection> {
    return withCallContext(nats, (call) => this.connections.create(request, call));
  }

  @MessagePattern(N3_SUBJECTS.connectionGet)
  get(@Payload() request: GetConnectionRequest): Promise<Connection> {
    return this.connections.get(request.connectionId);
  }

  @MessagePattern(N3_SUBJECTS.connectionList)
  list(@Payload() request: ListConnectionsRequest): Promise<Page<Connection>> {
    return this.connections.list(request);
  }

  @MessagePattern(N3_SUBJECTS.connectionTransition)
  transition(@Payload() request: TransitionConnectionRequest, @Ctx() nats: NatsContext): Promise<Connection> {
    return withCallContext(nats, (call) => this.connections.transition(request, call));
  }

  @MessagePattern(N3_SUBJECTS.connectionHistory)
  history(@Payload() request: GetConnectionRequest): Promise<ConnectionEvent[]> {
    return this.connections.history(request.connectionId);
  }

  @MessagePattern(N3_SUBJECTS.allocationCreate)
  allocate(@Payload() request: AllocateBlockRequest, @Ctx() nats: NatsContext): Promise<IpAllocation> {
    return withCallContext(nats, (call) => this.connections.allocate(request, call));
  }

  @MessagePattern(N3_SUBJECTS.allocationRelease)
  release(@Payload() request: ReleaseBlockRequest, @Ctx() nats: NatsContext): Promise<IpAllocation> {
    return withCallContext(nats, (call) => this.connections.release(request, call));
  }

  @MessagePattern(N3_SUBJECTS.ipOwner)
  ipOwner(@Payload() request: IpOwnerRequest): IpOwner {
    return this.connections.ipOwner(request.ip);
  }
}

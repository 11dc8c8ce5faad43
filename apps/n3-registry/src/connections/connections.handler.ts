import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  AllocateBlockRequest,
  ConnectionHistoryRequest,
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
import { AllocateBlockUseCase } from './allocate-block.usecase';
import { ConnectionHistoryUseCase } from './connection-history.usecase';
import { CreateConnectionUseCase } from './create-connection.usecase';
import { CreateSiteUseCase } from './create-site.usecase';
import { FindIpOwnerUseCase } from './find-ip-owner.usecase';
import { GetConnectionUseCase } from './get-connection.usecase';
import { ListConnectionsUseCase } from './list-connections.usecase';
import { ListSitesUseCase } from './list-sites.usecase';
import { ReleaseBlockUseCase } from './release-block.usecase';
import { TransitionConnectionUseCase } from './transition-connection.usecase';

@Controller()
export class ConnectionsHandler {
  constructor(
    private readonly createSite: CreateSiteUseCase,
    private readonly listSites: ListSitesUseCase,
    private readonly createConnection: CreateConnectionUseCase,
    private readonly getConnection: GetConnectionUseCase,
    private readonly listConnections: ListConnectionsUseCase,
    private readonly transitionConnection: TransitionConnectionUseCase,
    private readonly connectionHistory: ConnectionHistoryUseCase,
    private readonly allocateBlock: AllocateBlockUseCase,
    private readonly releaseBlock: ReleaseBlockUseCase,
    private readonly findIpOwner: FindIpOwnerUseCase,
  ) {}

  @MessagePattern(N3_SUBJECTS.siteCreate)
  siteCreate(@Payload() request: CreateSiteRequest, @Ctx() nats: NatsContext): Promise<Site> {
    return withCallContext(nats, (call) => this.createSite.execute(request, call));
  }

  @MessagePattern(N3_SUBJECTS.siteList)
  sites(@Payload() request: ListSitesRequest): Promise<Site[]> {
    return this.listSites.execute(request);
  }

  @MessagePattern(N3_SUBJECTS.connectionCreate)
  create(@Payload() request: CreateConnectionRequest, @Ctx() nats: NatsContext): Promise<Connection> {
    return withCallContext(nats, (call) => this.createConnection.execute(request, call));
  }

  @MessagePattern(N3_SUBJECTS.connectionGet)
  get(@Payload() request: GetConnectionRequest): Promise<Connection> {
    return this.getConnection.execute(request.connectionId);
  }

  @MessagePattern(N3_SUBJECTS.connectionList)
  list(@Payload() request: ListConnectionsRequest): Promise<Page<Connection>> {
    return this.listConnections.execute(request);
  }

  @MessagePattern(N3_SUBJECTS.connectionTransition)
  transition(@Payload() request: TransitionConnectionRequest, @Ctx() nats: NatsContext): Promise<Connection> {
    return withCallContext(nats, (call) => this.transitionConnection.execute(request, call));
  }

  @MessagePattern(N3_SUBJECTS.connectionHistory)
  history(@Payload() request: ConnectionHistoryRequest): Promise<ConnectionEvent[]> {
    return this.connectionHistory.execute(request);
  }

  @MessagePattern(N3_SUBJECTS.allocationCreate)
  allocate(@Payload() request: AllocateBlockRequest, @Ctx() nats: NatsContext): Promise<IpAllocation> {
    return withCallContext(nats, (call) => this.allocateBlock.execute(request, call));
  }

  @MessagePattern(N3_SUBJECTS.allocationRelease)
  release(@Payload() request: ReleaseBlockRequest, @Ctx() nats: NatsContext): Promise<IpAllocation> {
    return withCallContext(nats, (call) => this.releaseBlock.execute(request, call));
  }

  @MessagePattern(N3_SUBJECTS.ipOwner)
  ipOwner(@Payload() request: IpOwnerRequest): IpOwner {
    return this.findIpOwner.execute(request.ip);
  }
}

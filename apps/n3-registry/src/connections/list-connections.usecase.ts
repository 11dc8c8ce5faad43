import { Injectable } from '@nestjs/common';
import type { Connection, ListConnectionsRequest, Page } from '@platform/contracts-n3';
import { odsCodeOf } from '../rules';
import { ConnectionRepository } from './connection.repository';

/** Connections by organisation, status and supplier, a page at a time. */
@Injectable()
export class ListConnectionsUseCase {
  constructor(private readonly connections: ConnectionRepository) {}

  execute(request: ListConnectionsRequest): Promise<Page<Connection>> {
    return this.connections.list(request.odsCode ? { ...request, odsCode: odsCodeOf(request.odsCode) } : request);
  }
}

import { Injectable } from '@nestjs/common';
import type { ConnectionEvent, ConnectionHistoryRequest } from '@platform/contracts-n3';
import { connectionIdOf, connectionNotFound } from './connection-ids';
import { ConnectionHistoryRepository } from './connection-history.repository';
import { ConnectionRepository } from './connection.repository';

/** A connection's history, oldest first. */
@Injectable()
export class ConnectionHistoryUseCase {
  constructor(
    private readonly connections: ConnectionRepository,
    private readonly history: ConnectionHistoryRepository,
  ) {}

  /** At most `limit` events from `offset`; CONNECTION_NOT_FOUND for a connection the registry never had. */
  async execute(request: ConnectionHistoryRequest): Promise<ConnectionEvent[]> {
    const id = connectionIdOf(request.connectionId);
    const events = await this.history.list(id, { limit: request.limit, offset: request.offset });
    if (events.length === 0 && !(await this.connections.get(id))) throw connectionNotFound(id);
    return events;
  }
}

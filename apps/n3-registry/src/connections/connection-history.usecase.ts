import { Injectable } from '@nestjs/common';
import type { ConnectionEvent } from '@platform/contracts-n3';
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

  async execute(idText: string): Promise<ConnectionEvent[]> {
    const id = connectionIdOf(idText);
    const events = await this.history.list(id);
    if (events.length === 0 && !(await this.connections.get(id))) throw connectionNotFound(id);
    return events;
  }
}

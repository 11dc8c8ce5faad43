import { Injectable } from '@nestjs/common';
import type { Connection } from '@platform/contracts-n3';
import { connectionIdOf, connectionNotFound } from './connection-ids';
import { ConnectionRepository } from './connection.repository';

/** One connection, with the blocks it holds. */
@Injectable()
export class GetConnectionUseCase {
  constructor(private readonly connections: ConnectionRepository) {}

  async execute(idText: string): Promise<Connection> {
    const id = connectionIdOf(idText);
    const connection = await this.connections.get(id);
    if (!connection) throw connectionNotFound(id);
    return connection;
  }
}

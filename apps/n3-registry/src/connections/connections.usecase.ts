import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  N3_EVENTS,
  type AllocateBlockRequest,
  type AllocationEvent,
  type Connection,
  type ConnectionEvent,
  type ConnectionStatusEvent,
  type CreateConnectionRequest,
  type CreateSiteRequest,
  type IpAllocation,
  type IpOwner,
  type ListConnectionsRequest,
  type Page,
  type ReleaseBlockRequest,
  type Site,
  type TransitionConnectionRequest,
} from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import { actorOf, type CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { checkDate, fieldError, odsCodeOf } from '../rules';
import { OrganisationRepository } from '../organisations/organisation.repository';
import { parseAddress, parseBlock } from './cidr';
import { ConnectionRepository } from './connection.repository';
import { checkTransition, eventSubjectFor } from './lifecycle';
import { OwnerIndex } from './owner-index';

const CONNECTION_ID = /^N3C\d{7}$/;
const ALLOCATION_ID = /^IPA\d{7}$/;

function notFound(id: string): PlatformError {
  return new PlatformError('CONNECTION_NOT_FOUND', undefined, {
    diagnostics: `No connection has id ${id.slice(0, 64)}`,
  });
}

function connectionIdOf(value: string): string {
  const id = value.trim().toUpperCase();
  if (!CONNECTION_ID.test(id))
    throw fieldError('connectionId', `'${value.slice(0, 32)}' is not a connection id (N3C and 7 digits)`);
  return id;
}

function isExclusionViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23P01';
}

/**
 * Sites, connections through their lifecycle, and IP blocks. Every change runs exactly once per
 * X-Request-ID, is recorded in the connection's history with who made it, and publishes its event through
 * the outbox in the same transaction.
 */
@Injectable()
export class ConnectionsUseCase {
  constructor(
    private readonly connections: ConnectionRepository,
    private readonly organisations: OrganisationRepository,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
    private readonly owners: OwnerIndex,
  ) {}

  private async openOrganisation(transaction: PoolClient, odsCode: string): Promise<void> {
    const organisation = await this.organisations.get(odsCode, transaction);
    if (!organisation) {
      throw new PlatformError('ORGANISATION_NOT_FOUND', undefined, {
        diagnostics: `No organisation has ODS code ${odsCode}`,
      });
    }
    if (organisation.status === 'closed') {
      throw new PlatformError('ORGANISATION_CLOSED', undefined, {
        diagnostics: `${odsCode} (${organisation.name}) closed${organisation.closeDate ? ` on ${organisation.closeDate}` : ''}`,
      });
    }
  }

  async createSite(request: CreateSiteRequest, context: CallContext): Promise<Site> {
    return this.writes.run(writeKey(context, 'site.create', request), async (transaction) => {
      await this.openOrganisation(transaction, request.odsCode);
      return this.connections.createSite(transaction, request);
    });
  }

  async listSites(odsCodeText: string): Promise<Site[]> {
    const odsCode = odsCodeOf(odsCodeText);
    if (!(await this.organisations.get(odsCode))) {
      throw new PlatformError('ORGANISATION_NOT_FOUND', undefined, {
        diagnostics: `No organisation has ODS code ${odsCode}`,
      });
    }
    return this.connections.sites(odsCode);
  }

  async create(request: CreateConnectionRequest, context: CallContext): Promise<Connection> {
    checkDate(request.contractStart, 'contractStart');
    if (request.contractEnd) {
      checkDate(request.contractEnd, 'contractEnd');
      if (request.contractEnd <= request.contractStart) {
        throw fieldError('contractEnd', `${request.contractEnd} is not after contractStart ${request.contractStart}`);
      }
    }
    const connection = await this.writes.run(writeKey(context, 'connection.create', request), async (transaction) => {
      await this.openOrganisation(transaction, request.odsCode);
      if (request.siteId) {
        const owner = await this.connections.siteOwner(request.siteId, transaction);
        if (owner !== request.odsCode) {
          throw new PlatformError('SITE_NOT_FOUND', undefined, {
            diagnostics: `${request.odsCode} has no site ${request.siteId}`,
            details: { errors: [{ field: 'siteId', message: `not a site of ${request.odsCode}` }] },
          });
        }
      }
      const id = await this.connections.create(transaction, request);
      await this.connections.appendEvent(transaction, {
        connectionId: id,
        kind: 'ordered',
        fromStatus: null,
        toStatus: 'ordered',
        detail: `${request.supplier}, ${request.bandwidthMbps} Mbit/s ${request.accessType}`,
        ...actorOf(context),
      });
      const created = (await this.connections.get(id, transaction)) as Connection;
      await this.publishStatus(transaction, created, null, null, context);
      return created;
    });
    this.outbox.kick();
    return connection;
  }

  async get(idText: string): Promise<Connection> {
    const id = connectionIdOf(idText);
    const connection = await this.connections.get(id);
    if (!connection) throw notFound(id);
    return connection;
  }

  list(request: ListConnectionsRequest): Promise<Page<Connection>> {
    return this.connections.list(request.odsCode ? { ...request, odsCode: odsCodeOf(request.odsCode) } : request);
  }

  async history(idText: string): Promise<ConnectionEvent[]> {
    const id = connectionIdOf(idText);
    const events = await this.connections.history(id);
    if (events.length === 0 && !(await this.connections.get(id))) throw notFound(id);
    return events;
  }

  async transition(request: TransitionConnectionRequest, context: CallContext): Promise<Connection> {
    const id = connectionIdOf(request.connectionId);
    const connection = await this.writes.run(
      writeKey(context, 'connection.transition', request),
      async (transaction) => {
        const current = await this.connections.lock(transaction, id);
        if (!current) throw notFound(id);
        if (request.expectedVersion !== undefined && request.expectedVersion !== current.version) {
          throw new PlatformError('RESOURCE_VERSION_MISMATCH', undefined, {
            diagnostics: `The connection is at version ${current.version}, not ${request.expectedVersion}`,
          });
        }
        checkTransition(current.status, request.to);
        await this.connections.setStatus(transaction, id, request.to);
        await this.connections.appendEvent(transaction, {
          connectionId: id,
          kind: 'status-changed',
          fromStatus: current.status,
          toStatus: request.to,
          detail: request.reason ?? null,
          ...actorOf(context),
        });
        if (request.to === 'ceased') {
          // A ceased connection holds no addresses: its blocks go back to the pool.
          for (const released of await this.connections.release(transaction, id)) {
            await this.recordRelease(transaction, released, current.odsCode, context);
          }
        }
        const changed = (await this.connections.get(id, transaction)) as Connection;
        await this.publishStatus(transaction, changed, current.status, request.reason ?? null, context);
        return changed;
      },
    );
    this.outbox.kick();
    return connection;
  }

  async allocate(request: AllocateBlockRequest, context: CallContext): Promise<IpAllocation> {
    const id = connectionIdOf(request.connectionId);
    const block = parseBlock(request.cidr);
    const allocation = await this.writes.run(
      writeKey(context, 'ip-allocation.create', request),
      async (transaction) => {
        const current = await this.connections.lock(transaction, id);
        if (!current) throw notFound(id);
        if (current.status === 'ceased') {
          throw new PlatformError('CONNECTION_CEASED', undefined, {
            diagnostics: `${id} has ceased: it can hold no addresses`,
          });
        }
        if (await this.connections.heldBlock(transaction, id, block.cidr)) {
          throw new PlatformError('IP_RANGE_CONFLICT', undefined, {
            diagnostics: `${id} already holds ${block.cidr}`,
            details: { cidr: block.cidr, conflictingConnection: id, conflictingCidr: block.cidr },
          });
        }
        let allocated: IpAllocation;
        try {
          allocated = await this.connections.allocate(transaction, id, block.cidr, request.purpose ?? null);
        } catch (error) {
          if (!isExclusionViolation(error)) throw error;
          throw await this.conflict(block.cidr, id);
        }
        await this.connections.appendEvent(transaction, {
          connectionId: id,
          kind: 'ip-assigned',
          fromStatus: null,
          toStatus: null,
          detail: block.cidr,
          ...actorOf(context),
        });
        const event: AllocationEvent = {
          allocationId: allocated.id,
          connectionId: id,
          odsCode: current.odsCode,
          cidr: allocated.cidr,
          occurredAt: allocated.allocatedAt,
        };
        await this.outbox.append(transaction, N3_EVENTS.allocationAssigned, event, context);
        return allocated;
      },
    );
    this.outbox.kick();
    return allocation;
  }

  private async conflict(cidr: string, connectionId: string): Promise<PlatformError> {
    const holder = await this.connections.overlapping(cidr, connectionId);
    return new PlatformError('IP_RANGE_CONFLICT', undefined, {
      diagnostics: holder
        ? `${cidr} overlaps ${holder.cidr}, held by connection ${holder.connectionId} (${holder.odsCode}, ${holder.status})`
        : `${cidr} overlaps a block another connection holds`,
      details: holder
        ? {
            cidr,
            conflictingConnection: holder.connectionId,
            conflictingOrganisation: holder.odsCode,
            conflictingCidr: holder.cidr,
            conflictingAllocation: holder.allocationId,
          }
        : { cidr },
    });
  }

  async release(request: ReleaseBlockRequest, context: CallContext): Promise<IpAllocation> {
    const id = connectionIdOf(request.connectionId);
    const allocationId = request.allocationId.trim().toUpperCase();
    if (!ALLOCATION_ID.test(allocationId)) {
      throw fieldError(
        'allocationId',
        `'${request.allocationId.slice(0, 32)}' is not an allocation id (IPA and 7 digits)`,
      );
    }
    const released = await this.writes.run(writeKey(context, 'ip-allocation.release', request), async (transaction) => {
      const current = await this.connections.lock(transaction, id);
      if (!current) throw notFound(id);
      const [allocation] = await this.connections.release(transaction, id, allocationId);
      if (!allocation) {
        throw new PlatformError('ALLOCATION_NOT_FOUND', undefined, {
          diagnostics: `${id} holds no allocation ${allocationId}`,
        });
      }
      await this.recordRelease(transaction, allocation, current.odsCode, context);
      return allocation;
    });
    this.outbox.kick();
    await this.owners.refresh(id);
    return released;
  }

  /** Answered from the in-memory owner table (see OwnerIndex), not a database round trip per lookup. */
  ipOwner(ip: string): IpOwner {
    const address = parseAddress(ip);
    const owner = this.owners.lookup(address);
    if (!owner) {
      throw new PlatformError('NO_LIVE_OWNER', undefined, { diagnostics: `No live connection holds ${address}` });
    }
    return owner;
  }

  private async recordRelease(
    transaction: PoolClient,
    allocation: IpAllocation,
    odsCode: string,
    context: CallContext,
  ): Promise<void> {
    await this.connections.appendEvent(transaction, {
      connectionId: allocation.connectionId,
      kind: 'ip-released',
      fromStatus: null,
      toStatus: null,
      detail: allocation.cidr,
      ...actorOf(context),
    });
    const event: AllocationEvent = {
      allocationId: allocation.id,
      connectionId: allocation.connectionId,
      odsCode,
      cidr: allocation.cidr,
      occurredAt: allocation.releasedAt ?? new Date().toISOString(),
    };
    await this.outbox.append(transaction, N3_EVENTS.allocationReleased, event, context);
  }

  private async publishStatus(
    transaction: PoolClient,
    connection: Connection,
    from: Connection['status'] | null,
    reason: string | null,
    context: CallContext,
  ): Promise<void> {
    const event: ConnectionStatusEvent = {
      connectionId: connection.id,
      odsCode: connection.odsCode,
      fromStatus: from,
      toStatus: connection.status,
      version: connection.version,
      reason,
      occurredAt: connection.updatedAt,
    };
    await this.outbox.append(transaction, eventSubjectFor(from, connection.status), event, context);
  }
}

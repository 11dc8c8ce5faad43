import { PlatformError } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient } from '@platform/shared-nats';
import {
  AllocateBlockRequest,
  ConnectionHistoryRequest,
  CreateConnectionRequest,
  CreateSiteRequest,
  GetConnectionRequest,
  IpOwnerRequest,
  ListConnectionsRequest,
  ListSitesRequest,
  ReleaseBlockRequest,
  TransitionConnectionRequest,
  type Connection,
  type ConnectionEvent,
  type IpAllocation,
  type IpOwner,
  type Site,
} from './connections';
import {
  GetOrganisationRequest,
  ImportOrganisationsRequest,
  SearchOrganisationsRequest,
  UpsertOrganisationRequest,
  type ImportReport,
  type Organisation,
} from './organisations';
import type { Page, Paged } from './page';
import { N3_SUBJECTS } from './subjects';

/** What other projects may ask of the N3 registry. */
export interface N3Api {
  /** The organisation with that ODS code, with its role (ORGANISATION_NOT_FOUND otherwise). */
  getOrganisation(request: GetOrganisationRequest, context: CallContext): Promise<Organisation>;
  searchOrganisations(request: SearchOrganisationsRequest, context: CallContext): Promise<Page<Organisation>>;
  upsertOrganisation(request: UpsertOrganisationRequest, context: CallContext): Promise<Organisation>;
  importOrganisations(request: ImportOrganisationsRequest, context: CallContext): Promise<ImportReport>;
  createSite(request: CreateSiteRequest, context: CallContext): Promise<Site>;
  /** At most `limit` sites (default 50): a full page means there may be more from `offset + limit`. */
  listSites(request: Paged<ListSitesRequest>, context: CallContext): Promise<Site[]>;
  createConnection(request: CreateConnectionRequest, context: CallContext): Promise<Connection>;
  getConnection(request: GetConnectionRequest, context: CallContext): Promise<Connection>;
  listConnections(request: ListConnectionsRequest, context: CallContext): Promise<Page<Connection>>;
  transitionConnection(request: TransitionConnectionRequest, context: CallContext): Promise<Connection>;
  /** At most `limit` events (default 50), oldest first: a full page means there may be more from `offset + limit`. */
  connectionHistory(request: Paged<ConnectionHistoryRequest>, context: CallContext): Promise<ConnectionEvent[]>;
  allocateBlock(request: AllocateBlockRequest, context: CallContext): Promise<IpAllocation>;
  releaseBlock(request: ReleaseBlockRequest, context: CallContext): Promise<IpAllocation>;
  /** Which live connection and organisation hold an address (NO_LIVE_OWNER otherwise): the mail relay asks this. */
  ipOwner(request: IpOwnerRequest, context: CallContext): Promise<IpOwner>;
  health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }>;
}

function expectObject<T>(reply: unknown, what: string, check: (value: Record<string, unknown>) => boolean): T {
  if (typeof reply !== 'object' || reply === null || !check(reply as Record<string, unknown>)) {
    throw new PlatformError('REC_SERVER_ERROR', `The N3 registry answered with something that is not ${what}`);
  }
  return reply as T;
}

const isOrganisation = (value: Record<string, unknown>): boolean =>
  typeof value['odsCode'] === 'string' && typeof value['role'] === 'string';
const isConnection = (value: Record<string, unknown>): boolean =>
  typeof value['id'] === 'string' && typeof value['status'] === 'string' && Array.isArray(value['allocations']);
const isPage = (value: Record<string, unknown>): boolean => Array.isArray(value['items']);

/** Imports can take a while: 50,000 rows are validated and loaded in one transaction. */
const IMPORT_TIMEOUT_MS = 120_000;

/** The typed registry client: validates what it sends and the shape of what it receives, over NATS. */
export class N3Client implements N3Api {
  constructor(private readonly rpc: NatsRpcClient) {}

  async getOrganisation(request: GetOrganisationRequest, context: CallContext): Promise<Organisation> {
    const reply = await this.rpc.requestValidated(
      N3_SUBJECTS.organisationGet,
      GetOrganisationRequest,
      request,
      context,
    );
    return expectObject(reply, 'an organisation', isOrganisation);
  }

  async searchOrganisations(request: SearchOrganisationsRequest, context: CallContext): Promise<Page<Organisation>> {
    const reply = await this.rpc.requestValidated(
      N3_SUBJECTS.organisationSearch,
      SearchOrganisationsRequest,
      request,
      context,
    );
    return expectObject(reply, 'a page of organisations', isPage);
  }

  async upsertOrganisation(request: UpsertOrganisationRequest, context: CallContext): Promise<Organisation> {
    const reply = await this.rpc.requestValidated(
      N3_SUBJECTS.organisationUpsert,
      UpsertOrganisationRequest,
      request,
      context,
    );
    return expectObject(reply, 'an organisation', isOrganisation);
  }

  async importOrganisations(request: ImportOrganisationsRequest, context: CallContext): Promise<ImportReport> {
    const reply = await this.rpc.requestValidated(
      N3_SUBJECTS.organisationImport,
      ImportOrganisationsRequest,
      request,
      context,
      { timeoutMs: IMPORT_TIMEOUT_MS },
    );
    return expectObject(reply, 'an import report', (value) => Array.isArray(value['rejected']));
  }

  async createSite(request: CreateSiteRequest, context: CallContext): Promise<Site> {
    const reply = await this.rpc.requestValidated(N3_SUBJECTS.siteCreate, CreateSiteRequest, request, context);
    return expectObject(reply, 'a site', (value) => typeof value['id'] === 'string');
  }

  async listSites(request: Paged<ListSitesRequest>, context: CallContext): Promise<Site[]> {
    const reply = await this.rpc.requestValidated<unknown>(N3_SUBJECTS.siteList, ListSitesRequest, request, context);
    if (!Array.isArray(reply)) throw new PlatformError('REC_SERVER_ERROR', 'The N3 registry did not answer a list');
    return reply as Site[];
  }

  async createConnection(request: CreateConnectionRequest, context: CallContext): Promise<Connection> {
    const reply = await this.rpc.requestValidated(
      N3_SUBJECTS.connectionCreate,
      CreateConnectionRequest,
      request,
      context,
    );
    return expectObject(reply, 'a connection', isConnection);
  }

  async getConnection(request: GetConnectionRequest, context: CallContext): Promise<Connection> {
    const reply = await this.rpc.requestValidated(N3_SUBJECTS.connectionGet, GetConnectionRequest, request, context);
    return expectObject(reply, 'a connection', isConnection);
  }

  async listConnections(request: ListConnectionsRequest, context: CallContext): Promise<Page<Connection>> {
    const reply = await this.rpc.requestValidated(N3_SUBJECTS.connectionList, ListConnectionsRequest, request, context);
    return expectObject(reply, 'a page of connections', isPage);
  }

  async transitionConnection(request: TransitionConnectionRequest, context: CallContext): Promise<Connection> {
    const reply = await this.rpc.requestValidated(
      N3_SUBJECTS.connectionTransition,
      TransitionConnectionRequest,
      request,
      context,
    );
    return expectObject(reply, 'a connection', isConnection);
  }

  async connectionHistory(request: Paged<ConnectionHistoryRequest>, context: CallContext): Promise<ConnectionEvent[]> {
    const reply = await this.rpc.requestValidated<unknown>(
      N3_SUBJECTS.connectionHistory,
      ConnectionHistoryRequest,
      request,
      context,
    );
    if (!Array.isArray(reply)) throw new PlatformError('REC_SERVER_ERROR', 'The N3 registry did not answer a list');
    return reply as ConnectionEvent[];
  }

  async allocateBlock(request: AllocateBlockRequest, context: CallContext): Promise<IpAllocation> {
    const reply = await this.rpc.requestValidated(N3_SUBJECTS.allocationCreate, AllocateBlockRequest, request, context);
    return expectObject(reply, 'an IP allocation', (value) => typeof value['cidr'] === 'string');
  }

  async releaseBlock(request: ReleaseBlockRequest, context: CallContext): Promise<IpAllocation> {
    const reply = await this.rpc.requestValidated(N3_SUBJECTS.allocationRelease, ReleaseBlockRequest, request, context);
    return expectObject(reply, 'an IP allocation', (value) => typeof value['cidr'] === 'string');
  }

  async ipOwner(request: IpOwnerRequest, context: CallContext): Promise<IpOwner> {
    const reply = await this.rpc.requestValidated(N3_SUBJECTS.ipOwner, IpOwnerRequest, request, context);
    return expectObject(reply, 'an IP owner', (value) => typeof value['connection'] === 'object');
  }

  async health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }> {
    return this.rpc.request(N3_SUBJECTS.healthCheck, {}, context, timeoutMs);
  }
}

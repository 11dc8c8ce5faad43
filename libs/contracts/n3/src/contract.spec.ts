// The N3 registry's contract. The NHS publishes no registry payloads, so the examples are hand-written in
// the shape of real ODS records (Hallgarth Surgery, A83008, is the GP practice the EPS examples use) and
// real N3 connection orders, each beside variants the contract must refuse.
import 'reflect-metadata';
import { validatePayload, type CallContext, type FieldProblem } from '@platform/shared-nats';
import { rejectionOf } from '@platform/shared-testing';
import { N3Client } from './client';
import {
  AllocateBlockRequest,
  CreateConnectionRequest,
  CreateSiteRequest,
  GetConnectionRequest,
  IpOwnerRequest,
  ListConnectionsRequest,
  ListSitesRequest,
  ReleaseBlockRequest,
  TransitionConnectionRequest,
  type Connection,
  type IpOwner,
} from './connections';
import {
  GetOrganisationRequest,
  ImportOrganisationsRequest,
  SearchOrganisationsRequest,
  UpsertOrganisationRequest,
  type ImportReport,
  type Organisation,
} from './organisations';
import { N3_SUBJECTS } from './subjects';
import { stubRpc } from '@platform/testing-services';

const context: CallContext = { requestId: 'r-1' };

/** The payload as the contract reads it, or the fields it is refused for. */
async function check(type: new () => object, payload: object): Promise<{ value?: object; fields?: string[] }> {
  try {
    return { value: { ...(await validatePayload(type, payload)) } };
  } catch (error) {
    const { details } = error as { details?: { errors?: FieldProblem[] } };
    return { fields: [...new Set((details?.errors ?? []).map((problem) => problem.field))].sort() };
  }
}

const practice = {
  odsCode: 'A83008',
  name: 'HALLGARTH SURGERY',
  role: 'gp-practice',
  status: 'active',
  openDate: '1974-04-01',
  closeDate: null,
  addressLines: ['HALLGARTH SURGERY', 'CHEAPSIDE', 'SHILDON', 'COUNTY DURHAM'],
  postcode: 'DL4 2HP',
  parentOdsCode: '16C',
  telephone: '01388 772862',
};
const site = {
  odsCode: 'A83008',
  name: 'Hallgarth Surgery, main building',
  addressLines: ['Cheapside', 'Shildon'],
  postcode: 'DL4 2HP',
};
const order = {
  odsCode: 'A83008',
  siteId: 'S0000012',
  supplier: 'BT',
  bandwidthMbps: 100,
  accessType: 'fttp',
  availabilityTarget: 99.95,
  contractStart: '2026-04-01',
  contractEnd: '2029-03-31',
};

const organisation: Organisation = {
  ...practice,
  role: 'gp-practice',
  status: 'active',
  odsRoleCode: 'RO76',
  gpConnectEndpoint: null,
  updatedAt: '2026-01-05T10:00:00.000Z',
};
const connection: Connection = {
  id: 'N3C0000042',
  ...order,
  accessType: 'fttp',
  status: 'ordered',
  version: 1,
  createdAt: '2026-01-05T10:00:00.000Z',
  updatedAt: '2026-01-05T10:00:00.000Z',
  allocations: [],
};

describe('the N3 registry contract', () => {
  describe('accepts realistic requests', () => {
    it.each([
      ['GetOrganisationRequest', GetOrganisationRequest, { odsCode: 'A83008' }],
      ['UpsertOrganisationRequest (a GP practice)', UpsertOrganisationRequest, practice],
      [
        'UpsertOrganisationRequest (a closed pharmacy, fewest fields)',
        UpsertOrganisationRequest,
        { odsCode: 'FCG72', name: 'THE SIMPLE PHARMACY', role: 'pharmacy', status: 'closed', closeDate: '2024-03-31' },
      ],
      [
        'SearchOrganisationsRequest (as a query string)',
        SearchOrganisationsRequest,
        { name: 'hallgarth', postcode: 'DL4', role: 'gp-practice', status: 'active', limit: '20', offset: '40' },
      ],
      [
        'ImportOrganisationsRequest',
        ImportOrganisationsRequest,
        { objectName: 'epraccur-2026-01_3f9c.csv', role: 'gp-practice', skipInvalid: true },
      ],
      ['CreateSiteRequest', CreateSiteRequest, site],
      ['ListSitesRequest', ListSitesRequest, { odsCode: 'A83008' }],
      ['CreateConnectionRequest', CreateConnectionRequest, order],
      [
        'CreateConnectionRequest (no site, open-ended)',
        CreateConnectionRequest,
        { ...order, siteId: null, contractEnd: null, accessType: 'leased-line', bandwidthMbps: 10_000 },
      ],
      ['GetConnectionRequest', GetConnectionRequest, { connectionId: 'N3C0000042' }],
      [
        'ListConnectionsRequest',
        ListConnectionsRequest,
        { odsCode: 'A83008', status: 'live', supplier: 'BT', limit: 200, offset: 0 },
      ],
      [
        'TransitionConnectionRequest',
        TransitionConnectionRequest,
        {
          connectionId: 'N3C0000042',
          to: 'provisioning',
          reason: 'Line ordered from BT Openreach',
          expectedVersion: 1,
        },
      ],
      [
        'AllocateBlockRequest (IPv4)',
        AllocateBlockRequest,
        { connectionId: 'N3C0000042', cidr: '10.1.2.0/27', purpose: 'practice LAN' },
      ],
      ['AllocateBlockRequest (IPv6)', AllocateBlockRequest, { connectionId: 'N3C0000042', cidr: '2001:db8:12::/56' }],
      ['ReleaseBlockRequest', ReleaseBlockRequest, { connectionId: 'N3C0000042', allocationId: 'IPA0000007' }],
      ['IpOwnerRequest', IpOwnerRequest, { ip: '192.168.8.20' }],
    ] as [string, new () => object, object][])('%s', async (_what, type, payload) => {
      expect(await check(type, payload)).toEqual({ value: expect.any(Object) });
    });

    it('fills the defaults a caller may leave out, and reads query-string numbers as numbers', async () => {
      expect(await check(UpsertOrganisationRequest, { odsCode: 'FCG72', name: 'X', role: 'pharmacy' })).toEqual({
        value: { odsCode: 'FCG72', name: 'X', role: 'pharmacy', status: 'active', addressLines: [] },
      });
      expect(await check(SearchOrganisationsRequest, { name: 'hallgarth', limit: '20' })).toEqual({
        value: { name: 'hallgarth', limit: 20, offset: 0 },
      });
      expect(await check(ImportOrganisationsRequest, { objectName: 'x.csv', role: 'pharmacy' })).toEqual({
        value: { objectName: 'x.csv', role: 'pharmacy', skipInvalid: false },
      });
      expect(await check(CreateSiteRequest, { odsCode: 'A83008', name: 'Main' })).toEqual({
        value: { odsCode: 'A83008', name: 'Main', addressLines: [] },
      });
    });
  });

  describe('refuses bad requests, naming the field', () => {
    it.each([
      ['an ODS code in lower case', UpsertOrganisationRequest, { ...practice, odsCode: 'a83008' }, ['odsCode']],
      ['an ODS code of seven characters', UpsertOrganisationRequest, { ...practice, odsCode: 'A830081' }, ['odsCode']],
      ['a role ODS does not have here', UpsertOrganisationRequest, { ...practice, role: 'dentist' }, ['role']],
      ['an ODS status letter', UpsertOrganisationRequest, { ...practice, status: 'A' }, ['status']],
      ['a date as written in the UK', UpsertOrganisationRequest, { ...practice, openDate: '01/04/1974' }, ['openDate']],
      ['a postcode without its space', UpsertOrganisationRequest, { ...practice, postcode: 'DL42HP' }, ['postcode']],
      [
        'six address lines',
        UpsertOrganisationRequest,
        { ...practice, addressLines: ['1', '2', '3', '4', '5', '6'] },
        ['addressLines'],
      ],
      ['a telephone in words', UpsertOrganisationRequest, { ...practice, telephone: 'ask reception' }, ['telephone']],
      [
        'a GP Connect endpoint that is not http(s)',
        UpsertOrganisationRequest,
        { ...practice, gpConnectEndpoint: 'javascript:alert(1)' },
        ['gpConnectEndpoint'],
      ],
      ['a field the contract lacks', UpsertOrganisationRequest, { ...practice, ccg: '16C' }, ['ccg']],
      ['an ODS code as a number', GetOrganisationRequest, { odsCode: 83008 }, ['odsCode']],
      ['a one-letter name search', SearchOrganisationsRequest, { name: 'h' }, ['name']],
      ['a page of 500', SearchOrganisationsRequest, { name: 'hallgarth', limit: '500' }, ['limit']],
      ['a negative offset', SearchOrganisationsRequest, { offset: '-1' }, ['offset']],
      ['a postcode search by number', SearchOrganisationsRequest, { postcode: '42' }, ['postcode']],
      [
        'an object name with a path',
        ImportOrganisationsRequest,
        { objectName: '../etc/passwd', role: 'gp-practice' },
        ['objectName'],
      ],
      [
        'skipInvalid as text',
        ImportOrganisationsRequest,
        { objectName: 'x.csv', role: 'gp-practice', skipInvalid: 'yes' },
        ['skipInvalid'],
      ],
      ['a site with no name', CreateSiteRequest, { ...site, name: '' }, ['name']],
      [
        'a site address as one string',
        CreateSiteRequest,
        { ...site, addressLines: 'Cheapside, Shildon' },
        ['addressLines'],
      ],
      ['no bandwidth', CreateConnectionRequest, { ...order, bandwidthMbps: 0 }, ['bandwidthMbps']],
      ['a fractional bandwidth', CreateConnectionRequest, { ...order, bandwidthMbps: 1.5 }, ['bandwidthMbps']],
      ['an access type N3 never sold', CreateConnectionRequest, { ...order, accessType: 'dial-up' }, ['accessType']],
      ['availability below 90%', CreateConnectionRequest, { ...order, availabilityTarget: 89 }, ['availabilityTarget']],
      [
        'availability to four places',
        CreateConnectionRequest,
        { ...order, availabilityTarget: 99.9999 },
        ['availabilityTarget'],
      ],
      [
        'a contract date without zeros',
        CreateConnectionRequest,
        { ...order, contractStart: '2026-4-1' },
        ['contractStart'],
      ],
      ['a site ID in lower case', CreateConnectionRequest, { ...order, siteId: 's0000012' }, ['siteId']],
      ['no supplier', CreateConnectionRequest, { ...order, supplier: undefined }, ['supplier']],
      ['a status outside the lifecycle', ListConnectionsRequest, { status: 'active' }, ['status']],
      ['a step to nowhere', TransitionConnectionRequest, { connectionId: 'N3C0000042', to: 'up' }, ['to']],
      [
        'version 0',
        TransitionConnectionRequest,
        { connectionId: 'N3C0000042', to: 'live', expectedVersion: 0 },
        ['expectedVersion'],
      ],
      ['a block as a number', AllocateBlockRequest, { connectionId: 'N3C0000042', cidr: 167838208 }, ['cidr']],
      ['no allocation ID', ReleaseBlockRequest, { connectionId: 'N3C0000042' }, ['allocationId']],
      ['no address', IpOwnerRequest, {}, ['ip']],
    ] as [string, new () => object, object, string[]][])('%s', async (_what, type, payload, fields) => {
      expect(await check(type, payload)).toEqual({ fields: [...fields].sort() });
    });
  });

  describe('the typed client', () => {
    const page = { items: [organisation], nextOffset: 50 };
    const site0 = { id: 'S0000012', ...site };
    const report: ImportReport = {
      rows: 3,
      inserted: 2,
      updated: 0,
      rejected: [{ line: 3, reason: 'bad postcode' }],
      partial: true,
      ms: 41,
    };
    const allocation = {
      id: 'IPA0000007',
      connectionId: 'N3C0000042',
      cidr: '10.1.2.0/27',
      purpose: 'practice LAN',
      allocatedAt: '2026-01-05T10:00:00.000Z',
      releasedAt: null,
    };
    const owner: IpOwner = {
      ip: '10.1.2.9',
      allocation: { id: 'IPA0000007', cidr: '10.1.2.0/27', purpose: 'practice LAN' },
      connection: {
        id: 'N3C0000042',
        status: 'live',
        supplier: 'BT',
        accessType: 'fttp',
        bandwidthMbps: 100,
        siteId: 'S0000012',
      },
      organisation: { odsCode: 'A83008', name: 'HALLGARTH SURGERY', role: 'gp-practice', status: 'active' },
    };
    const history = [
      {
        sequence: 1,
        connectionId: 'N3C0000042',
        kind: 'ordered',
        fromStatus: null,
        toStatus: 'ordered',
        detail: null,
        actor: 'u-1',
        actorOrganisation: 'X26',
        requestId: 'r-1',
        at: '2026-01-05T10:00:00.000Z',
      },
    ];
    const calls: [string, string, object, unknown, (c: N3Client, request: never) => Promise<unknown>][] = [
      [
        'getOrganisation',
        N3_SUBJECTS.organisationGet,
        { odsCode: 'A83008' },
        organisation,
        (c, r) => c.getOrganisation(r, context),
      ],
      [
        'searchOrganisations',
        N3_SUBJECTS.organisationSearch,
        { name: 'hallgarth', limit: 50, offset: 0 },
        page,
        (c, r) => c.searchOrganisations(r, context),
      ],
      [
        'upsertOrganisation',
        N3_SUBJECTS.organisationUpsert,
        practice,
        organisation,
        (c, r) => c.upsertOrganisation(r, context),
      ],
      [
        'importOrganisations',
        N3_SUBJECTS.organisationImport,
        { objectName: 'x.csv', role: 'gp-practice', skipInvalid: true },
        report,
        (c, r) => c.importOrganisations(r, context),
      ],
      ['createSite', N3_SUBJECTS.siteCreate, site, site0, (c, r) => c.createSite(r, context)],
      // A page of sites: limit and offset as the caller gives them (the client fills in the defaults otherwise).
      [
        'listSites',
        N3_SUBJECTS.siteList,
        { odsCode: 'A83008', limit: 20, offset: 40 },
        [site0],
        (c, r) => c.listSites(r, context),
      ],
      ['createConnection', N3_SUBJECTS.connectionCreate, order, connection, (c, r) => c.createConnection(r, context)],
      [
        'getConnection',
        N3_SUBJECTS.connectionGet,
        { connectionId: 'N3C0000042' },
        connection,
        (c, r) => c.getConnection(r, context),
      ],
      [
        'listConnections',
        N3_SUBJECTS.connectionList,
        { odsCode: 'A83008', limit: 50, offset: 0 },
        { items: [connection] },
        (c, r) => c.listConnections(r, context),
      ],
      [
        'transitionConnection',
        N3_SUBJECTS.connectionTransition,
        { connectionId: 'N3C0000042', to: 'provisioning' },
        { ...connection, status: 'provisioning', version: 2 },
        (c, r) => c.transitionConnection(r, context),
      ],
      [
        'connectionHistory',
        N3_SUBJECTS.connectionHistory,
        { connectionId: 'N3C0000042', limit: 50, offset: 0 },
        history,
        (c, r) => c.connectionHistory(r, context),
      ],
      [
        'allocateBlock',
        N3_SUBJECTS.allocationCreate,
        { connectionId: 'N3C0000042', cidr: '10.1.2.0/27', purpose: 'practice LAN' },
        allocation,
        (c, r) => c.allocateBlock(r, context),
      ],
      [
        'releaseBlock',
        N3_SUBJECTS.allocationRelease,
        { connectionId: 'N3C0000042', allocationId: 'IPA0000007' },
        { ...allocation, releasedAt: '2026-02-01T00:00:00.000Z' },
        (c, r) => c.releaseBlock(r, context),
      ],
      ['ipOwner', N3_SUBJECTS.ipOwner, { ip: '10.1.2.9' }, owner, (c, r) => c.ipOwner(r, context)],
    ];

    it.each(calls)(
      '%s sends the request on its subject and returns the answer',
      async (_method, subject, request, reply, call) => {
        const { rpc, sent } = stubRpc(reply);
        await expect(call(new N3Client(rpc), request as never)).resolves.toEqual(reply);
        expect(sent).toEqual([{ subject, data: request }]);
      },
    );

    it.each(calls)(
      '%s refuses an answer that is not what it asked for',
      async (_method, _subject, request, reply, call) => {
        // Each answer with the wrong shape: another call's answer, a bare string, null.
        const wrong = Array.isArray(reply) ? [{ items: reply }, 'done', null] : [[reply], 'done', null, {}];
        for (const answer of wrong) {
          const error = await rejectionOf(call(new N3Client(stubRpc(answer).rpc), request as never));
          expect([error.code, error.httpStatus]).toEqual(['REC_SERVER_ERROR', 500]);
        }
      },
    );

    it('refuses to send a request the contract does not describe, and sends nothing', async () => {
      const { rpc, sent } = stubRpc(connection);
      const error = await rejectionOf(
        new N3Client(rpc).createConnection({ ...order, bandwidthMbps: 0 } as never, context),
      );
      expect(error.code).toBe('INVALID_VALUE');
      expect(error.diagnostics).toBe('bandwidthMbps must not be less than 1');
      expect(sent).toHaveLength(0);
    });
  });
});

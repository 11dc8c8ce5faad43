// The N3 registry client's error mapping over a real NATS server: what the registry's error filter puts on
// the bus ({code, message, diagnostics} in the reply's `err`) comes back as the typed PlatformError, and
// anything else as a clear REC_* error. The NATS server is this file's own, so no running registry can answer.
import 'reflect-metadata';
import { errorDefinition } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { rejectionOf } from '@platform/shared-testing';
import { startFailingBus, type FailingBus, type SeenRequest } from '@platform/testing-services';
import { N3Client } from './client';
import { N3_ERRORS } from './errors';
import { N3_SUBJECTS } from './subjects';

const context: CallContext = {
  requestId: 'req-n3-1',
  correlationId: 'corr-n3-1',
  caller: { id: 'u-2', roles: ['registry-admin'], organisation: 'X26' },
};

describe('the N3 registry client over NATS', () => {
  let bus: FailingBus;
  let client: N3Client;
  const failWith = (subject: string, err: unknown, seen?: SeenRequest[]): Promise<void> =>
    bus.failWith(subject, err, seen);

  beforeAll(async () => {
    bus = await startFailingBus();
    client = new N3Client(bus.rpc);
  });

  afterEach(async () => {
    await bus.reset();
  });

  afterAll(async () => {
    await bus?.stop();
  });

  const order = {
    odsCode: 'A83008',
    supplier: 'BT',
    bandwidthMbps: 100,
    accessType: 'fttp' as const,
    availabilityTarget: 99.95,
    contractStart: '2026-04-01',
  };
  const calls: [string, string, (c: N3Client) => Promise<unknown>][] = [
    ['getOrganisation', N3_SUBJECTS.organisationGet, (c) => c.getOrganisation({ odsCode: 'A83008' }, context)],
    [
      'searchOrganisations',
      N3_SUBJECTS.organisationSearch,
      (c) => c.searchOrganisations({ name: 'hall', limit: 50, offset: 0 }, context),
    ],
    [
      'upsertOrganisation',
      N3_SUBJECTS.organisationUpsert,
      (c) =>
        c.upsertOrganisation(
          { odsCode: 'A83008', name: 'HALLGARTH SURGERY', role: 'gp-practice', status: 'active', addressLines: [] },
          context,
        ),
    ],
    [
      'importOrganisations',
      N3_SUBJECTS.organisationImport,
      (c) => c.importOrganisations({ objectName: 'x.csv', role: 'gp-practice', skipInvalid: false }, context),
    ],
    [
      'createSite',
      N3_SUBJECTS.siteCreate,
      (c) => c.createSite({ odsCode: 'A83008', name: 'Main', addressLines: [] }, context),
    ],
    ['listSites', N3_SUBJECTS.siteList, (c) => c.listSites({ odsCode: 'A83008' }, context)],
    ['createConnection', N3_SUBJECTS.connectionCreate, (c) => c.createConnection(order, context)],
    ['getConnection', N3_SUBJECTS.connectionGet, (c) => c.getConnection({ connectionId: 'N3C0000042' }, context)],
    ['listConnections', N3_SUBJECTS.connectionList, (c) => c.listConnections({ limit: 50, offset: 0 }, context)],
    [
      'transitionConnection',
      N3_SUBJECTS.connectionTransition,
      (c) => c.transitionConnection({ connectionId: 'N3C0000042', to: 'live' }, context),
    ],
    [
      'connectionHistory',
      N3_SUBJECTS.connectionHistory,
      (c) => c.connectionHistory({ connectionId: 'N3C0000042' }, context),
    ],
    [
      'allocateBlock',
      N3_SUBJECTS.allocationCreate,
      (c) => c.allocateBlock({ connectionId: 'N3C0000042', cidr: '10.1.2.0/27' }, context),
    ],
    [
      'releaseBlock',
      N3_SUBJECTS.allocationRelease,
      (c) => c.releaseBlock({ connectionId: 'N3C0000042', allocationId: 'IPA0000007' }, context),
    ],
    ['ipOwner', N3_SUBJECTS.ipOwner, (c) => c.ipOwner({ ip: '10.1.2.9' }, context)],
    ['health', N3_SUBJECTS.healthCheck, (c) => c.health(context)],
  ];

  it.each(calls)(
    '%s turns a {code, message, diagnostics} reply into that PlatformError, with the call context sent',
    async (_method, subject, call) => {
      const seen: SeenRequest[] = [];
      await failWith(
        subject,
        { code: 'IP_RANGE_CONFLICT', message: 'The range overlaps', diagnostics: `on ${subject}` },
        seen,
      );
      const error = await rejectionOf(call(client));
      expect(error).toMatchObject({
        name: 'PlatformError',
        code: 'IP_RANGE_CONFLICT',
        message: 'The range overlaps',
        diagnostics: `on ${subject}`,
        httpStatus: 409,
      });
      expect(seen).toEqual([
        {
          requestId: 'req-n3-1',
          correlationId: 'corr-n3-1',
          roles: 'registry-admin',
          organisation: 'X26',
          pattern: subject,
        },
      ]);
    },
  );

  it.each(Object.keys(N3_ERRORS))('keeps the code %s and its HTTP status', async (code) => {
    await failWith(N3_SUBJECTS.connectionGet, { code, message: `m-${code}`, diagnostics: `d-${code}` });
    const error = await rejectionOf(client.getConnection({ connectionId: 'N3C0000042' }, context));
    expect([error.code, error.message, error.diagnostics, error.httpStatus]).toEqual([
      code,
      `m-${code}`,
      `d-${code}`,
      errorDefinition(code).status,
    ]);
  });

  it('keeps the details an import refusal carries (the rejected lines)', async () => {
    const rejected = [{ line: 3, odsCode: 'A8300', reason: 'odsCode must be 3 to 6 upper-case letters or digits' }];
    await failWith(N3_SUBJECTS.organisationImport, {
      code: 'INVALID_IMPORT',
      message: 'The extract has rows that cannot be imported',
      diagnostics: '1 of 3 rows cannot be imported',
      details: { rejected },
    });
    const error = await rejectionOf(
      client.importOrganisations({ objectName: 'x.csv', role: 'gp-practice', skipInvalid: false }, context),
    );
    expect(error).toMatchObject({ code: 'INVALID_IMPORT', httpStatus: 422, details: { rejected } });
  });

  it.each([
    ['a code no contract defines', { code: 'CONNECTION_ON_FIRE', message: 'Unknown' }],
    ['a code without a message', { code: 'CONNECTION_NOT_FOUND' }],
    ['a message without a code', { message: 'Something went wrong' }],
    ['a bare string', 'Internal server error'],
    ['null with no response', null],
  ])('answers %s with REC_SERVER_ERROR rather than passing it on', async (_what, err) => {
    await failWith(N3_SUBJECTS.connectionGet, err);
    const error = await rejectionOf(client.getConnection({ connectionId: 'N3C0000042' }, context));
    expect(error).toMatchObject({ code: 'REC_SERVER_ERROR', httpStatus: 500 });
  });

  it('answers REC_UNAVAILABLE at once when no registry is listening, naming the subject', async () => {
    const started = Date.now();
    const error = await rejectionOf(client.ipOwner({ ip: '10.1.2.9' }, context));
    expect(error).toMatchObject({ code: 'REC_UNAVAILABLE', httpStatus: 503 });
    expect(error.diagnostics).toBe(`No service is answering ${N3_SUBJECTS.ipOwner}`);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('answers REC_GATEWAY_TIMEOUT when the registry does not answer in time', async () => {
    await bus.silent(N3_SUBJECTS.healthCheck);
    const error = await rejectionOf(client.health(context, 200));
    expect(error).toMatchObject({ code: 'REC_GATEWAY_TIMEOUT', httpStatus: 504 });
  });
});

import { randomUUID } from 'node:crypto';
import { JSONCodec } from 'nats';
import { N3_EVENT_STREAM, N3_EVENTS, storeExtract, type Connection } from '@platform/contracts-n3';
import { rejectionOf } from '@platform/shared-testing';
import { testCallerEnvironment } from '@platform/testing-services';
import { odsLine } from './imports/ods-extract.test-harness';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { N3Config } from './config/n3.config';
import { OwnerIndex } from './shared/owner-index';
import { startN3Registry } from './n3-registry';
import { admin, ORDER, startN3UnderTest, type N3UnderTest } from './n3.test-harness';

describe('N3 registry over NATS (real PostgreSQL, JetStream)', () => {
  let registry: N3UnderTest;

  beforeAll(async () => {
    registry = await startN3UnderTest();
  });

  afterAll(async () => {
    await registry.stop();
  });

  async function order(odsCode = 'A83008'): Promise<Connection> {
    return registry.n3.createConnection({ odsCode, ...ORDER }, admin());
  }

  async function golive(connection: Connection): Promise<Connection> {
    await registry.n3.transitionConnection({ connectionId: connection.id, to: 'provisioning' }, admin());
    return registry.n3.transitionConnection({ connectionId: connection.id, to: 'live' }, admin());
  }

  async function events(): Promise<{ subject: string; data: Record<string, unknown> }[]> {
    const manager = await registry.connection.jetstreamManager();
    const info = await manager.streams.info(N3_EVENT_STREAM);
    const codec = JSONCodec<Record<string, unknown>>();
    const messages = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
      const message = await manager.streams.getMessage(N3_EVENT_STREAM, { seq });
      messages.push({ subject: message.subject, data: codec.decode(message.data) });
    }
    return messages;
  }

  async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const value = await probe();
      if (done(value) || Date.now() > deadline) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  describe('organisation directory', () => {
    it('answers a sandbox pharmacy with its role and ODS role code, case-insensitively', async () => {
      const pharmacy = await registry.n3.getOrganisation({ odsCode: 'vne51' }, admin());
      expect(pharmacy).toMatchObject({
        odsCode: 'VNE51',
        name: 'THE SIMPLE PHARMACY',
        role: 'pharmacy',
        odsRoleCode: 'RO182',
        postcode: 'LS15 8BA',
      });
    });

    it('refuses a malformed ODS code without looking it up, and says when a well-formed one is unknown', async () => {
      const malformed = await rejectionOf(registry.n3.getOrganisation({ odsCode: 'A8300!' }, admin()));
      expect(malformed).toMatchObject({ code: 'INVALID_VALUE', httpStatus: 400 });
      expect(malformed.diagnostics).toMatch(/^odsCode: /);
      const unknown = await rejectionOf(registry.n3.getOrganisation({ odsCode: 'ZZZ999' }, admin()));
      expect(unknown).toMatchObject({ code: 'ORGANISATION_NOT_FOUND', httpStatus: 404 });
    });

    it('searches by name words, postcode prefix and role', async () => {
      const byName = await registry.n3.searchOrganisations({ name: 'simple pharm', limit: 20, offset: 0 }, admin());
      expect(byName.items.map((organisation) => organisation.odsCode)).toEqual(
        expect.arrayContaining(['VNE51', 'VNFKT']),
      );
      const byPostcode = await registry.n3.searchOrganisations({ postcode: 'ls15', limit: 20, offset: 0 }, admin());
      expect(new Set(byPostcode.items.map((organisation) => organisation.postcode))).toEqual(new Set(['LS15 8BA']));
      const pharmacies = await registry.n3.searchOrganisations({ role: 'pharmacy', limit: 3, offset: 0 }, admin());
      expect(pharmacies.items).toHaveLength(3);
      expect(pharmacies.nextOffset).toBe(3);
      expect(pharmacies.items.every((organisation) => organisation.role === 'pharmacy')).toBe(true);
    });

    it('refuses an organisation whose close date is before its open date, naming the field, and stores nothing', async () => {
      const error = await rejectionOf(
        registry.n3.upsertOrganisation(
          {
            odsCode: 'Y99001',
            name: 'BACKWARDS SURGERY',
            role: 'gp-practice',
            status: 'active',
            addressLines: [],
            openDate: '2020-01-01',
            closeDate: '2019-12-31',
          },
          admin(),
        ),
      );
      expect(error).toMatchObject({ code: 'INVALID_VALUE' });
      expect(error.diagnostics).toBe('closeDate: 2019-12-31 is before openDate 2020-01-01');
      expect(
        (await registry.db.query(`SELECT 1 FROM "${registry.schema}".organisation WHERE ods_code = 'Y99001'`)).rowCount,
      ).toBe(0);
    });
  });

  describe("GP Connect endpoints (where GP2GP fetches a practice's records)", () => {
    it('gives each sandbox GP practice the simulator address, and other organisations none', async () => {
      expect(await registry.n3.getOrganisation({ odsCode: 'A83008' }, admin())).toMatchObject({
        gpConnectEndpoint: 'http://127.0.0.1:9480/A83008/fhir',
      });
      expect(await registry.n3.getOrganisation({ odsCode: 'VNE51' }, admin())).toMatchObject({
        gpConnectEndpoint: null,
      });
    });

    it('records an endpoint on upsert, keeps it through an ODS import, and refuses one that is not http(s)', async () => {
      const practice = {
        odsCode: 'Y99002',
        name: 'ENDPOINT SURGERY',
        role: 'gp-practice' as const,
        status: 'active' as const,
        addressLines: [],
        gpConnectEndpoint: 'https://gpc.example.nhs.uk/Y99002/fhir',
      };
      const saved = await registry.n3.upsertOrganisation(practice, admin());
      expect(saved.gpConnectEndpoint).toBe('https://gpc.example.nhs.uk/Y99002/fhir');
      const objectName = `test-${randomUUID()}`;
      await storeExtract(registry.connection, objectName, Buffer.from(odsLine('Y99002', 'ENDPOINT SURGERY RENAMED')));
      await registry.n3.importOrganisations({ objectName, role: 'gp-practice', skipInvalid: false }, admin());
      expect(await registry.n3.getOrganisation({ odsCode: 'Y99002' }, admin())).toMatchObject({
        name: 'ENDPOINT SURGERY RENAMED',
        gpConnectEndpoint: 'https://gpc.example.nhs.uk/Y99002/fhir',
      });
      const refused = await rejectionOf(
        registry.n3.upsertOrganisation({ ...practice, gpConnectEndpoint: 'ftp://gpc.example/Y99002' }, admin()),
      );
      expect(refused.code).toBe('INVALID_VALUE');
      expect(refused.diagnostics).toMatch(/^gpConnectEndpoint must be an http\(s\) address/);
      expect((await registry.n3.getOrganisation({ odsCode: 'Y99002' }, admin())).gpConnectEndpoint).toBe(
        'https://gpc.example.nhs.uk/Y99002/fhir',
      );
    });
  });

  describe('connection lifecycle', () => {
    it('moves ordered -> provisioning -> live -> migrating -> ceased, records who and when, and publishes each step', async () => {
      const created = await order();
      expect(created).toMatchObject({ status: 'ordered', version: 1, odsCode: 'A83008', allocations: [] });
      let connection = created;
      for (const to of ['provisioning', 'live', 'migrating', 'ceased'] as const) {
        connection = await registry.n3.transitionConnection(
          { connectionId: created.id, to, reason: `to ${to}` },
          admin(),
        );
        expect(connection.status).toBe(to);
      }
      expect(connection.version).toBe(5);
      const history = await registry.n3.connectionHistory({ connectionId: created.id }, admin());
      expect(history.map((event) => [event.fromStatus, event.toStatus, event.actor, event.actorOrganisation])).toEqual([
        [null, 'ordered', 'registry.admin', 'X26'],
        ['ordered', 'provisioning', 'registry.admin', 'X26'],
        ['provisioning', 'live', 'registry.admin', 'X26'],
        ['live', 'migrating', 'registry.admin', 'X26'],
        ['migrating', 'ceased', 'registry.admin', 'X26'],
      ]);
      const published = await eventually(
        events,
        (list) => list.filter((event) => event.data['connectionId'] === created.id).length >= 5,
      );
      expect(
        published.filter((event) => event.data['connectionId'] === created.id).map((event) => event.subject),
      ).toEqual([
        N3_EVENTS.connectionOrdered,
        N3_EVENTS.connectionProvisioningStarted,
        N3_EVENTS.connectionWentLive,
        N3_EVENTS.connectionMigrationStarted,
        N3_EVENTS.connectionCeased,
      ]);
    });

    it('refuses a move the lifecycle does not allow, and a stale version, changing nothing', async () => {
      const created = await order();
      const skip = await rejectionOf(
        registry.n3.transitionConnection({ connectionId: created.id, to: 'live' }, admin()),
      );
      expect(skip).toMatchObject({ code: 'INVALID_TRANSITION', httpStatus: 409 });
      expect(skip.diagnostics).toBe('A connection that is ordered can move to provisioning or ceased, not live');
      const stale = await rejectionOf(
        registry.n3.transitionConnection({ connectionId: created.id, to: 'provisioning', expectedVersion: 7 }, admin()),
      );
      expect(stale).toMatchObject({ code: 'RESOURCE_VERSION_MISMATCH', httpStatus: 409 });
      expect(await registry.n3.getConnection({ connectionId: created.id }, admin())).toMatchObject({
        status: 'ordered',
        version: 1,
      });
    });

    it('refuses contract dates out of order and a site of another organisation, naming the field', async () => {
      const dates = await rejectionOf(
        registry.n3.createConnection({ odsCode: 'A83008', ...ORDER, contractEnd: '2025-12-31' }, admin()),
      );
      expect(dates.diagnostics).toBe('contractEnd: 2025-12-31 is not after contractStart 2026-01-01');
      const site = await registry.n3.createSite(
        { odsCode: 'C81007', name: 'Branch surgery', addressLines: [] },
        admin(),
      );
      const wrongSite = await rejectionOf(
        registry.n3.createConnection({ odsCode: 'A83008', siteId: site.id, ...ORDER }, admin()),
      );
      expect(wrongSite).toMatchObject({ code: 'SITE_NOT_FOUND' });
      const closed = await rejectionOf(registry.n3.createConnection({ odsCode: '5EX', ...ORDER }, admin()));
      expect(closed).toMatchObject({ code: 'ORGANISATION_CLOSED', httpStatus: 409 });
    });

    it('creates one connection for a request retried with the same X-Request-ID, even when the retries race', async () => {
      const context = admin();
      const before = await registry.db.query(`SELECT count(*)::int AS n FROM "${registry.schema}".connection`);
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => registry.n3.createConnection({ odsCode: 'C81007', ...ORDER }, context)),
      );
      expect(new Set(answers.map((answer) => answer.id)).size).toBe(1);
      const after = await registry.db.query(`SELECT count(*)::int AS n FROM "${registry.schema}".connection`);
      expect((after.rows[0] as { n: number }).n - (before.rows[0] as { n: number }).n).toBe(1);
    });
  });

  describe('IP allocations', () => {
    it("refuses a block overlapping another connection's with 409 naming the holder, and stores nothing", async () => {
      const first = await order();
      const second = await order('C81007');
      await registry.n3.allocateBlock({ connectionId: first.id, cidr: '172.16.0.0/22' }, admin());
      const clash = await rejectionOf(
        registry.n3.allocateBlock({ connectionId: second.id, cidr: '172.16.2.0/24' }, admin()),
      );
      expect(clash).toMatchObject({ code: 'IP_RANGE_CONFLICT', httpStatus: 409 });
      expect(clash.diagnostics).toBe(
        `172.16.2.0/24 overlaps 172.16.0.0/22, held by connection ${first.id} (A83008, ordered)`,
      );
      expect((await registry.n3.getConnection({ connectionId: second.id }, admin())).allocations).toEqual([]);
    });

    it('lets exactly one of many racing connections take the same range: the database decides', async () => {
      const contenders = await Promise.all(Array.from({ length: 8 }, () => order('B81001')));
      const outcomes = await Promise.allSettled(
        contenders.map((connection, index) =>
          registry.n3.allocateBlock(
            { connectionId: connection.id, cidr: index % 2 ? '172.20.0.0/16' : '172.20.128.0/17' },
            admin(),
          ),
        ),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect((outcome.reason as { code: string }).code).toBe('IP_RANGE_CONFLICT');
      }
      const held = await registry.db.query(
        `SELECT count(*)::int AS n FROM "${registry.schema}".ip_allocation WHERE block && '172.20.0.0/16' AND released_at IS NULL`,
      );
      expect((held.rows[0] as { n: number }).n).toBe(1);
    });

    it('refuses host bits, IPv4 written as IPv6 and nonsense, suggesting the block meant', async () => {
      const connection = await order();
      const hostBits = await rejectionOf(
        registry.n3.allocateBlock({ connectionId: connection.id, cidr: '172.30.1.7/24' }, admin()),
      );
      expect(hostBits).toMatchObject({ code: 'INVALID_CIDR', httpStatus: 400 });
      expect(hostBits.diagnostics).toMatch(/host bits are set; the block is 172\.30\.1\.0\/24/);
      const mapped = await rejectionOf(
        registry.n3.allocateBlock({ connectionId: connection.id, cidr: '::ffff:172.30.1.0/120' }, admin()),
      );
      expect(mapped.code).toBe('INVALID_CIDR');
    });

    it('answers the most specific live block for an address, IPv4 or IPv6, and nothing for one that is not live', async () => {
      const connection = await golive(await order('B82617'));
      await registry.n3.allocateBlock(
        { connectionId: connection.id, cidr: '172.24.0.0/16', purpose: 'practice' },
        admin(),
      );
      const site = await registry.n3.allocateBlock(
        { connectionId: connection.id, cidr: '172.24.9.0/26', purpose: 'branch' },
        admin(),
      );
      await registry.n3.allocateBlock({ connectionId: connection.id, cidr: '2001:db8:24::/48' }, admin());
      const owner = await registry.n3.ipOwner({ ip: '172.24.9.17' }, admin());
      expect(owner).toMatchObject({
        ip: '172.24.9.17',
        allocation: { id: site.id, cidr: '172.24.9.0/26', purpose: 'branch' },
        connection: { id: connection.id, status: 'live' },
        organisation: { odsCode: 'B82617' },
      });
      expect((await registry.n3.ipOwner({ ip: '172.24.200.1' }, admin())).allocation.cidr).toBe('172.24.0.0/16');
      expect((await registry.n3.ipOwner({ ip: '::ffff:172.24.9.17' }, admin())).allocation.cidr).toBe('172.24.9.0/26');
      expect((await registry.n3.ipOwner({ ip: '2001:db8:24::5' }, admin())).connection.id).toBe(connection.id);

      const ordered = await order('H81109');
      await registry.n3.allocateBlock({ connectionId: ordered.id, cidr: '172.25.0.0/24' }, admin());
      expect(await rejectionOf(registry.n3.ipOwner({ ip: '172.25.0.9' }, admin()))).toMatchObject({
        code: 'NO_LIVE_OWNER',
        httpStatus: 404,
      });
      expect(await rejectionOf(registry.n3.ipOwner({ ip: '172.25.0.0/24' }, admin()))).toMatchObject({
        code: 'INVALID_IP_ADDRESS',
      });
    });

    it("gives a ceased connection's blocks back, so another connection can take them, and publishes both", async () => {
      const old = await golive(await order('Y12345'));
      await registry.n3.allocateBlock({ connectionId: old.id, cidr: '172.26.0.0/24' }, admin());
      await registry.n3.transitionConnection({ connectionId: old.id, to: 'ceased' }, admin());
      expect((await registry.n3.getConnection({ connectionId: old.id }, admin())).allocations).toEqual([]);
      const replacement = await order('Y12345');
      const taken = await registry.n3.allocateBlock({ connectionId: replacement.id, cidr: '172.26.0.0/24' }, admin());
      expect(taken.connectionId).toBe(replacement.id);
      const after = await rejectionOf(
        registry.n3.allocateBlock({ connectionId: old.id, cidr: '172.27.0.0/24' }, admin()),
      );
      expect(after.code).toBe('CONNECTION_CEASED');
      const published = await eventually(events, (list) =>
        list.some((event) => event.subject === N3_EVENTS.allocationReleased && event.data['connectionId'] === old.id),
      );
      expect(
        published.some(
          (event) => event.subject === N3_EVENTS.allocationReleased && event.data['cidr'] === '172.26.0.0/24',
        ),
      ).toBe(true);
    });
  });

  describe('the owner table of a second replica', () => {
    it('follows changes made by the other replica, through the events', async () => {
      const config = loadConfig(N3Config, {
        ...(await testCallerEnvironment('n3-registry')),
        NATS_URL: registry.natsUrl,
        DATABASE_URL: registry.databaseUrl,
        N3_DB_SCHEMA: registry.schema,
        N3_HTTP_PORT: '0',
        N3_SEED: 'none',
      });
      const second = await startN3Registry(config, createLogger({ service: 'n3-registry', level: 'silent' }));
      try {
        const replicas = [registry.app.get(OwnerIndex), second.get(OwnerIndex)];
        const connection = await golive(await order('A20047'));
        await registry.n3.allocateBlock({ connectionId: connection.id, cidr: '172.28.0.0/24' }, admin());
        for (const replica of replicas) {
          await eventually(
            () => Promise.resolve(replica.lookup('172.28.0.9')),
            (owner) => owner !== null,
          );
          expect(replica.lookup('172.28.0.9')?.connection.id).toBe(connection.id);
        }
        await registry.n3.transitionConnection({ connectionId: connection.id, to: 'ceased' }, admin());
        for (const replica of replicas) {
          await eventually(
            () => Promise.resolve(replica.lookup('172.28.0.9')),
            (owner) => owner === null,
          );
          expect(replica.lookup('172.28.0.9')).toBeNull();
        }
      } finally {
        await second.close();
      }
    });
  });

  describe('ODS extract import', () => {
    async function importText(text: string, skipInvalid = false, requestId = randomUUID()) {
      const objectName = `test-${randomUUID()}`;
      await storeExtract(registry.connection, objectName, Buffer.from(text));
      return registry.n3.importOrganisations({ objectName, role: 'gp-practice', skipInvalid }, admin(requestId));
    }

    it('imports a whole extract, updating codes it already holds', async () => {
      const report = await importText(
        [
          odsLine('Y90001', 'NEW PRACTICE ONE'),
          odsLine('Y90002', 'NEW PRACTICE TWO'),
          odsLine('A83008', 'HALLGARTH SURGERY'),
        ].join('\n'),
      );
      expect(report).toMatchObject({ rows: 3, inserted: 2, updated: 1, rejected: [], partial: false });
      expect(await registry.n3.getOrganisation({ odsCode: 'Y90002' }, admin())).toMatchObject({
        name: 'NEW PRACTICE TWO',
        role: 'gp-practice',
        parentOdsCode: '84H',
      });
    });

    it('rejects a whole extract with a bad row, listing each line and reason, and imports nothing', async () => {
      const error = await rejectionOf(
        importText(
          [odsLine('Y90011', 'GOOD'), odsLine('Y90012', 'BAD DATE', { 10: '2019-13-01' }), '"Y90013","SHORT"'].join(
            '\n',
          ),
        ),
      );
      expect(error).toMatchObject({ code: 'INVALID_IMPORT', httpStatus: 422 });
      expect((error as unknown as { details: unknown }).details).toEqual({
        rejected: [
          { line: 2, odsCode: 'Y90012', reason: "open date '2019-13-01' is not a date in YYYYMMDD form" },
          { line: 3, reason: 'expected 27 columns (the ODS standard layout), found 2' },
        ],
        rejectedCount: 2,
      });
      expect(
        (await registry.db.query(`SELECT 1 FROM "${registry.schema}".organisation WHERE ods_code = 'Y90011'`)).rowCount,
      ).toBe(0);
    });

    it('imports the good rows and reports the bad ones when asked to skip them', async () => {
      const report = await importText(
        [odsLine('Y90021', 'GOOD'), odsLine('Y90022', 'BAD', { 9: 'NOWHERE' })].join('\n'),
        true,
      );
      expect(report).toMatchObject({ rows: 2, inserted: 1, partial: true, rejected: [{ line: 2, odsCode: 'Y90022' }] });
    });
  });

  describe('lists a page at a time', () => {
    it("answers an organisation's sites and a connection's history in pages, and refuses a page too large", async () => {
      for (const name of ['North wing', 'South wing', 'Annexe']) {
        await registry.n3.createSite({ odsCode: 'B81001', name, addressLines: ['1 High Street'] }, admin());
      }
      const first = await registry.n3.listSites({ odsCode: 'B81001', limit: 2 }, admin());
      const rest = await registry.n3.listSites({ odsCode: 'B81001', limit: 2, offset: 2 }, admin());
      expect(first).toHaveLength(2);
      expect(rest).toHaveLength(1);
      const all = await registry.n3.listSites({ odsCode: 'B81001' }, admin());
      expect([...first, ...rest].map((site) => site.id)).toEqual(all.map((site) => site.id));
      expect((await rejectionOf(registry.n3.listSites({ odsCode: 'B81001', limit: 500 }, admin()))).code).toBe(
        'INVALID_VALUE',
      );

      const connection = await golive(await order());
      const events = await registry.n3.connectionHistory({ connectionId: connection.id }, admin());
      expect(events.map((event) => event.toStatus)).toEqual(['ordered', 'provisioning', 'live']);
      const second = await registry.n3.connectionHistory({ connectionId: connection.id, limit: 1, offset: 1 }, admin());
      expect(second.map((event) => event.toStatus)).toEqual(['provisioning']);
      expect(await registry.n3.connectionHistory({ connectionId: connection.id, offset: 3 }, admin())).toEqual([]);
    });
  });
});

import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { e2eState, passwordToken, type E2eState } from './support/platform';

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

function odsLine(code: string, name: string, openDate = '19740401'): string {
  const fields = Array.from({ length: 27 }, () => '');
  fields[0] = code;
  fields[1] = name;
  fields[4] = '1 HIGH STREET';
  fields[7] = 'LEEDS';
  fields[9] = 'LS1 1AA';
  fields[10] = openDate;
  fields[12] = 'A';
  return fields.map((field) => `"${field}"`).join(',');
}

describe('N3 registry through the gateway', () => {
  let state: E2eState;
  const tokens: Record<string, string> = {};

  async function call(
    method: string,
    path: string,
    options: {
      as?: string;
      body?: unknown;
      csv?: string;
      requestId?: string | null;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${tokens[options.as ?? 'registry-admin']}`,
      ...options.headers,
    };
    if (options.requestId !== null) headers['x-request-id'] = options.requestId ?? randomUUID();
    let body: string | undefined;
    if (options.csv !== undefined) {
      headers['content-type'] = 'text/csv';
      body = options.csv;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(`${state.gateway}${path}`, { method, headers, body });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  }

  const ORDER = {
    odsCode: 'C81007',
    supplier: 'BT',
    bandwidthMbps: 80,
    accessType: 'fttc',
    availabilityTarget: 99.5,
    contractStart: '2026-04-01',
  };

  beforeAll(async () => {
    state = e2eState();
    for (const user of ['registry-admin', 'ops', 'clinician', 'pharmacist'])
      tokens[user] = await passwordToken(state.issuer, user);
  });

  it('lets every role read the organisation directory; only ops and registry-admin see connections', async () => {
    const pharmacy = await call('GET', '/n3/organisations/VNE51', { as: 'pharmacist' });
    expect(pharmacy.status).toBe(200);
    expect(pharmacy.body).toMatchObject({ odsCode: 'VNE51', role: 'pharmacy', odsRoleCode: 'RO182' });
    const search = await call('GET', '/n3/organisations?name=hallgarth', { as: 'clinician' });
    expect((search.body['items'] as { odsCode: string }[]).map((item) => item.odsCode)).toContain('A83008');

    const refused = await call('GET', '/n3/connections', { as: 'clinician' });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ status: 403, code: 'ACCESS_DENIED' });
    expect((await call('GET', '/n3/connections?status=live', { as: 'ops' })).status).toBe(200);
    expect((await call('POST', '/n3/connections', { as: 'ops', body: ORDER })).status).toBe(403);
  });

  it('answers which live connection holds a sandbox address', async () => {
    const owner = await call('GET', '/n3/ip-owner?ip=192.168.8.20', { as: 'ops' });
    expect(owner.status).toBe(200);
    expect(owner.body).toMatchObject({
      allocation: { cidr: '192.168.8.0/24' },
      organisation: { odsCode: 'A83008', name: 'HALLGARTH SURGERY' },
    });
    const none = await call('GET', '/n3/ip-owner?ip=192.0.2.1', { as: 'ops' });
    expect(none.status).toBe(404);
    expect(none.body).toMatchObject({ code: 'NO_LIVE_OWNER' });
    const bad = await call('GET', '/n3/ip-owner?ip=10.83.8.0/24', { as: 'ops' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'INVALID_IP_ADDRESS', errors: [{ field: 'ip' }] });
  });

  it('takes a connection through its lifecycle with If-Match, and keeps its history', async () => {
    const created = await call('POST', '/n3/connections', { body: ORDER });
    expect(created.status).toBe(201);
    const id = created.body['id'] as string;
    expect(created.headers.get('location')).toBe(`/n3/connections/${id}`);
    expect(created.headers.get('etag')).toBe('W/"1"');
    const stale = await call('POST', `/n3/connections/${id}/transitions`, {
      body: { to: 'provisioning' },
      headers: { 'if-match': 'W/"4"' },
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: 'RESOURCE_VERSION_MISMATCH' });
    const moved = await call('POST', `/n3/connections/${id}/transitions`, {
      body: { to: 'provisioning' },
      headers: { 'if-match': 'W/"1"' },
    });
    expect(moved.status).toBe(200);
    expect(moved.headers.get('etag')).toBe('W/"2"');
    const skipped = await call('POST', `/n3/connections/${id}/transitions`, { body: { to: 'migrating' } });
    expect(skipped.status).toBe(409);
    expect(skipped.body).toMatchObject({ code: 'INVALID_TRANSITION', allowed: ['live', 'ceased'] });
    const history = await call('GET', `/n3/connections/${id}/history`, { as: 'ops' });
    expect(
      (history.body as unknown as { toStatus: string; actor: string }[]).map((event) => [event.toStatus, event.actor]),
    ).toEqual([
      ['ordered', 'registry-admin'],
      ['provisioning', 'registry-admin'],
    ]);
  });

  it('refuses a write without an X-Request-ID, and applies a retried one once', async () => {
    const missing = await call('POST', '/n3/connections', { body: ORDER, requestId: null });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ code: 'MISSING_VALUE' });
    const requestId = randomUUID();
    const first = await call('POST', '/n3/connections', { body: ORDER, requestId });
    const again = await call('POST', '/n3/connections', { body: ORDER, requestId });
    expect(again.body['id']).toBe(first.body['id']);
  });

  it('names the field at fault in malformed bodies and queries, and the holder of a clashing range', async () => {
    const bad = await call('POST', '/n3/connections', { body: { ...ORDER, bandwidthMbps: -5, colour: 'blue' } });
    expect(bad.status).toBe(400);
    expect((bad.body['errors'] as { field: string }[]).map((error) => error.field).sort()).toEqual([
      'bandwidthMbps',
      'colour',
    ]);
    const unknownParameter = await call('GET', '/n3/organisations?name=leeds&flavour=mint', { as: 'ops' });
    expect(unknownParameter.status).toBe(400);

    const a = (await call('POST', '/n3/connections', { body: ORDER })).body['id'] as string;
    const b = (await call('POST', '/n3/connections', { body: ORDER })).body['id'] as string;
    const hostBits = await call('POST', `/n3/connections/${a}/ip-allocations`, { body: { cidr: '10.99.0.1/24' } });
    expect(hostBits.status).toBe(400);
    expect(hostBits.body).toMatchObject({ code: 'INVALID_CIDR', suggestion: '10.99.0.0/24' });
    expect((await call('POST', `/n3/connections/${a}/ip-allocations`, { body: { cidr: '10.99.0.0/24' } })).status).toBe(
      201,
    );
    const clash = await call('POST', `/n3/connections/${b}/ip-allocations`, { body: { cidr: '10.99.0.128/25' } });
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({
      code: 'IP_RANGE_CONFLICT',
      conflictingConnection: a,
      conflictingCidr: '10.99.0.0/24',
    });
  });

  it('imports an ODS extract as CSV, all or nothing, listing every rejected line', async () => {
    const good = await call('POST', '/n3/organisations/import?role=pharmacy', {
      csv: [odsLine('FZ001', 'E2E PHARMACY ONE'), odsLine('FZ002', 'E2E PHARMACY TWO')].join('\n'),
    });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ rows: 2, inserted: 2, rejected: [] });
    expect((await call('GET', '/n3/organisations/FZ002', { as: 'pharmacist' })).body).toMatchObject({
      role: 'pharmacy',
    });

    const bad = await call('POST', '/n3/organisations/import?role=pharmacy', {
      csv: [
        odsLine('FZ003', 'E2E PHARMACY THREE'),
        odsLine('FZ004', 'BAD', '2020-01-01'),
        '"FZ005","BROKEN "QUOTE""',
      ].join('\n'),
    });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ code: 'INVALID_IMPORT', rejectedCount: 2 });
    expect((bad.body['rejected'] as { line: number }[]).map((row) => row.line)).toEqual([2, 3]);
    expect((await call('GET', '/n3/organisations/FZ003', { as: 'ops' })).status).toBe(404);

    const notCsv = await call('POST', '/n3/organisations/import?role=pharmacy', { body: { rows: [] } });
    expect(notCsv.status).toBe(415);
  });
});

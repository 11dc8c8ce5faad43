import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewaySettings } from '../gateway.settings';
import { acceptsGzip, businessFunctionOf, sendFhirDocument } from './ers-http';

describe('acceptsGzip', () => {
  it.each([
    ['gzip, deflate', true],
    ['gzip, deflate, br, zstd', true],
    ['deflate, x-gzip', true],
    ['*', true],
    ['br;q=1.0, gzip;q=0.5', true],
    ['GZIP', true],
    [undefined, false],
    ['', false],
    ['identity', false],
    ['br, deflate', false],
    ['gzip;q=0', false],
    ['*, gzip;q=0', false],
    ['*;q=0', false],
    ['gzipped', false],
  ])('%s: %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

describe('sendFhirDocument', () => {
  const settings = { publicUrl: 'https://api.example' } as GatewaySettings;
  const json = JSON.stringify({ resourceType: 'List', entry: [{ item: { reference: 'ReferralRequest/1' } }] });

  function exchange(acceptEncoding?: string): {
    request: FastifyRequest;
    reply: FastifyReply;
    headers: Record<string, string>;
  } {
    const headers: Record<string, string> = {};
    const reply = {
      status: () => reply,
      type: (value: string) => {
        headers['content-type'] = value;
        return reply;
      },
      header: (name: string, value: string) => {
        headers[name.toLowerCase()] = value;
        return reply;
      },
    } as unknown as FastifyReply;
    const request = {
      headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding },
    } as FastifyRequest;
    return { request, reply, headers };
  }

  it('passes a gzipped answer on as it is to a client that accepts gzip', async () => {
    const gzipped = gzipSync(json);
    const { request, reply, headers } = exchange('gzip, deflate');
    const body = await sendFhirDocument(settings, request, reply, { body: gzipped, encoding: 'gzip' });
    expect(body.equals(gzipped)).toBe(true);
    expect(headers).toMatchObject({ 'content-encoding': 'gzip', vary: 'Accept-Encoding' });
  });

  it('gunzips it for a client that does not, and sends a plain answer as it is', async () => {
    const { request, reply, headers } = exchange();
    const body = await sendFhirDocument(settings, request, reply, { body: gzipSync(json), encoding: 'gzip' });
    expect(body.toString('utf8')).toBe(json);
    expect(headers['content-encoding']).toBeUndefined();
    const plain = exchange('gzip');
    const sent = await sendFhirDocument(settings, plain.request, plain.reply, {
      body: new TextEncoder().encode(json),
      versionId: '1',
      location: 'STU3/Appointment/7',
    });
    expect(sent.toString('utf8')).toBe(json);
    expect(plain.headers).toMatchObject({
      etag: 'W/"1"',
      location: 'https://api.example/referrals/FHIR/STU3/Appointment/7',
    });
    expect(plain.headers['content-encoding']).toBeUndefined();
  });
});

describe('businessFunctionOf (the e-RS headers a caller acts under)', () => {
  const request = (headers: Record<string, string | string[]>): FastifyRequest =>
    ({ headers }) as unknown as FastifyRequest;

  it('passes NHSD-eRS-On-Behalf-Of-User-ID as sent, for e-referrals to check', () => {
    expect(
      businessFunctionOf(
        'SERVICE_PROVIDER_CLINICIAN_ADMIN',
        request({ 'nhsd-ers-on-behalf-of-user-id': '021600556514' }),
      ),
    ).toEqual({ businessFunction: 'SERVICE_PROVIDER_CLINICIAN_ADMIN', onBehalfOf: '021600556514' });
  });

  it('leaves out a header not sent, and joins one sent twice (which e-referrals refuses)', () => {
    expect(businessFunctionOf(undefined, request({}))).toEqual({});
    expect(businessFunctionOf('SERVICE_PROVIDER_CLINICIAN', request({}))).toEqual({
      businessFunction: 'SERVICE_PROVIDER_CLINICIAN',
    });
    expect(
      businessFunctionOf(
        'SERVICE_PROVIDER_CLINICIAN_ADMIN',
        request({ 'nhsd-ers-on-behalf-of-user-id': ['021600556514', '021600556515'] }),
      ),
    ).toMatchObject({ onBehalfOf: '021600556514, 021600556515' });
  });
});

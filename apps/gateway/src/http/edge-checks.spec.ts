import { Readable } from 'node:stream';
import type { PlatformError } from '@platform/shared-errors';
import {
  bodyKindOf,
  checkBodyHeaders,
  checkHeaders,
  checkRequestTarget,
  csvBodyStream,
  exceedsDepth,
  parseJsonBody,
  type EdgeLimits,
} from './edge-checks';
import './error-response';

const limits: EdgeLimits = { maxUrlBytes: 8192, maxJsonDepth: 32, jsonBodyBytes: 1024, csvBodyBytes: 4096 };

function refusal(action: () => unknown): { status: number; code: string; diagnostics?: string } {
  try {
    action();
  } catch (error) {
    const platformError = error as PlatformError;
    return { status: platformError.httpStatus, code: platformError.code, diagnostics: platformError.diagnostics };
  }
  throw new Error('expected a refusal');
}

describe('gateway edge checks', () => {
  describe('request target', () => {
    it('accepts ordinary FHIR paths and queries, including encoded UTF-8', () => {
      expect(() =>
        checkRequestTarget('/personal-demographics/FHIR/R4/Patient?family=Sm%C3%AFth&given=Jo+Ann', 8192),
      ).not.toThrow();
    });

    it('refuses NUL in the path or query, encoded or not, with 400', () => {
      expect(refusal(() => checkRequestTarget('/n3/organisations?name=a%00b', 8192))).toMatchObject({
        status: 400,
        code: 'REC_BAD_REQUEST',
        diagnostics: 'The query string holds a NUL character',
      });
      expect(refusal(() => checkRequestTarget('/n3/organisations/A%00', 8192)).status).toBe(400);
      expect(refusal(() => checkRequestTarget('/n3/organisations?name%00=x', 8192)).status).toBe(400);
    });

    it('refuses invalid UTF-8, encoded surrogates, broken escapes and raw non-ASCII with 400', () => {
      for (const url of [
        '/n3/organisations?name=%C3%28',
        '/n3/organisations?name=%ED%A0%80',
        '/n3/organisations?name=%E0%A4%A',
        '/n3/organisations/%FF',
        '/n3/organisations?name=\u00e9',
        '/n3/organisations?name=a b',
      ]) {
        expect(refusal(() => checkRequestTarget(url, 8192))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST' });
      }
    });

    it('refuses a URL over the limit with 414', () => {
      expect(refusal(() => checkRequestTarget(`/n3/organisations?name=${'a'.repeat(300)}`, 256))).toMatchObject({
        status: 414,
        code: 'REC_URI_TOO_LONG',
      });
    });
  });

  it('refuses non-ASCII in the headers it uses, and ignores the others', () => {
    expect(refusal(() => checkHeaders({ 'x-request-id': 'caf\u00e9' }))).toMatchObject({
      status: 400,
      diagnostics: "Header 'x-request-id' must be printable ASCII",
    });
    expect(refusal(() => checkHeaders({ host: '\u00e9.example' })).status).toBe(400);
    expect(() => checkHeaders({ 'user-agent': 'caf\u00e9', authorization: 'Bearer a.b.c' })).not.toThrow();
  });

  describe('body headers per route', () => {
    const json = { 'content-type': 'application/fhir+json', 'content-length': '10' };

    it('knows which routes take JSON, CSV or nothing', () => {
      expect(bodyKindOf('POST', '/n3/organisations/import')).toBe('csv');
      expect(bodyKindOf('POST', '/personal-demographics/FHIR/R4/Patient')).toBe('json');
      expect(bodyKindOf('GET', '/personal-demographics/FHIR/R4/Patient')).toBe('none');
      expect(bodyKindOf('DELETE', '/n3/connections/:id/ip-allocations/:allocationId')).toBe('none');
    });

    it('takes multipart/related on the GP2GP MHS inbound route only, within its own limit (413 above it)', () => {
      expect(bodyKindOf('POST', '/gp2gp/mhs/inbound')).toBe('mhs');
      const mhs = { 'content-type': 'multipart/related; boundary="b"; type="text/xml"', 'content-length': '7000000' };
      expect(() => checkBodyHeaders(mhs, 'mhs', limits, 8 * 1024 * 1024)).not.toThrow();
      expect(
        refusal(() => checkBodyHeaders({ ...mhs, 'content-length': '9000000' }, 'mhs', limits, 8 * 1024 * 1024)).status,
      ).toBe(413);
      expect(refusal(() => checkBodyHeaders(json, 'mhs', limits, 8 * 1024 * 1024)).status).toBe(415);
      expect(refusal(() => checkBodyHeaders(mhs, 'json', limits)).status).toBe(415);
    });

    it('accepts the JSON types with or without a UTF-8 charset', () => {
      for (const type of [
        'application/json',
        'Application/FHIR+JSON; charset=UTF-8',
        'application/json;charset="utf-8"',
      ]) {
        expect(() => checkBodyHeaders({ ...json, 'content-type': type }, 'json', limits)).not.toThrow();
      }
    });

    it('refuses CSV on a JSON route and JSON on the CSV route with 415', () => {
      expect(refusal(() => checkBodyHeaders({ ...json, 'content-type': 'text/csv' }, 'json', limits))).toMatchObject({
        status: 415,
        code: 'REC_UNSUPPORTED_MEDIA_TYPE',
      });
      expect(refusal(() => checkBodyHeaders(json, 'csv', limits)).diagnostics).toMatch(/text\/csv/);
    });

    it('refuses a charset other than UTF-8 and any content coding with 415', () => {
      expect(
        refusal(() => checkBodyHeaders({ ...json, 'content-type': 'application/json; charset=utf-16' }, 'json', limits))
          .status,
      ).toBe(415);
      expect(
        refusal(() => checkBodyHeaders({ ...json, 'content-encoding': 'gzip' }, 'json', limits)).diagnostics,
      ).toMatch(/Content-Encoding 'gzip'/);
      expect(() => checkBodyHeaders({ ...json, 'content-encoding': 'identity' }, 'json', limits)).not.toThrow();
    });

    it('refuses a body where the route takes none, and a declared length over the route limit with 413', () => {
      expect(refusal(() => checkBodyHeaders(json, 'none', limits)).status).toBe(415);
      expect(() => checkBodyHeaders({ 'content-length': '0' }, 'none', limits)).not.toThrow();
      expect(refusal(() => checkBodyHeaders({ ...json, 'content-length': '2048' }, 'json', limits)).status).toBe(413);
      // A route's own limit, under the JSON limit: 600 bytes passes the JSON limit but not a 512-byte route.
      expect(() => checkBodyHeaders({ ...json, 'content-length': '600' }, 'json', limits)).not.toThrow();
      expect(refusal(() => checkBodyHeaders({ ...json, 'content-length': '600' }, 'json', limits, 512)).status).toBe(
        413,
      );
      expect(refusal(() => checkBodyHeaders({ ...json, 'content-length': '2048' }, 'json', limits, 1e9)).status).toBe(
        413,
      );
      expect(() =>
        checkBodyHeaders({ 'content-type': 'text/csv', 'content-length': '2048' }, 'csv', limits),
      ).not.toThrow();
    });
  });

  describe('JSON bodies', () => {
    const body = (text: string | Buffer): Buffer => (Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'));

    it('parses ordinary JSON', () => {
      expect(parseJsonBody(body('{"resourceType":"Patient","name":[{"family":"Smïth"}]}'), 32)).toEqual({
        resourceType: 'Patient',
        name: [{ family: 'Smïth' }],
      });
    });

    it('refuses JSON nested 10,000 deep with 400 before parsing it', () => {
      const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
      expect(refusal(() => parseJsonBody(body(deep), 32))).toMatchObject({
        status: 400,
        diagnostics: 'The request body nests arrays and objects more than 32 deep',
      });
      expect(exceedsDepth(`${'['.repeat(32)}${']'.repeat(32)}`, 32)).toBe(false);
      expect(exceedsDepth(`${'['.repeat(33)}${']'.repeat(33)}`, 32)).toBe(true);
      expect(exceedsDepth(`{"a":"${'['.repeat(100)}"}`, 32)).toBe(false);
      expect(exceedsDepth(`{"a":"\\"${'{'.repeat(100)}"}`, 32)).toBe(false);
    });

    it('refuses NUL, lone surrogates, invalid UTF-8, __proto__ members and empty bodies with 400', () => {
      for (const text of [
        '{"name":"a\\u0000b"}',
        '{"a\\u0000":1}',
        '{"name":"\\ud800"}',
        '{"name":"\\udc00x"}',
        '{"__proto__":{"admin":true}}',
        '',
        '{bad',
      ]) {
        expect(refusal(() => parseJsonBody(body(text), 32))).toMatchObject({ status: 400, code: 'REC_BAD_REQUEST' });
      }
      expect(refusal(() => parseJsonBody(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), 32)).diagnostics).toBe(
        'The request body is not well-formed UTF-8',
      );
      expect(parseJsonBody(body('{"name":"\\ud83d\\ude00"}'), 32)).toEqual({ name: '😀' });
    });

    it('checks a large flat array without running out of stack', () => {
      const wide = JSON.stringify(Array.from({ length: 300_000 }, () => 'x'));
      expect((parseJsonBody(body(wide), 32) as string[]).length).toBe(300_000);
    });
  });

  describe('CSV bodies, checked as they stream', () => {
    async function read(parts: Buffer[], limit = 4096): Promise<Buffer | PlatformError> {
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of csvBodyStream(Readable.from(parts), limit)) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      } catch (error) {
        return error as PlatformError;
      }
    }

    it('passes UTF-8 text through, a character split across chunks included', async () => {
      const text = Buffer.from('"A83008","SURGERY Ä"\n');
      const split = text.indexOf(0xc3) + 1;
      expect(await read([text.subarray(0, split), text.subarray(split)])).toEqual(text);
    });

    it('refuses NUL bytes, invalid or truncated UTF-8 and an empty extract with 400', async () => {
      expect(((await read([Buffer.from('"A83008","SUR\0GERY"\n')])) as PlatformError).diagnostics).toMatch(/NUL/);
      expect(((await read([Buffer.from([0x22, 0xc3, 0x28, 0x22])])) as PlatformError).diagnostics).toMatch(/UTF-8/);
      expect(((await read([Buffer.from([0x22, 0xc3])])) as PlatformError).diagnostics).toMatch(/UTF-8/);
      expect(((await read([])) as PlatformError).diagnostics).toMatch(/empty/);
    });

    it('refuses with 413 as soon as the bytes pass the limit', async () => {
      const refusal = (await read([Buffer.alloc(3000, 0x61), Buffer.alloc(3000, 0x61)])) as PlatformError;
      expect(refusal.httpStatus).toBe(413);
    });
  });
});

import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { e2eState, passwordToken, type E2eState } from './support/platform';
import { sendRaw, type RawRequest, type RawResponse } from './fuzz/raw-http';

/**
 * Issue 10, "bad input never reaches a 500": every route the gateway documents, sent malformed variants
 * that fast-check generates from one fixed seed (bad path parameters, unknown and garbage query
 * parameters, NUL, invalid UTF-8 and huge values, deep JSON, wrong content types and codings, oversized
 * headers and URLs, bad auth schemes, broken framing) with valid tokens. No answer may be a 5xx, every
 * error must be in the platform's format (OperationOutcome on FHIR routes, problem details elsewhere),
 * and every process must still be the one that started, answering /health/live.
 *
 * FUZZ_SEED and FUZZ_PER_ROUTE change the seed and the number of variants per route.
 */

const SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_205);
const PER_ROUTE = Number(process.env['FUZZ_PER_ROUTE'] ?? 64);
const CONCURRENCY = 8;
const FHIR_PATH = /^\/[^/]+\/FHIR\/(R4|STU3)(\/|$|\?)/;

interface Route {
  method: string;
  /** OpenAPI template, /n3/connections/{id}. */
  template: string;
  params: string[];
  queries: string[];
  takesBody: boolean;
}

interface Variant {
  kind: string;
  request: RawRequest;
}

interface Finding {
  kind: string;
  method: string;
  target: string;
  problem: string;
}

const enc = (text: string): string => encodeURIComponent(text);
/** Bytes as %XX: lets a variant carry NUL and invalid UTF-8 in a URL. */
const percentBytes = (bytes: Uint8Array): string =>
  [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`).join('');

/** Values that are wrong in every way a parser can trip over, as they go into a URL (already encoded). */
const urlGarbage: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }).map(enc),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map(enc),
  fc.uint8Array({ minLength: 1, maxLength: 12 }).map(percentBytes),
  fc.constantFrom('%00', 'a%00b', '%FF', '%C3%28', '%ED%A0%80', '%E0%A4%A', '%', '%zz', '..%2F..%2Fetc', '%2e%2e'),
  fc.integer({ min: 101, max: 6000 }).map((length) => 'a'.repeat(length)),
  fc.constantFrom('-1', '0', '1e309', 'NaN', 'null', 'undefined', '[]', '{}', "' OR 1=1 --", '9000000009%00'),
);

/** Header values with what Node lets through (Latin-1 bytes) and what it does not (NUL, control bytes). */
const headerGarbage: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 60 }).filter((value) => !/[\r\n]/.test(value) && value.trim() === value),
  fc
    .uint8Array({ minLength: 1, maxLength: 24 })
    .map((bytes) => Buffer.from(bytes.filter((byte) => byte !== 10 && byte !== 13)).toString('latin1')),
  fc.constantFrom('\u00e9\u00e9', 'a\u0000b', '\u0001', 'W/"999999999999"', '*', 'W/"-1"', '"1"'),
  fc.integer({ min: 200, max: 4000 }).map((length) => 'x'.repeat(length)),
);

function jsonText(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** JSON documents nested beyond any limit, as arrays, objects or both. */
const deepJson: fc.Arbitrary<string> = fc
  .record({ depth: fc.integer({ min: 33, max: 20_000 }), shape: fc.constantFrom('array', 'object', 'mixed') })
  .map(({ depth, shape }) => {
    const open = shape === 'array' ? '[' : shape === 'object' ? '{"a":' : '{"a":[';
    const close = shape === 'array' ? ']' : shape === 'object' ? '}' : ']}';
    return `${open.repeat(shape === 'mixed' ? Math.ceil(depth / 2) : depth)}1${close.repeat(shape === 'mixed' ? Math.ceil(depth / 2) : depth)}`;
  });

/** Bodies: random JSON, JSON with NUL or lone surrogates, not JSON, invalid UTF-8, empty. */
const badBody: fc.Arbitrary<Buffer> = fc.oneof(
  fc.jsonValue({ maxDepth: 6 }).map((value) => Buffer.from(jsonText(value))),
  fc
    .dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }))
    .map((value) => Buffer.from(jsonText(value))),
  fc
    .constantFrom(
      '{"name":"a\\u0000b"}',
      '{"resourceType":"Bundle","x":"\\ud800"}',
      '{"__proto__":{"isAdmin":true}}',
      '{"patches":[{"op":"add","path":"/__proto__/polluted","value":1}]}',
      '{"patches":[{"op":"add","path":"/constructor/prototype/x","value":1}]}',
      '{"resourceType":"Patient","name":[{"family":"=cmd|\' /C calc\'!A0"}]}',
      '{',
      '',
      'null',
      '[]',
      '"\\u0000"',
      '1e999999',
    )
    .map((text) => Buffer.from(text)),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
);

const CONTENT_TYPES = fc.constantFrom(
  'text/csv',
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'application/fhir+json; charset=iso-8859-1',
  'application/json; charset=utf-8',
  'application/fhir+json',
  'application/json-patch+json',
  '',
  'json',
  '*/*',
  'application/json\u0000',
);

const ENCODINGS = fc.constantFrom(
  'gzip',
  'deflate',
  'br',
  'compress',
  'x-unknown',
  'gzip, identity',
  'GZIP',
  'identity',
);

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_whole, name: string) => values[name] ?? 'x');
}

/** A path parameter nobody holds, so that no variant changes data the other end-to-end files rely on. */
const PLAUSIBLE: Record<string, string> = { id: '9999999999', odsCode: 'ZZ9999', allocationId: '0', shortFormId: 'X' };

describe('fuzzing every documented route through the gateway', () => {
  let state: E2eState;
  let port: number;
  const tokens: Record<string, string> = {};

  function tokenFor(template: string): string {
    if (template.startsWith('/n3')) return tokens['registry-admin'] ?? '';
    if (template.startsWith('/fhir-dispensing') || template.startsWith('/eps')) return tokens['pharmacist'] ?? '';
    return tokens['clinician'] ?? '';
  }

  function baseHeaders(route: Route): [string, string][] {
    return [
      ['Authorization', `Bearer ${tokenFor(route.template)}`],
      ['X-Request-ID', randomUUID()],
    ];
  }

  function plausibleTarget(route: Route, query = ''): string {
    return `${fill(route.template, PLAUSIBLE)}${query}`;
  }

  /** Malformed variants of one route: each is wrong in at least one way. */
  function variantsOf(route: Route): fc.Arbitrary<Variant> {
    const jsonHeaders = (extra: [string, string][] = []): [string, string][] => [
      ...baseHeaders(route),
      ['Content-Type', 'application/json'],
      ...extra,
    ];
    const bodyFor = (): Buffer | undefined => (route.takesBody ? Buffer.from('{"fuzz":true}') : undefined);
    const withBody = (request: RawRequest): RawRequest => {
      const body = bodyFor();
      return body ? { ...request, body, headers: [...request.headers, ['Content-Type', 'application/json']] } : request;
    };
    const variants: fc.Arbitrary<Variant>[] = [
      // Bad path parameters.
      ...(route.params.length > 0
        ? [
            fc.tuple(...route.params.map(() => urlGarbage)).map((values): Variant => {
              const filled = Object.fromEntries(route.params.map((name, index) => [name, values[index] ?? '']));
              return {
                kind: 'path-param',
                request: withBody({
                  method: route.method,
                  target: fill(route.template, filled),
                  headers: baseHeaders(route),
                }),
              };
            }),
          ]
        : []),
      // Unknown and garbage query parameters, documented names with garbage values.
      fc
        .array(
          fc.tuple(
            fc.oneof(urlGarbage, route.queries.length > 0 ? fc.constantFrom(...route.queries) : urlGarbage),
            urlGarbage,
          ),
          { minLength: 1, maxLength: 6 },
        )
        .map(
          (pairs): Variant => ({
            kind: 'query',
            request: withBody({
              method: route.method,
              target: plausibleTarget(route, `?${pairs.map(([name, value]) => `${name}=${value}`).join('&')}`),
              headers: baseHeaders(route),
            }),
          }),
        ),
      // Huge URLs (414 below Node's 16 KB header limit, 431 above it).
      fc.integer({ min: 4000, max: 40_000 }).map(
        (length): Variant => ({
          kind: 'huge-url',
          request: {
            method: route.method,
            target: plausibleTarget(route, `?q=${'a'.repeat(length)}`),
            headers: baseHeaders(route),
          },
        }),
      ),
      // Deep JSON, on every route (where the route takes no body it must still be refused cleanly).
      deepJson.map(
        (text): Variant => ({
          kind: 'deep-json',
          request: {
            method: route.method,
            target: plausibleTarget(route),
            headers: jsonHeaders(),
            body: Buffer.from(text),
          },
        }),
      ),
      // Bad bodies with a JSON content type.
      badBody.map(
        (body): Variant => ({
          kind: 'bad-body',
          request: { method: route.method, target: plausibleTarget(route), headers: jsonHeaders(), body },
        }),
      ),
      // Wrong content types (text/csv to a JSON route, charsets, nonsense), with JSON or CSV bytes.
      fc.tuple(CONTENT_TYPES, fc.boolean(), fc.integer({ min: 0, max: 3 })).map(
        ([type, csv, size]): Variant => ({
          kind: 'content-type',
          request: {
            method: route.method,
            target: plausibleTarget(route),
            headers: [...baseHeaders(route), ['Content-Type', type]],
            body: Buffer.from(
              csv ? '"A83008","=cmd|\' /C calc\'!A0"\n'.repeat(1 + size * 2000) : '{"resourceType":"Patient"}',
            ),
          },
        }),
      ),
      // Content codings the gateway does not inflate, on a plain body.
      ENCODINGS.map(
        (encoding): Variant => ({
          kind: 'content-encoding',
          request: {
            method: route.method,
            target: plausibleTarget(route),
            headers: jsonHeaders([['Content-Encoding', encoding]]),
            body: Buffer.from('{"resourceType":"Patient"}'),
          },
        }),
      ),
      // Oversized or many headers.
      fc
        .oneof(
          fc.integer({ min: 8000, max: 40_000 }).map((length): [string, string][] => [['X-Fuzz', 'h'.repeat(length)]]),
          fc
            .integer({ min: 100, max: 1500 })
            .map((count) =>
              Array.from({ length: count }, (_, index): [string, string] => [
                `X-Fuzz-${index}`,
                'value-of-some-length',
              ]),
            ),
        )
        .map(
          (extra): Variant => ({
            kind: 'huge-headers',
            request: withBody({
              method: route.method,
              target: plausibleTarget(route),
              headers: [...baseHeaders(route), ...extra],
            }),
          }),
        ),
      // Authorization schemes and tokens that are wrong, or right in an unusual spelling.
      fc
        .oneof(
          fc.constantFrom(
            `bearer ${tokenFor(route.template)}`,
            `BEARER   ${tokenFor(route.template)}`,
            'Basic dXNlcjpwYXNz',
            'Bearer',
            'Bearer ',
            'Bearer a.b.c',
            `Bearer ${tokenFor(route.template)}x`,
            'Negotiate abc',
            `Bearer ${'e'.repeat(12_000)}.e.e`,
          ),
          headerGarbage.map((value) => `Bearer ${value}`),
          headerGarbage,
        )
        .map(
          (authorization): Variant => ({
            kind: 'auth',
            request: withBody({
              method: route.method,
              target: plausibleTarget(route),
              headers: [
                ['Authorization', authorization],
                ['X-Request-ID', randomUUID()],
              ],
            }),
          }),
        ),
      // The headers the gateway reads, with garbage in them.
      fc
        .tuple(
          fc.constantFrom(
            'X-Request-ID',
            'X-Correlation-ID',
            'NHSD-End-User-Organisation-ODS',
            'If-Match',
            'Content-Length',
          ),
          headerGarbage,
        )
        .map(
          ([name, value]): Variant => ({
            kind: 'headers',
            request: withBody({
              method: route.method,
              target: plausibleTarget(route),
              headers: [...baseHeaders(route).filter(([header]) => header !== name), [name, value]],
            }),
          }),
        ),
      // Framing that contradicts itself, methods the route does not have, paths next to it.
      fc
        .oneof(
          fc.constantFrom<[string, [string, string][]]>(
            ['POST', [['Content-Length', '-1']]],
            ['POST', [['Content-Length', 'abc']]],
            [
              'POST',
              [
                ['Content-Length', '5'],
                ['Transfer-Encoding', 'chunked'],
              ],
            ],
            ['POST', [['Transfer-Encoding', 'gzip, chunked']]],
            [
              'POST',
              [
                ['Content-Length', '5'],
                ['Content-Length', '6'],
              ],
            ],
          ),
          fc
            .constantFrom('PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'FUZZ')
            .map((method): [string, [string, string][]] => [method, []]),
        )
        .map(
          ([method, framing]): Variant => ({
            kind: 'framing',
            request: {
              method,
              target: plausibleTarget(route),
              headers: [...baseHeaders(route), ['Content-Type', 'application/json'], ...framing],
              body: Buffer.from('{"a":1}'),
              rawFraming: framing.length > 0,
            },
          }),
        ),
      urlGarbage.map(
        (suffix): Variant => ({
          kind: 'unknown-path',
          request: withBody({
            method: route.method,
            target: `${plausibleTarget(route)}/${suffix}`,
            headers: baseHeaders(route),
          }),
        }),
      ),
    ];
    return fc.oneof(...variants);
  }

  /** What is wrong with an answer, if anything. */
  function problemWith(request: RawRequest, answer: RawResponse | { error: string }): string | undefined {
    if ('error' in answer) return answer.error;
    if (answer.status >= 500) return `status ${answer.status}: ${answer.body.toString('utf8').slice(0, 300)}`;
    if (answer.status < 400 || request.method === 'HEAD') return undefined;
    const type = answer.headers['content-type'] ?? '';
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return `status ${answer.status} with a body that is not JSON (${type})`;
    }
    if (FHIR_PATH.test(request.target)) {
      if (!type.startsWith('application/fhir+json'))
        return `status ${answer.status} as ${type}, not application/fhir+json`;
      if (body['resourceType'] !== 'OperationOutcome' || !Array.isArray(body['issue'])) {
        return `status ${answer.status} without an OperationOutcome`;
      }
      return undefined;
    }
    if (!type.startsWith('application/problem+json')) return `status ${answer.status} as ${type}, not problem+json`;
    if (body['status'] !== answer.status || typeof body['type'] !== 'string' || typeof body['title'] !== 'string') {
      return `status ${answer.status} without RFC 9457 members`;
    }
    return undefined;
  }

  function serviceHealthUrls(): Record<string, string> {
    const urls: Record<string, string> = { gateway: `${state.gateway}/health/live` };
    for (const name of ['pds', 'n3-registry', 'eps']) {
      const log = path.join(state.logDir, `${name}.log`);
      if (!existsSync(log)) continue;
      const started = readFileSync(log, 'utf8')
        .split('\n')
        .map((line) => /"httpPort":(\d+)/.exec(line)?.[1])
        .find(Boolean);
      if (started) urls[name] = `http://127.0.0.1:${started}/health/live`;
    }
    return urls;
  }

  function alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  function residentMegabytes(pid: number): number {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
  }

  beforeAll(async () => {
    state = e2eState();
    port = Number(new URL(state.gateway).port);
    for (const user of ['clinician', 'pharmacist', 'registry-admin'])
      tokens[user] = await passwordToken(state.issuer, user);
  });

  it('answers every malformed variant of every route without a 5xx, in the platform formats, and nothing restarts', async () => {
    const document = (await (await fetch(`${state.gateway}/docs/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
    };
    const routes: Route[] = Object.entries(document.paths).flatMap(([template, operations]) =>
      Object.entries(operations).map(([method, operation]) => ({
        method: method.toUpperCase(),
        template,
        params: (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        queries: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        takesBody: ['POST', 'PUT', 'PATCH'].includes(method.toUpperCase()),
      })),
    );
    expect(routes.length).toBeGreaterThan(20);

    const pidsBefore = { ...state.pids };
    const gatewayPid = state.pids['gateway'] ?? 0;
    const rssBefore = residentMegabytes(gatewayPid);
    const variants = routes.flatMap((route, index) =>
      fc.sample(variantsOf(route), { seed: SEED + index, numRuns: PER_ROUTE }),
    );

    const started = performance.now();
    const statuses: Record<string, number> = {};
    const findings: Finding[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < variants.length) {
        const variant = variants[next++];
        const answer = await sendRaw(port, variant.request);
        const label = 'error' in answer ? 'none' : `${String(answer.status).charAt(0)}xx`;
        statuses[label] = (statuses[label] ?? 0) + 1;
        const problem = problemWith(variant.request, answer);
        if (problem) {
          findings.push({
            kind: variant.kind,
            method: variant.request.method,
            target: variant.request.target.slice(0, 160),
            problem,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - started) / 1000;

    const health: Record<string, number> = {};
    for (const [name, url] of Object.entries(serviceHealthUrls())) {
      health[name] = await fetch(url)
        .then((response) => response.status)
        .catch(() => 0);
    }
    const gone = Object.entries(pidsBefore)
      .filter(([, pid]) => !alive(pid))
      .map(([name]) => name);
    const rssAfter = residentMegabytes(gatewayPid);
    const fiveHundreds = findings.filter((finding) => finding.problem.startsWith('status 5')).length;
    const byKind: Record<string, number> = {};
    for (const finding of findings) {
      const key = `${finding.kind} ${finding.problem.slice(0, 10)}`;
      byKind[key] = (byKind[key] ?? 0) + 1;
    }

    console.log(
      `fuzz: seed ${SEED}, ${routes.length} routes, ${variants.length} requests in ${seconds.toFixed(1)} s; ` +
        `statuses ${JSON.stringify(statuses)}; 5xx ${fiveHundreds}; findings ${findings.length} ${JSON.stringify(byKind)}; ` +
        `health ${JSON.stringify(health)}; processes gone ${JSON.stringify(gone)}; ` +
        `gateway RSS ${rssBefore} -> ${rssAfter} MB`,
    );
    expect(findings.slice(0, 20)).toEqual([]);
    expect(gone).toEqual([]);
    expect(Object.values(health).every((status) => status === 200)).toBe(true);
    expect(Object.keys(health)).toEqual(expect.arrayContaining(['gateway', 'pds', 'n3-registry', 'eps']));
    // Before issue 10 a handful of 5 MB text/csv bodies took the gateway from 100 MB to over 350 MB.
    expect(rssAfter - rssBefore).toBeLessThan(200);
  }, 120_000);
});

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { documentStream } from './content';

/**
 * A simulator of the GP Connect provider of a practice's clinical system (what the GP2GP sending side calls
 * to get a patient's record), for local runs and tests: NOT a platform service and nothing a deployment runs.
 * It serves, for each demo practice under /{ODS code}/fhir:
 *   POST Patient/$gpc.migratestructuredrecord  a synthetic FHIR STU3 Bundle for an NHS number, whose
 *                                              DocumentReferences point at the documents below
 *   GET  Binary/{id}                           a document's bytes, generated as they are sent (any size,
 *                                              the same bytes every time, Range requests honoured)
 * and, for tests and benchmarks, PUT /_simulator/records/{nhsNumber} to choose a record's documents.
 */

/** The GP practices of the N3 registry's sandbox estate. */
export const DEMO_PRACTICES = ['A83008', 'B81001', 'B82617', 'B83002', 'C81007', 'H81109', 'Y12345'];

export interface SimulatedDocument {
  size: number;
  contentType: string;
  title: string;
}

/** What the simulator serves for one NHS number (set through PUT /_simulator/records/{nhsNumber}). */
export interface SimulatedRecord {
  documents: SimulatedDocument[];
  /** Serve documents no faster than this (a slow practice system), for tests that act mid-transfer. */
  bytesPerSecond?: number;
  /** Practices that do not hold the patient (they answer 404 PATIENT_NOT_FOUND). */
  absentFrom?: string[];
}

export interface GpConnectSimulator {
  url: string;
  port: number;
  /** The GP Connect base address of a practice, as the N3 registry records it. */
  endpointOf(odsCode: string): string;
  close(): Promise<void>;
}

const CONTENT_TYPES = ['application/pdf', 'image/jpeg', 'image/tiff', 'text/plain'];
const MAX_DOCUMENT_BYTES = 4 * 1024 ** 3;
const MAX_DOCUMENTS = 100;

export function isValidNhsNumber(value: string): boolean {
  if (!/^\d{10}$/.test(value)) return false;
  let sum = 0;
  for (let index = 0; index < 9; index += 1) sum += Number(value[index]) * (10 - index);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === Number(value[9]);
}

/** The default record of an NHS number: three documents of 64 KiB to 1 MiB, sizes derived from the number. */
export function defaultRecord(nhsNumber: string): SimulatedRecord {
  const digest = createHash('sha256').update(nhsNumber).digest();
  return {
    documents: [0, 1, 2].map((position) => ({
      size: 64 * 1024 + (digest.readUInt32BE(position * 4) % (960 * 1024)),
      contentType: CONTENT_TYPES[position % CONTENT_TYPES.length],
      title: `Scanned document ${position + 1}`,
    })),
  };
}

/** The seed of a document's bytes: the same document of the same patient is the same bytes at any practice. */
export function documentSeed(nhsNumber: string, position: number, size: number): string {
  return `${nhsNumber}:${position}:${size}`;
}

function outcome(response: ServerResponse, status: number, code: string, diagnostics: string): void {
  const body = JSON.stringify({
    resourceType: 'OperationOutcome',
    meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1'] },
    issue: [
      {
        severity: 'error',
        code: status === 404 ? 'not-found' : 'invalid',
        details: {
          coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1', code, display: code }],
        },
        diagnostics,
      },
    ],
  });
  response.writeHead(status, { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

async function readJson(request: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

function nhsNumberOf(parameters: unknown): string | undefined {
  const list = (parameters as { resourceType?: string; parameter?: unknown[] } | null)?.parameter;
  if ((parameters as { resourceType?: string } | null)?.resourceType !== 'Parameters' || !Array.isArray(list)) return;
  const entry = list.find((item) => (item as { name?: string })?.name === 'patientNHSNumber') as
    | { valueIdentifier?: { value?: unknown } }
    | undefined;
  const value = entry?.valueIdentifier?.value;
  return typeof value === 'string' ? value : undefined;
}

/** The synthetic structured record: patient, practice, two problems, an observation and the documents. */
export function recordBundle(baseUrl: string, odsCode: string, nhsNumber: string, record: SimulatedRecord): object {
  const patientId = `patient-${nhsNumber}`;
  const resources: Record<string, unknown>[] = [
    {
      resourceType: 'Patient',
      id: patientId,
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber }],
      managingOrganization: { reference: `Organization/${odsCode}` },
    },
    {
      resourceType: 'Organization',
      id: odsCode,
      identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: odsCode }],
      name: `GP PRACTICE ${odsCode}`,
    },
    {
      resourceType: 'Condition',
      id: `condition-${nhsNumber}-1`,
      subject: { reference: `Patient/${patientId}` },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '195967001', display: 'Asthma' }] },
      clinicalStatus: 'active',
    },
    {
      resourceType: 'Condition',
      id: `condition-${nhsNumber}-2`,
      subject: { reference: `Patient/${patientId}` },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertensive disorder' }] },
      clinicalStatus: 'active',
    },
    {
      resourceType: 'Observation',
      id: `observation-${nhsNumber}-1`,
      status: 'final',
      subject: { reference: `Patient/${patientId}` },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006', display: 'Systolic blood pressure' }] },
      valueQuantity: { value: 128, unit: 'mm[Hg]' },
    },
    ...record.documents.map((document, position) => ({
      resourceType: 'DocumentReference',
      id: `document-${nhsNumber}-${position}`,
      status: 'current',
      subject: { reference: `Patient/${patientId}` },
      type: { text: document.title },
      content: [
        {
          attachment: {
            contentType: document.contentType,
            url: `${baseUrl}/${odsCode}/fhir/Binary/${nhsNumber}-${position}-${document.size}`,
            size: document.size,
            title: document.title,
          },
        },
      ],
    })),
  ];
  return {
    resourceType: 'Bundle',
    meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-StructuredRecord-Bundle-1'] },
    type: 'collection',
    entry: resources.map((resource) => ({ resource })),
  };
}

/** `bytes=a-b` or `bytes=a-` within a document of `size` bytes; undefined for none, null for unsatisfiable. */
function rangeOf(header: string | undefined, size: number): { start: number; end: number } | null | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d{1,15})-(\d{0,15})$/.exec(header.trim());
  if (!match) return null;
  const start = Number(match[1]);
  const end = match[2] ? Number(match[2]) + 1 : size;
  if (start >= size || end <= start) return null;
  return { start, end: Math.min(end, size) };
}

export async function startGpConnectSimulator(
  options: { port?: number; host?: string; practices?: string[]; publicUrl?: string } = {},
): Promise<GpConnectSimulator> {
  const practices = new Set(options.practices ?? DEMO_PRACTICES);
  const records = new Map<string, SimulatedRecord>();
  const recordOf = (nhsNumber: string): SimulatedRecord => records.get(nhsNumber) ?? defaultRecord(nhsNumber);
  let baseUrl = '';

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://simulator');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] === 'health') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"status":"ok"}');
      return;
    }
    if (parts[0] === '_simulator' && parts[1] === 'records' && parts.length === 3) {
      const nhsNumber = parts[2];
      if (request.method === 'DELETE') {
        records.delete(nhsNumber);
        response.writeHead(204).end();
        return;
      }
      if (request.method !== 'PUT') return outcome(response, 405, 'BAD_REQUEST', 'PUT or DELETE');
      const body = (await readJson(request)) as Partial<SimulatedRecord>;
      const documents = Array.isArray(body.documents) ? body.documents : [];
      const valid =
        documents.length <= MAX_DOCUMENTS &&
        documents.every(
          (document) =>
            Number.isSafeInteger(document?.size) &&
            document.size > 0 &&
            document.size <= MAX_DOCUMENT_BYTES &&
            typeof document.contentType === 'string' &&
            typeof document.title === 'string',
        );
      if (!valid) return outcome(response, 400, 'BAD_REQUEST', 'documents: [{size, contentType, title}]');
      records.set(nhsNumber, {
        documents,
        bytesPerSecond: Number.isFinite(body.bytesPerSecond) ? body.bytesPerSecond : undefined,
        absentFrom: Array.isArray(body.absentFrom) ? body.absentFrom : undefined,
      });
      response.writeHead(204).end();
      return;
    }
    const [odsCode, fhir, ...rest] = parts;
    if (!odsCode || fhir !== 'fhir' || !practices.has(odsCode)) {
      return outcome(response, 404, 'ORGANISATION_NOT_FOUND', 'No GP Connect provider at this address');
    }
    if (request.method === 'POST' && rest.join('/') === 'Patient/$gpc.migratestructuredrecord') {
      let nhsNumber: string | undefined;
      try {
        nhsNumber = nhsNumberOf(await readJson(request));
      } catch {
        return outcome(response, 400, 'BAD_REQUEST', 'The body must be a FHIR Parameters resource');
      }
      if (!nhsNumber) return outcome(response, 422, 'INVALID_PARAMETER', 'patientNHSNumber is required');
      if (!isValidNhsNumber(nhsNumber)) return outcome(response, 400, 'INVALID_NHS_NUMBER', 'Invalid NHS number');
      const record = recordOf(nhsNumber);
      if (record.absentFrom?.includes(odsCode)) {
        return outcome(response, 404, 'PATIENT_NOT_FOUND', 'The patient is not registered at this practice');
      }
      const body = JSON.stringify(recordBundle(baseUrl, odsCode, nhsNumber, record));
      response.writeHead(200, { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
      return;
    }
    if (request.method === 'GET' && rest[0] === 'Binary' && rest.length === 2) {
      const match = /^(\d{10})-(\d{1,3})-(\d{1,12})$/.exec(rest[1]);
      const record = match ? recordOf(match[1]) : undefined;
      const position = Number(match?.[2]);
      const document = record?.documents[position];
      if (!match || !record || !document || document.size !== Number(match[3]) || record.absentFrom?.includes(odsCode))
        return outcome(response, 404, 'NO_RECORD_FOUND', 'No such document');
      const range = rangeOf(request.headers.range, document.size);
      if (range === null) {
        response.writeHead(416, { 'content-range': `bytes */${document.size}` }).end();
        return;
      }
      const { start, end } = range ?? { start: 0, end: document.size };
      response.writeHead(range ? 206 : 200, {
        'content-type': document.contentType,
        'content-length': end - start,
        'accept-ranges': 'bytes',
        ...(range ? { 'content-range': `bytes ${start}-${end - 1}/${document.size}` } : {}),
      });
      const seed = documentSeed(match[1], position, document.size);
      await pipeline(documentStream(seed, start, end, record.bytesPerSecond), response);
      return;
    }
    return outcome(response, 404, 'NOT_FOUND', 'No such operation');
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => {
      // A reader that went away mid-document, or a body that was not JSON.
      if (!response.headersSent) outcome(response, 400, 'BAD_REQUEST', 'The request could not be read');
      else response.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  baseUrl = options.publicUrl ?? `http://${options.host ?? '127.0.0.1'}:${port}`;
  return {
    url: baseUrl,
    port,
    endpointOf: (odsCode) => `${baseUrl}/${odsCode}/fhir`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

import { createHash } from 'node:crypto';
import { documentSha256 } from './content';
import { documentSeed, isValidNhsNumber, startGpConnectSimulator, type GpConnectSimulator } from './simulator';

const NHS_NUMBER = '9000000009';

function parameters(nhsNumber: string): string {
  return JSON.stringify({
    resourceType: 'Parameters',
    parameter: [
      { name: 'patientNHSNumber', valueIdentifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber } },
    ],
  });
}

async function sha256Of(response: Response): Promise<{ sha: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha: hash.digest('hex'), bytes };
}

describe('GP Connect provider simulator (over HTTP)', () => {
  let simulator: GpConnectSimulator;

  beforeAll(async () => {
    simulator = await startGpConnectSimulator({ practices: ['A83008'] });
  });
  afterAll(() => simulator.close());

  const migrate = (nhsNumber: string, ods = 'A83008'): Promise<Response> =>
    fetch(`${simulator.endpointOf(ods)}/Patient/$gpc.migratestructuredrecord`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: parameters(nhsNumber),
    });

  it('answers a structured record Bundle whose DocumentReferences point at its Binary documents', async () => {
    const response = await migrate(NHS_NUMBER);
    expect(response.status).toBe(200);
    const bundle = (await response.json()) as { type: string; entry: { resource: Record<string, unknown> }[] };
    expect(bundle.type).toBe('collection');
    const types = bundle.entry.map((entry) => entry.resource['resourceType']);
    expect(types.filter((type) => type === 'DocumentReference')).toHaveLength(3);
    expect(types).toContain('Patient');
    const again = await (await migrate(NHS_NUMBER)).json();
    expect(again).toEqual(bundle);
  });

  it('streams a document of the size asked for, the same bytes on every read, and honours Range', async () => {
    const size = 3 * 1024 * 1024 + 17;
    const put = await fetch(`${simulator.url}/_simulator/records/${NHS_NUMBER}`, {
      method: 'PUT',
      body: JSON.stringify({ documents: [{ size, contentType: 'application/pdf', title: 'Letter' }] }),
    });
    expect(put.status).toBe(204);
    const bundle = (await (await migrate(NHS_NUMBER)).json()) as {
      entry: { resource: { resourceType: string; content?: { attachment: { url: string; size: number } }[] } }[];
    };
    const attachment = bundle.entry.find((entry) => entry.resource.resourceType === 'DocumentReference')?.resource
      .content?.[0].attachment;
    expect(attachment?.size).toBe(size);
    const first = await fetch(attachment!.url);
    expect(first.headers.get('content-length')).toBe(String(size));
    const whole = await sha256Of(first);
    expect(whole).toEqual({ sha: await documentSha256(documentSeed(NHS_NUMBER, 0, size), size), bytes: size });
    expect((await sha256Of(await fetch(attachment!.url))).sha).toBe(whole.sha);

    const full = Buffer.from(await (await fetch(attachment!.url)).arrayBuffer());
    const ranged = await fetch(attachment!.url, { headers: { range: 'bytes=1000003-' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 1000003-${size - 1}/${size}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(full.subarray(1000003))).toBe(true);
    expect((await fetch(attachment!.url, { headers: { range: `bytes=${size}-` } })).status).toBe(416);
    await fetch(`${simulator.url}/_simulator/records/${NHS_NUMBER}`, { method: 'DELETE' });
  });

  it('refuses an invalid NHS number, an unknown practice and a patient the practice does not hold', async () => {
    expect(isValidNhsNumber('9000000009')).toBe(true);
    expect(isValidNhsNumber('9000000008')).toBe(false);
    expect((await migrate('9000000008')).status).toBe(400);
    expect((await migrate(NHS_NUMBER, 'Z99999')).status).toBe(404);
    await fetch(`${simulator.url}/_simulator/records/9000000017`, {
      method: 'PUT',
      body: JSON.stringify({ documents: [], absentFrom: ['A83008'] }),
    });
    const absent = await migrate('9000000017');
    expect(absent.status).toBe(404);
    expect(JSON.stringify(await absent.json())).toContain('PATIENT_NOT_FOUND');
    expect((await fetch(`${simulator.endpointOf('A83008')}/Binary/9000000009-7-100`)).status).toBe(404);
  });
});

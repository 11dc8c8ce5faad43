import 'reflect-metadata';
import { readdirSync, readFileSync } from 'node:fs';
import { isValidNhsNumber } from '@platform/shared-identifiers';
import { NatsRpcClient, type CallContext, type RawAnswer } from '@platform/shared-nats';
import { referencePath, rejectionOf } from '@platform/shared-testing';
import { PdsClient } from './client';
import { FakePdsClient } from './fake-client';
import { PATIENT_VERSION_HEADER, type GetPatientWireReply, type Patient, type RelatedPerson } from './payloads';
import { PDS_SUBJECTS } from './subjects';
import { stubRpc } from '@platform/testing-services';

const responses = referencePath('pds-ers', 'pds', 'responses');
const publishedPatients = readdirSync(responses)
  .filter((file) => /Patient_\d{10}\.json$/.test(file))
  .map((file) => [file, JSON.parse(readFileSync(`${responses}/${file}`, 'utf8')) as Patient] as const);
const context: CallContext = { requestId: 'r-1' };

describe('the PDS contract against the NHS published examples', () => {
  it('has the three sandbox patients to check against', () => {
    expect(publishedPatients.map(([file]) => file).sort()).toEqual([
      'Minimal_Patient_9000000033.json',
      'Patient_9000000009.json',
      'Sensitive_Patient_9000000025.json',
    ]);
  });

  it.each(publishedPatients)('accepts %s as a GetPatientReply', async (_file, patient) => {
    expect(isValidNhsNumber(patient.id)).toBe(true);
    const versionId = Number(patient.meta.versionId);
    const reply: GetPatientWireReply = { patientJson: JSON.stringify(patient), versionId };
    const { rpc, sent } = stubRpc(reply);
    await expect(new PdsClient(rpc).getPatient({ nhsNumber: patient.id }, context)).resolves.toEqual({
      patient,
      versionId,
    });
    await expect(new PdsClient(rpc).getPatientDocument({ nhsNumber: patient.id }, context)).resolves.toEqual({
      json: reply.patientJson,
      versionId,
    });
    const expected = { subject: PDS_SUBJECTS.patientGet, data: { nhsNumber: patient.id } };
    expect(sent).toEqual([expected, expected]);
  });

  it('accepts the published RelatedPerson bundle entries as a ListRelatedPersonsReply', async () => {
    const bundle = JSON.parse(
      readFileSync(referencePath('pds-ers', 'pds', 'responses', 'RelatedPersonBundle.json'), 'utf8'),
    ) as {
      entry: { resource: RelatedPerson }[];
    };
    const reply = { nhsNumber: '9000000009', relatedPersons: bundle.entry.map((entry) => entry.resource) };
    const { rpc, sent } = stubRpc(reply);
    await expect(new PdsClient(rpc).listRelatedPersons({ nhsNumber: '9000000009' }, context)).resolves.toEqual(reply);
    expect(sent).toEqual([{ subject: PDS_SUBJECTS.relatedPersonList, data: { nhsNumber: '9000000009' } }]);
    const { rpc: bad } = stubRpc({ nhsNumber: '9000000009', relatedPersons: [{ resourceType: 'Patient', id: 'x' }] });
    expect((await rejectionOf(new PdsClient(bad).listRelatedPersons({ nhsNumber: '9000000009' }, context))).code).toBe(
      'REC_SERVER_ERROR',
    );
  });

  it('refuses a reply that is not a Patient', async () => {
    for (const reply of [
      { patientJson: JSON.stringify({ resourceType: 'OperationOutcome' }), versionId: 1 },
      { patientJson: 'not json', versionId: 1 },
      { patientJson: '{not json}', versionId: 1 },
      { patient: { resourceType: 'Patient' }, versionId: 1 },
      { patientJson: '{}', versionId: 'x' },
    ]) {
      const { rpc } = stubRpc(reply);
      const error = await rejectionOf(new PdsClient(rpc).getPatient({ nhsNumber: '9000000009' }, context));
      expect(error.code).toBe('REC_SERVER_ERROR');
    }
  });

  it('reads the raw reply pds sends (the Patient as the message data, its version in a header)', async () => {
    const [, jane] = publishedPatients.find(([file]) => file === 'Patient_9000000009.json')!;
    const json = JSON.stringify(jane);
    const rawRpc = (version: string | undefined, body: string): NatsRpcClient =>
      Object.assign(Object.create(NatsRpcClient.prototype) as NatsRpcClient, {
        requestRaw: (): Promise<RawAnswer> =>
          Promise.resolve({
            raw: true,
            body: new TextEncoder().encode(body),
            header: (name: string) => (name === PATIENT_VERSION_HEADER ? version : undefined),
          }),
      });
    await expect(new PdsClient(rawRpc('2', json)).getPatient({ nhsNumber: '9000000009' }, context)).resolves.toEqual({
      patient: jane,
      versionId: 2,
    });
    await expect(
      new PdsClient(rawRpc('2', json)).getPatientDocument({ nhsNumber: '9000000009' }, context),
    ).resolves.toEqual({ json, versionId: 2 });
    for (const [version, body] of [
      [undefined, json],
      ['x', json],
      ['2', 'not json'],
      ['2', JSON.stringify({ resourceType: 'OperationOutcome' })],
    ] as const) {
      const error = await rejectionOf(
        new PdsClient(rawRpc(version, body)).getPatient({ nhsNumber: '9000000009' }, context),
      );
      expect(error.code).toBe('REC_SERVER_ERROR');
    }
  });

  it('refuses to send a request the contract does not describe', async () => {
    const { rpc, sent } = stubRpc({});
    const request = { nhsNumber: '9000000009', extra: true } as unknown as { nhsNumber: string };
    expect((await rejectionOf(new PdsClient(rpc).getPatient(request, context))).code).toBe('INVALID_VALUE');
    expect(sent).toHaveLength(0);
  });

  it('has a fake client that answers with the same codes as the service', async () => {
    const [, jane] = publishedPatients.find(([file]) => file === 'Patient_9000000009.json')!;
    const fake = new FakePdsClient().withPatient(jane);
    await expect(fake.getPatient({ nhsNumber: '9000000009' }, context)).resolves.toMatchObject({ versionId: 2 });
    expect((await rejectionOf(fake.getPatient({ nhsNumber: '9000000000' }, context))).code).toBe('INVALID_RESOURCE_ID');
    expect((await rejectionOf(fake.getPatient({ nhsNumber: '9111231130' }, context))).code).toBe('RESOURCE_NOT_FOUND');
  });
});

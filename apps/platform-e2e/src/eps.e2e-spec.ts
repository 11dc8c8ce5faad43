import 'reflect-metadata';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { EpsClient, signDigest, withSignature } from '@platform/contracts-eps';
import { PdsClient } from '@platform/contracts-pds';
import { NatsRpcClient, natsEndpointOptions } from '@platform/shared-nats';
import { readFileSync } from 'node:fs';
import { referencePath } from '@platform/shared-testing';
import { freshPrescription, shortFormIdOf, type BundleJson } from '@platform/testing-prescriptions';
import { clientToken, e2eState, passwordToken, type E2eState, gatewaySigner } from './support/platform';

const PRESCRIBER = '555086689106'; // the Practitioner's SDS user ID in the NHS acute nominated example
const ACUTE = 'flow-acute-nominated/1-Prepare-Request-200_OK.json';

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

describe('EPS through the gateway: prescribe, sign, release to one pharmacy', () => {
  let state: E2eState;
  let nats: NatsConnection;
  let clinician: string;
  let pharmacist: string;
  let pharmacySystem: string;
  let nhsNumber: string;
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

  async function post(path: string, token: string, body: unknown, requestId = randomUUID()): Promise<Answer> {
    const response = await fetch(`${state.gateway}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId, 'content-type': 'application/fhir+json' },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  function releaseParameters(pharmacy: string, shortFormId?: string): Record<string, unknown> {
    return {
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'owner',
          resource: {
            resourceType: 'Organization',
            identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: pharmacy }],
          },
        },
        { name: 'status', valueCode: 'accepted' },
        ...(shortFormId
          ? [
              {
                name: 'group-identifier',
                valueIdentifier: { system: 'https://fhir.nhs.uk/Id/prescription-order-number', value: shortFormId },
              },
            ]
          : []),
      ],
    };
  }

  /** $prepare through the gateway, then sign the digest as the prescribing system does, then $process-message. */
  async function prescribe(bundle: BundleJson): Promise<Answer> {
    const prepared = await post('/fhir-prescribing/FHIR/R4/$prepare', clinician, bundle);
    expect(prepared.status).toBe(200);
    const digest =
      (prepared.body['parameter'] as { name: string; valueString: string }[]).find((p) => p.name === 'digest')
        ?.valueString ?? '';
    const signedBundle = withSignature(bundle, signDigest(digest, keys.privateKey, PRESCRIBER), new Date());
    return post('/fhir-prescribing/FHIR/R4/$process-message', clinician, signedBundle);
  }

  beforeAll(async () => {
    state = e2eState();
    nats = await connect(natsEndpointOptions(state.natsUrl));
    const rpc = new NatsRpcClient(nats, { timeoutMs: 5000, signer: gatewaySigner(state) });
    await new EpsClient(rpc).registerPrescriberKey(
      { sdsUserId: PRESCRIBER, publicKeyPem: keys.publicKey },
      // Registering a prescriber's key is for operations staff only.
      { requestId: randomUUID(), caller: { id: 'e2e-ops', roles: ['ops'] } },
    );
    const created = await new PdsClient(rpc).createPatient(
      {
        patient: {
          resourceType: 'Patient',
          name: [{ use: 'usual', family: `Epse2e${Date.now()}`, given: ['Ann'] }],
          gender: 'female',
          birthDate: '1970-01-01',
          address: [{ use: 'home', line: ['1 Street'], postalCode: 'LS1 1AA' }],
        },
      },
      // Signed as the gateway signs a user's statement: pds refuses a create to a statement without a user present.
      {
        requestId: randomUUID(),
        caller: { id: 'e2e', roles: ['clinician'], organisation: 'A83008', accessMode: 'user-restricted' },
      },
    );
    nhsNumber = created.nhsNumber;
    clinician = await passwordToken(state.issuer, 'clinician');
    pharmacist = await passwordToken(state.issuer, 'pharmacist');
    pharmacySystem = await clientToken(state.issuer, 'pharmacy-system');
  });

  afterAll(async () => {
    await nats.close();
  });

  it('creates a signed prescription nominated to FCG72, which the pharmacy system releases, once', async () => {
    const bundle = freshPrescription(ACUTE, { nhsNumber, pharmacy: 'FCG72' });
    const created = await prescribe(bundle);
    expect(created.status).toBe(200);
    expect(created.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(created.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'information' }] });

    let released: string[] = [];
    for (let call = 0; call < 10; call += 1) {
      const answer = await post('/fhir-dispensing/FHIR/R4/Task/$release', pharmacySystem, releaseParameters('FCG72'));
      expect(answer.status).toBe(200);
      const passed = (
        answer.body['parameter'] as { name: string; resource: { total: number; entry?: { resource: BundleJson }[] } }[]
      )[0]?.resource;
      if (!passed || passed.total === 0) {
        expect(JSON.stringify(answer.body)).toContain('NO_MORE_PRESCRIPTIONS');
        break;
      }
      released = released.concat((passed.entry ?? []).map((entry) => shortFormIdOf(entry.resource)));
    }
    expect(released.filter((id) => id === shortFormIdOf(bundle))).toHaveLength(1);

    const track = await fetch(`${state.gateway}/eps/prescriptions/${shortFormIdOf(bundle)}`, {
      headers: { authorization: `Bearer ${clinician}` },
    });
    expect(await track.json()).toMatchObject({ status: '0002', dispenser: 'FCG72' });
  });

  it('releases a prescription by its short-form ID to the pharmacist, and refuses a release for a pharmacy the user does not act for', async () => {
    const bundle = freshPrescription(ACUTE, { nhsNumber, pharmacy: null });
    expect((await prescribe(bundle)).status).toBe(200);
    const first = await post(
      '/fhir-dispensing/FHIR/R4/Task/$release',
      pharmacist,
      releaseParameters('FCG72', shortFormIdOf(bundle)),
    );
    expect(first.status).toBe(200);
    const other = await post(
      '/fhir-dispensing/FHIR/R4/Task/$release',
      pharmacist,
      releaseParameters('VNE51', shortFormIdOf(bundle)),
    );
    expect(other.status).toBe(403);
  });

  it('answers bad input with the NHS codes: a bad check character, a role that may not prescribe, a used ID', async () => {
    const bundle = freshPrescription(ACUTE, { nhsNumber, pharmacy: 'FCG72' });
    const badId = JSON.parse(
      JSON.stringify(bundle).replaceAll(shortFormIdOf(bundle), '24F5DA-A83008-7EFE6A'),
    ) as BundleJson;
    const checksum = await post('/fhir-prescribing/FHIR/R4/$prepare', clinician, badId);
    expect(checksum.status).toBe(400);
    expect(checksum.body).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ details: { coding: [{ code: 'FAILURE_TO_PROCESS_MESSAGE' }] } }],
    });
    expect((await post('/fhir-prescribing/FHIR/R4/$prepare', pharmacist, bundle)).status).toBe(403);
    expect((await prescribe(bundle)).status).toBe(200);
    const again = await prescribe(bundle);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ issue: [{ details: { coding: [{ code: 'DUPLICATE_PRESCRIPTION_ID' }] } }] });
  });

  it('takes a released prescription through a dispense notification and a claim, as the pharmacy system would', async () => {
    const bundle = freshPrescription(ACUTE, { nhsNumber, pharmacy: null });
    expect((await prescribe(bundle)).status).toBe(200);
    const id = shortFormIdOf(bundle);
    expect(
      (await post('/fhir-dispensing/FHIR/R4/Task/$release', pharmacist, releaseParameters('FCG72', id))).status,
    ).toBe(200);
    const aimed = (file: string): unknown =>
      JSON.parse(
        readFileSync(referencePath(`eps-gp2gp/eps/spec/dispensing/${file}`), 'utf8').replaceAll(
          '24F5DA-A83008-7EFE6Z',
          id,
        ),
      ) as unknown;
    const notification = aimed('dispense-notification/acute-primary-example-03-req.json') as {
      identifier: { value: string };
    };
    notification.identifier.value = randomUUID();
    const dispensed = await post('/fhir-dispensing/FHIR/R4/$process-message', pharmacist, notification);
    expect(dispensed.status).toBe(200);
    expect(dispensed.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'information' }] });
    expect(
      (await post('/fhir-dispensing/FHIR/R4/Claim', pharmacist, aimed('claim/acute-primary-example-req.json'))).status,
    ).toBe(200);
    const track = await fetch(`${state.gateway}/eps/prescriptions/${id}`, {
      headers: { authorization: `Bearer ${pharmacist}` },
    });
    expect(await track.json()).toMatchObject({ status: '0008', dispenser: 'FCG72' });
    expect(
      (await post('/fhir-dispensing/FHIR/R4/Claim', clinician, aimed('claim/acute-primary-example-req.json'))).status,
    ).toBe(403);
  });

  it("shows the patient their own prescription with the NHS number their token carries, and not someone else's", async () => {
    const own = freshPrescription(ACUTE, { nhsNumber: '9000000033', pharmacy: 'FCG72' }); // the demo patient's NHS number
    expect((await prescribe(own)).status).toBe(200);
    const other = freshPrescription(ACUTE, { nhsNumber, pharmacy: 'FCG72' });
    expect((await prescribe(other)).status).toBe(200);
    const patient = await passwordToken(state.issuer, 'patient');
    const read = (id: string) =>
      fetch(`${state.gateway}/eps/prescriptions/${id}`, { headers: { authorization: `Bearer ${patient}` } });
    const mine = await read(shortFormIdOf(own));
    expect(mine.status).toBe(200);
    expect(await mine.json()).toMatchObject({ patientNhsNumber: '9000000033', status: '0001' });
    const theirs = await read(shortFormIdOf(other));
    expect(theirs.status).toBe(404);
    expect(theirs.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

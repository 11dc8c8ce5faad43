import 'reflect-metadata';
import { generateKeyPairSync, verify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { operationOutcome } from '@platform/shared-errors';
import { validatePayload, type CallContext, type FieldProblem } from '@platform/shared-nats';
import { referencePath, rejectionOf } from '@platform/shared-testing';
import { EpsClient } from './client';
import { EPS_ERRORS } from './errors';
import { messageEventOf } from './message';
import {
  CreatePrescriptionRequest,
  GetPrescriptionRequest,
  PharmacyRequest,
  PrepareRequest,
  RegisterPrescriberKeyRequest,
  ReleaseRequest,
  ReturnRequest,
  type FhirResource,
} from './payloads';
import { signDigest, signedInfoXml, contentDigest, withSignature } from './sign';
import { EPS_SUBJECTS } from './subjects';
import { stubRpc } from '@platform/testing-services';

const EPS = referencePath('eps-gp2gp', 'eps');
const context: CallContext = { requestId: 'r-1' };

function load(file: string): FhirResource {
  return JSON.parse(readFileSync(path.join(EPS, file), 'utf8')) as FhirResource;
}

/** Every reference file under `dir` whose name matches, as [relative path, resource]. */
function fixtures(dir: string, name: RegExp): [string, FhirResource][] {
  const files = readdirSync(path.join(EPS, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => name.test(path.basename(file)))
    .sort();
  return files.map((file) => [path.join(dir, file), load(path.join(dir, file))]);
}

/** Message Bundles of one event (MessageHeader.eventCoding) from every request file in the reference set. */
function messages(event: string): [string, FhirResource][] {
  return fixtures('.', /Request.*\.json$|-req\.json$/).filter(([, resource]) => messageEventOf(resource) === event);
}

/** The fields a payload is refused for (empty when the contract accepts it). */
async function problems(type: new () => object, payload: object): Promise<string[]> {
  try {
    await validatePayload(type, payload);
    return [];
  } catch (error) {
    const { details } = error as { details?: { errors?: FieldProblem[] } };
    return [...new Set((details?.errors ?? []).map((problem) => problem.field))];
  }
}

const prescriptionOrders = messages('prescription-order');
const prescriptionUpdates = messages('prescription-order-update');
const dispenseNotifications = messages('dispense-notification');
const releases = [
  ...fixtures('spec/dispense', /Release-200_OK\.json$/),
  ...fixtures('spec/dispensing/release', /-req\.json$/),
  ...fixtures('.', /Task-Request-Release-200_OK\.json$/),
];
const returns = fixtures('spec/dispensing/return', /-req\.json$/);
const withdrawals = fixtures('spec/dispensing/withdraw', /-req\.json$/);
const claims = fixtures('.', /-req\.json$|Claim-Request.*\.json$/).filter(
  ([, resource]) => resource.resourceType === 'Claim',
);

describe('the EPS contract against the NHS published examples', () => {
  it('finds the examples of every kind it checks', () => {
    // Counts from the reference set's README: a file lost or renamed fails here rather than checking nothing.
    expect(prescriptionOrders.length).toBeGreaterThanOrEqual(14);
    expect(prescriptionUpdates).toHaveLength(3);
    expect(dispenseNotifications).toHaveLength(9);
    expect(releases).toHaveLength(7);
    expect(returns).toHaveLength(3);
    expect(withdrawals).toHaveLength(3);
    expect(claims).toHaveLength(5);
  });

  describe('payload classes accept the NHS requests', () => {
    it.each(prescriptionOrders)('PrepareRequest and CreatePrescriptionRequest accept %s', async (_file, bundle) => {
      expect(await problems(PrepareRequest, { bundle })).toEqual([]);
      expect(await problems(CreatePrescriptionRequest, { bundle })).toEqual([]);
    });

    it.each([...prescriptionUpdates, ...dispenseNotifications])(
      'CreatePrescriptionRequest (cancel, dispense) accepts %s',
      async (_file, bundle) => {
        expect(await problems(CreatePrescriptionRequest, { bundle })).toEqual([]);
      },
    );

    it.each(releases)('ReleaseRequest accepts %s', async (_file, parameters) => {
      expect(parameters.resourceType).toBe('Parameters');
      expect(await problems(ReleaseRequest, { parameters })).toEqual([]);
    });

    it.each(returns)('ReturnRequest accepts the rejected Task %s', async (_file, task) => {
      expect(task).toMatchObject({ resourceType: 'Task', status: 'rejected' });
      expect(await problems(ReturnRequest, { task })).toEqual([]);
    });

    it.each([...withdrawals, ...claims])('PharmacyRequest accepts %s', async (_file, resource) => {
      expect(await problems(PharmacyRequest, { resource })).toEqual([]);
    });

    it('GetPrescriptionRequest accepts the short-form ID a release names', async () => {
      const release = load('spec/dispense/Patient-Request-Release-200_OK.json') as {
        parameter: { name: string; valueIdentifier?: { value: string } }[];
      };
      const shortFormId = release.parameter.find((p) => p.name === 'group-identifier')?.valueIdentifier?.value;
      expect(shortFormId).toMatch(/^[0-9A-F]{6}-[0-9A-Z]{6}-[0-9A-Z]{5}[0-9A-Z+]$/);
      expect(await problems(GetPrescriptionRequest, { shortFormId: shortFormId! })).toEqual([]);
    });

    it('RegisterPrescriberKeyRequest accepts a prescriber SDS user ID and an SPKI public key', async () => {
      const { publicKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
      expect(
        await problems(RegisterPrescriberKeyRequest, { sdsUserId: '555086689106', publicKeyPem: publicKey }),
      ).toEqual([]);
    });
  });

  describe('payload classes refuse what the contract does not describe, naming the field', () => {
    const [, order] = prescriptionOrders[0];
    it.each([
      ['PrepareRequest without its bundle', PrepareRequest, {}, ['bundle']],
      ['PrepareRequest with the Bundle as JSON text', PrepareRequest, { bundle: JSON.stringify(order) }, ['bundle']],
      [
        'CreatePrescriptionRequest with a list for a bundle',
        CreatePrescriptionRequest,
        { bundle: [order] },
        ['bundle'],
      ],
      [
        'CreatePrescriptionRequest with the Bundle bare',
        CreatePrescriptionRequest,
        order,
        ['bundle', 'resourceType', 'id', 'meta', 'identifier', 'type', 'entry'],
      ],
      [
        'CreatePrescriptionRequest with an extra field',
        CreatePrescriptionRequest,
        { bundle: order, signed: true },
        ['signed'],
      ],
      [
        'ReleaseRequest with the Parameters under another name',
        ReleaseRequest,
        { bundle: order },
        ['parameters', 'bundle'],
      ],
      ['ReturnRequest with a null task', ReturnRequest, { task: null }, ['task']],
      ['PharmacyRequest with the resource as a string', PharmacyRequest, { resource: 'Claim' }, ['resource']],
      ['GetPrescriptionRequest with a number', GetPrescriptionRequest, { shortFormId: 123 }, ['shortFormId']],
      ['GetPrescriptionRequest too long', GetPrescriptionRequest, { shortFormId: 'A'.repeat(33) }, ['shortFormId']],
      [
        'RegisterPrescriberKeyRequest with a name for an SDS user ID',
        RegisterPrescriberKeyRequest,
        { sdsUserId: 'dr-jones', publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' },
        ['sdsUserId'],
      ],
      [
        'RegisterPrescriberKeyRequest with a private key',
        RegisterPrescriberKeyRequest,
        { sdsUserId: '555086689106', publicKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' },
        ['publicKeyPem'],
      ],
    ] as [string, new () => object, object, string[]][])('%s', async (_what, type, payload, fields) => {
      expect((await problems(type, payload)).sort()).toEqual([...fields].sort());
    });
  });

  describe('the typed client', () => {
    it('sends each NHS request on its subject and accepts the NHS answer to it', async () => {
      const client = (reply: unknown) => stubRpc(reply);
      const prepare = load('flow-acute-nominated/1-Prepare-Request-200_OK.json');
      const prepared = load('flow-acute-nominated/1-Prepare-Response-200_OK.json');
      let stub = client(prepared);
      await expect(new EpsClient(stub.rpc).prepare({ bundle: prepare }, context)).resolves.toEqual(prepared);
      expect(stub.sent).toEqual([{ subject: EPS_SUBJECTS.prepare, data: { bundle: prepare } }]);

      const send = load('flow-acute-nominated/1-Process-Request-Send-200_OK.json');
      const outcome = load('flow-acute-nominated/1-Process-Response-Send-200_OK.json');
      const created = { shortFormId: 'A7B86F-A83008-1EE3DN', status: '0001', outcome };
      stub = client(created);
      await expect(new EpsClient(stub.rpc).createPrescription({ bundle: send }, context)).resolves.toEqual(created);
      expect(stub.sent[0]?.subject).toBe(EPS_SUBJECTS.create);

      const cancel = load('flow-acute-nominated/cancellations/2-Process-Request-Cancel-200_OK.json');
      const cancelled = load('flow-acute-nominated/cancellations/2-Process-Response-Cancel-200_OK.json');
      stub = client(cancelled);
      await expect(new EpsClient(stub.rpc).cancel({ bundle: cancel }, context)).resolves.toEqual(cancelled);
      expect(stub.sent[0]?.subject).toBe(EPS_SUBJECTS.cancel);

      const release = load('spec/dispensing/release/acute-primary-example-req.json');
      const released = load('spec/dispensing/release/acute-primary-example-res.json');
      stub = client(released);
      await expect(new EpsClient(stub.rpc).release({ parameters: release }, context)).resolves.toEqual(released);
      expect(stub.sent[0]?.subject).toBe(EPS_SUBJECTS.release);

      const pairs: [keyof EpsClient, string, object, FhirResource][] = [
        [
          'dispense',
          EPS_SUBJECTS.dispense,
          { bundle: load('spec/dispensing/dispense-notification/acute-primary-example-01-req.json') },
          load('spec/dispensing/dispense-notification/acute-primary-example-res.json'),
        ],
        [
          'returnPrescription',
          EPS_SUBJECTS.return,
          { task: load('spec/dispensing/return/acute-primary-example-req.json') },
          load('spec/dispensing/return/acute-primary-example-res.json'),
        ],
        [
          'withdraw',
          EPS_SUBJECTS.withdraw,
          { resource: load('spec/dispensing/withdraw/acute-primary-example-req.json') },
          load('spec/dispensing/withdraw/acute-primary-example-res.json'),
        ],
        [
          'claim',
          EPS_SUBJECTS.claim,
          { resource: load('spec/dispensing/claim/acute-primary-example-req.json') },
          load('spec/dispensing/claim/acute-primary-example-res.json'),
        ],
      ];
      for (const [method, subject, request, answer] of pairs) {
        expect(answer.resourceType).toBe('OperationOutcome');
        stub = client(answer);
        const call = (new EpsClient(stub.rpc)[method] as (r: object, c: CallContext) => Promise<unknown>).bind(
          new EpsClient(stub.rpc),
        );
        await expect(call(request, context)).resolves.toEqual(answer);
        expect(stub.sent).toEqual([{ subject, data: request }]);
      }
    });

    it('refuses an answer of the wrong resource type with REC_SERVER_ERROR', async () => {
      const outcome = load('spec/errors/operation-outcome-success.json');
      const order = load('flow-acute-nominated/1-Prepare-Request-200_OK.json');
      const release = load('spec/dispensing/release/acute-primary-example-req.json');
      const cases: [(client: EpsClient) => Promise<unknown>, unknown][] = [
        [(c) => c.prepare({ bundle: order }, context), outcome],
        [(c) => c.release({ parameters: release }, context), outcome],
        [(c) => c.cancel({ bundle: order }, context), outcome],
        [(c) => c.claim({ resource: release }, context), release],
        [(c) => c.createPrescription({ bundle: order }, context), { status: '0001', outcome }],
        [
          (c) => c.createPrescription({ bundle: order }, context),
          { shortFormId: 'A7B86F-A83008-1EE3DN', outcome: release },
        ],
        [(c) => c.getPrescription({ shortFormId: 'A7B86F-A83008-1EE3DN' }, context), { status: '0001' }],
        [(c) => c.getPrescription({ shortFormId: 'A7B86F-A83008-1EE3DN' }, context), null],
      ];
      for (const [call, reply] of cases) {
        const error = await rejectionOf(call(new EpsClient(stubRpc(reply).rpc)));
        expect(error.code).toBe('REC_SERVER_ERROR');
        expect(error.httpStatus).toBe(500);
      }
    });

    it('refuses to send a request the contract does not describe, and sends nothing', async () => {
      const { rpc, sent } = stubRpc({});
      const error = await rejectionOf(
        new EpsClient(rpc).registerPrescriberKey({ sdsUserId: 'x', publicKeyPem: 'y' }, context),
      );
      expect(error.code).toBe('INVALID_VALUE');
      expect(error.diagnostics).toContain('sdsUserId must be the digits of an SDS user ID');
      expect(error.diagnostics).toContain('publicKeyPem must be a PEM public key (SPKI)');
      await expect(
        new EpsClient(rpc).getPrescription({ shortFormId: 'A7B86F-A83008-1EE3DN', nhsNumber: '1' } as never, context),
      ).rejects.toMatchObject({ code: 'INVALID_VALUE' });
      expect(sent).toHaveLength(0);
    });
  });

  describe('what the contract says about NHS messages and errors', () => {
    it('reads the event of every NHS message Bundle', () => {
      expect(messageEventOf(load('spec/prescribing/prescription-order/eRD-primary-example-req.json'))).toBe(
        'prescription-order',
      );
      expect(messageEventOf(load('spec/prescribing/prescription-order-update/eRD-primary-example-req.json'))).toBe(
        'prescription-order-update',
      );
      expect(messageEventOf(load('spec/errors/task/success.json'))).toBeUndefined();
      expect(messageEventOf({ entry: 'no' })).toBeUndefined();
      expect(messageEventOf(null)).toBeUndefined();
    });

    it.each([
      ['spec/errors/prescription-order-update/R-0008-Cancellation.json', 'R-0008'],
      ['spec/errors/prescription-order-update/R-5000-Cancellation.json', 'R-5000'],
      ['spec/errors/release/with-another-dispenser-error.json', 'PRESCRIPTION_WITH_ANOTHER_DISPENSER'],
      ['errors/1-Process-Response-Send-400_INVALID_CHECKSUM.json', 'FAILURE_TO_PROCESS_MESSAGE'],
      ['spec/errors/example-a-validation-error-missing-field/Response-FhirError.json', 'MISSING_FIELD'],
    ])('builds the OperationOutcome of %s from the error code', (file, code) => {
      const nhs = load(file) as {
        issue: { severity: string; code: string; details: { coding: { code: string }[] } }[];
      };
      const ours = operationOutcome(code);
      const [issue] = ours.issue;
      expect(code in EPS_ERRORS).toBe(true);
      expect(issue).toMatchObject({
        severity: nhs.issue[0].severity,
        code: nhs.issue[0].code,
        details: { coding: [expect.objectContaining({ code: nhs.issue[0].details.coding[0].code })] },
      });
    });

    it('signs what $prepare digests so that the public key verifies it', () => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
      const bundle = load('flow-acute-nominated/1-Prepare-Request-200_OK.json') as Parameters<typeof contentDigest>[0];
      const signedInfo = signedInfoXml(contentDigest(bundle));
      const data = signDigest(Buffer.from(signedInfo).toString('base64'), privateKey, '555086689106');
      const signature = Buffer.from(data, 'base64').toString('utf8');
      const value = /<SignatureValue>([^<]+)<\/SignatureValue>/.exec(signature)?.[1] ?? '';
      expect(verify('sha256', Buffer.from(signedInfo), publicKey, Buffer.from(value, 'base64'))).toBe(true);
      expect(signature).toContain('<KeyName>555086689106</KeyName>');
      // The signature covers the clinical content, not the Provenance it is put in.
      const signed = withSignature(bundle as never, data, new Date('2026-01-01T00:00:00Z'));
      expect(contentDigest(signed)).toBe(contentDigest(bundle));
      expect(() => signDigest(Buffer.from('not signed info').toString('base64'), privateKey, 'x')).toThrow(
        'the digest is not a base64 SignedInfo from $prepare',
      );
    });
  });
});

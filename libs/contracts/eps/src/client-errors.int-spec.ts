// The EPS client's error mapping over a real NATS server: what the service's error filter puts on the bus
// ({code, message, diagnostics} in the reply's `err`) comes back as the typed PlatformError, and anything
// else as a clear REC_* error. The NATS server is this file's own, so no running EPS can answer.
import 'reflect-metadata';
import { errorDefinition } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { rejectionOf } from '@platform/shared-testing';
import { startFailingBus, type FailingBus, type SeenRequest } from '@platform/testing-services';
import { EpsClient } from './client';
import { EPS_ERRORS } from './errors';
import { EPS_SUBJECTS } from './subjects';

const context: CallContext = {
  requestId: 'req-eps-1',
  correlationId: 'corr-eps-1',
  caller: { id: 'u-1', roles: ['pharmacist'], organisation: 'FCG72' },
};

describe('the EPS client over NATS', () => {
  let bus: FailingBus;
  let client: EpsClient;
  const failWith = (subject: string, err: unknown, seen?: SeenRequest[]): Promise<void> =>
    bus.failWith(subject, err, seen);

  beforeAll(async () => {
    bus = await startFailingBus();
    client = new EpsClient(bus.rpc);
  });

  afterEach(async () => {
    await bus.reset();
  });

  afterAll(async () => {
    await bus?.stop();
  });

  const bundle = { resourceType: 'Bundle', entry: [] };
  const calls: [string, string, (c: EpsClient) => Promise<unknown>][] = [
    ['prepare', EPS_SUBJECTS.prepare, (c) => c.prepare({ bundle }, context)],
    ['createPrescription', EPS_SUBJECTS.create, (c) => c.createPrescription({ bundle }, context)],
    ['release', EPS_SUBJECTS.release, (c) => c.release({ parameters: { resourceType: 'Parameters' } }, context)],
    [
      'returnPrescription',
      EPS_SUBJECTS.return,
      (c) => c.returnPrescription({ task: { resourceType: 'Task' } }, context),
    ],
    ['dispense', EPS_SUBJECTS.dispense, (c) => c.dispense({ bundle }, context)],
    ['withdraw', EPS_SUBJECTS.withdraw, (c) => c.withdraw({ resource: { resourceType: 'Task' } }, context)],
    ['claim', EPS_SUBJECTS.claim, (c) => c.claim({ resource: { resourceType: 'Claim' } }, context)],
    ['cancel', EPS_SUBJECTS.cancel, (c) => c.cancel({ bundle }, context)],
    ['getPrescription', EPS_SUBJECTS.get, (c) => c.getPrescription({ shortFormId: 'A7B86F-A83008-1EE3DN' }, context)],
    [
      'registerPrescriberKey',
      EPS_SUBJECTS.registerKey,
      (c) =>
        c.registerPrescriberKey(
          { sdsUserId: '555086689106', publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' },
          context,
        ),
    ],
    ['health', EPS_SUBJECTS.healthCheck, (c) => c.health(context)],
  ];

  it.each(calls)(
    '%s turns a {code, message, diagnostics} reply into that PlatformError, with the call context sent',
    async (_method, subject, call) => {
      const seen: SeenRequest[] = [];
      await failWith(
        subject,
        { code: 'R-0008', message: 'Prescription/item not found', diagnostics: `on ${subject}` },
        seen,
      );
      const error = await rejectionOf(call(client));
      expect(error).toMatchObject({
        name: 'PlatformError',
        code: 'R-0008',
        message: 'Prescription/item not found',
        diagnostics: `on ${subject}`,
        httpStatus: 404,
      });
      expect(seen).toEqual([
        {
          requestId: 'req-eps-1',
          correlationId: 'corr-eps-1',
          roles: 'pharmacist',
          organisation: 'FCG72',
          pattern: subject,
        },
      ]);
    },
  );

  it.each(Object.keys(EPS_ERRORS))('keeps the code %s and its HTTP status', async (code) => {
    await failWith(EPS_SUBJECTS.get, { code, message: `m-${code}`, diagnostics: `d-${code}` });
    const error = await rejectionOf(client.getPrescription({ shortFormId: 'A7B86F-A83008-1EE3DN' }, context));
    expect([error.code, error.message, error.diagnostics, error.httpStatus]).toEqual([
      code,
      `m-${code}`,
      `d-${code}`,
      errorDefinition(code).status,
    ]);
  });

  it('keeps the status and details a service sets on an error', async () => {
    await failWith(EPS_SUBJECTS.release, {
      code: 'PRESCRIPTION_WITH_ANOTHER_DISPENSER',
      message: 'Prescription is with another dispenser',
      status: 409,
      details: { contained: [{ resourceType: 'Organization', id: 'VNE51' }] },
    });
    const error = await rejectionOf(client.release({ parameters: { resourceType: 'Parameters' } }, context));
    expect(error).toMatchObject({
      code: 'PRESCRIPTION_WITH_ANOTHER_DISPENSER',
      httpStatus: 409,
      details: { contained: [{ resourceType: 'Organization', id: 'VNE51' }] },
    });
  });

  it.each([
    ['a code no contract defines', { code: 'PRESCRIPTION_ON_FIRE', message: 'Unknown' }],
    ['a code without a message', { code: 'R-0008' }],
    ['a message without a code', { message: 'Something went wrong' }],
    ['a bare string', 'Internal server error'],
    ['a number', 500],
  ])('answers %s with REC_SERVER_ERROR rather than passing it on', async (_what, err) => {
    await failWith(EPS_SUBJECTS.get, err);
    const error = await rejectionOf(client.getPrescription({ shortFormId: 'A7B86F-A83008-1EE3DN' }, context));
    expect(error).toMatchObject({
      code: 'REC_SERVER_ERROR',
      message: 'The service failed to process the request',
      httpStatus: 500,
    });
  });

  it('answers REC_UNAVAILABLE at once when no EPS is listening, naming the subject', async () => {
    const started = Date.now();
    const error = await rejectionOf(client.getPrescription({ shortFormId: 'A7B86F-A83008-1EE3DN' }, context));
    expect(error).toMatchObject({ code: 'REC_UNAVAILABLE', httpStatus: 503 });
    expect(error.diagnostics).toBe(`No service is answering ${EPS_SUBJECTS.get}`);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('answers REC_GATEWAY_TIMEOUT when EPS does not answer in time', async () => {
    await bus.silent(EPS_SUBJECTS.healthCheck);
    const error = await rejectionOf(client.health(context, 200));
    expect(error).toMatchObject({ code: 'REC_GATEWAY_TIMEOUT', httpStatus: 504 });
  });
});

// The EPS client's error mapping over a real NATS server: what the service's error filter puts on the bus
// ({code, message, diagnostics} in the reply's `err`) comes back as the typed PlatformError, and anything
// else as a clear REC_* error. The NATS server is this file's own, so no running EPS can answer.
import 'reflect-metadata';
import { connect, JSONCodec, type NatsConnection, type Subscription } from 'nats';
import { errorDefinition } from '@platform/shared-errors';
import { HEADER, NatsRpcClient, type CallContext } from '@platform/shared-nats';
import { rejectionOf, startTestNats, type TestNats } from '@platform/shared-testing';
import { EpsClient } from './client';
import { EPS_ERRORS } from './errors';
import { EPS_SUBJECTS } from './subjects';

const codec = JSONCodec<Record<string, unknown>>();
const context: CallContext = {
  requestId: 'req-eps-1',
  correlationId: 'corr-eps-1',
  caller: { id: 'u-1', roles: ['pharmacist'], organisation: 'FCG72' },
};

describe('the EPS client over NATS', () => {
  let nats: TestNats;
  let service: NatsConnection;
  let caller: NatsConnection;
  let client: EpsClient;
  let responders: Subscription[] = [];

  /** Answers every request on `subject` as Nest's NATS transport does, with `err` set. */
  async function failWith(
    subject: string,
    err: unknown,
    seen: Record<string, string | undefined>[] = [],
  ): Promise<void> {
    responders.push(
      service.subscribe(subject, {
        callback: (_error, message) => {
          const packet = codec.decode(message.data);
          seen.push({
            requestId: message.headers?.get(HEADER.requestId),
            correlationId: message.headers?.get(HEADER.correlationId),
            roles: message.headers?.get(HEADER.callerRoles),
            organisation: message.headers?.get(HEADER.callerOrganisation),
            pattern: packet['pattern'] as string,
          });
          message.respond(codec.encode({ id: packet['id'], err, isDisposed: true }));
        },
      }),
    );
    // The subscription is at the server before anything is sent to it.
    await service.flush();
  }

  beforeAll(async () => {
    nats = await startTestNats();
    service = await connect({ servers: nats.url });
    caller = await connect({ servers: nats.url });
    client = new EpsClient(new NatsRpcClient(caller, { timeoutMs: 2000 }));
  });

  afterEach(async () => {
    for (const responder of responders) responder.unsubscribe();
    responders = [];
    await service.flush();
  });

  afterAll(async () => {
    await caller?.close();
    await service?.close();
    await nats?.stop();
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
      const seen: Record<string, string | undefined>[] = [];
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
    responders.push(service.subscribe(EPS_SUBJECTS.healthCheck, { callback: () => undefined }));
    await service.flush();
    const error = await rejectionOf(client.health(context, 200));
    expect(error).toMatchObject({ code: 'REC_GATEWAY_TIMEOUT', httpStatus: 504 });
  });
});

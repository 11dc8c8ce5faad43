import 'reflect-metadata';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { EpsClient } from '@platform/contracts-eps';
import { N3Client } from '@platform/contracts-n3';
import { PdsClient } from '@platform/contracts-pds';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient, type CallContext } from '@platform/shared-nats';
import {
  dropSchema,
  referencePath,
  startServiceUnderTest,
  uniqueName,
  type ServiceUnderTest,
} from '@platform/shared-testing';
import {
  startBuiltService,
  testCallerEnvironment,
  testGatewaySigner,
  type BuiltService,
} from '@platform/testing-services';
import type { BundleJson } from '@platform/testing-prescriptions';
import { EpsConfig } from './config/eps.config';
import { startEps } from './eps';
import type { Bundle } from './shared/fhir';
import { signDigest, withSignature } from '@platform/contracts-eps';

/** EPS for one test file, with the real pds and n3-registry (built, started from dist/) on its NATS server. */
export interface EpsUnderTest extends ServiceUnderTest<INestApplication> {
  eps: EpsClient;
  pds: PdsClient;
  n3: N3Client;
}

export async function startEpsUnderTest(): Promise<EpsUnderTest> {
  const callerEnv = await testCallerEnvironment('eps');
  const running = await startServiceUnderTest('eps_test', ({ natsUrl, databaseUrl, schema }) =>
    startEps(
      loadConfig(EpsConfig, {
        ...callerEnv,
        NATS_URL: natsUrl,
        DATABASE_URL: databaseUrl,
        EPS_DB_SCHEMA: schema,
        EPS_HTTP_PORT: '0',
      }),
      createLogger({ service: 'eps', level: 'silent' }),
    ),
  );
  const pdsSchema = uniqueName('eps_test_pds');
  const n3Schema = uniqueName('eps_test_n3');
  const shared = { NATS_URL: running.natsUrl, DATABASE_URL: running.databaseUrl };
  const others: BuiltService[] = await Promise.all([
    startBuiltService('apps/pds/src/main.js', 'PDS_HTTP_PORT', {
      ...shared,
      PDS_DB_SCHEMA: pdsSchema,
      PDS_SEED: 'sandbox',
    }),
    startBuiltService('apps/n3-registry/src/main.js', 'N3_HTTP_PORT', {
      ...shared,
      N3_DB_SCHEMA: n3Schema,
      N3_SEED: 'sandbox',
    }),
  ]);
  const rpc = new NatsRpcClient(running.connection, { timeoutMs: 10_000, signer: await testGatewaySigner() });
  return {
    ...running,
    eps: new EpsClient(rpc),
    pds: new PdsClient(rpc),
    n3: new N3Client(rpc),
    stop: async () => {
      await Promise.all([running.stop(), ...others.map((service) => service.stop())]);
      await dropSchema(running.databaseUrl, pdsSchema);
      await dropSchema(running.databaseUrl, n3Schema);
    },
  };
}

export const prescriberKeys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

export function clinician(requestId = randomUUID()): CallContext {
  return {
    requestId,
    caller: {
      id: 'clinician-1',
      username: 'clinician',
      roles: ['clinician'],
      organisation: 'A83008',
      // As the gateway signs a user's statement: pds refuses writes to a statement without a user present.
      accessMode: 'user-restricted',
    },
  };
}

/** Operations staff: the only role that may register or rotate a prescriber's signing key. */
export function keyAdministrator(requestId = randomUUID()): CallContext {
  return { requestId, caller: { id: 'ops-1', username: 'ops', roles: ['ops'] } };
}

export function pharmacist(organisation: string, requestId = randomUUID()): CallContext {
  return {
    requestId,
    caller: { id: `pharmacist-${organisation}`, username: 'pharmacist', roles: ['pharmacist'], organisation },
  };
}

/** $prepare, then sign the digest with `privateKey` as a prescribing system does. */
export async function signed(
  eps: EpsClient,
  bundle: BundleJson,
  privateKey = prescriberKeys.privateKey,
): Promise<Bundle> {
  const parameters = (await eps.prepare({ bundle: bundle as Bundle }, clinician())) as {
    parameter: { name: string; valueString: string }[];
  };
  const digest = parameters.parameter.find((parameter) => parameter.name === 'digest')?.valueString ?? '';
  return withSignature(bundle as Bundle, signDigest(digest, privateKey, 'test'), new Date());
}

/** A Task/$release Parameters (the NHS example) for `pharmacy`, nominated or for one prescription. */
export function releaseRequest(pharmacy: string, shortFormId?: string): Record<string, unknown> {
  const template = JSON.parse(
    readFileSync(referencePath('eps-gp2gp/eps/spec/dispense/Nominated-Pharmacy-Request-Release-200_OK.json'), 'utf8'),
  ) as {
    parameter: { name: string; resource?: { identifier?: { value: string }[] } }[];
  };
  const parameter = template.parameter.filter((item) => item.name !== 'group-identifier');
  const owner = parameter.find((item) => item.name === 'owner')?.resource?.identifier?.[0];
  if (owner) owner.value = pharmacy;
  if (shortFormId) {
    parameter.push({
      name: 'group-identifier',
      valueIdentifier: { system: 'https://fhir.nhs.uk/Id/prescription-order-number', value: shortFormId },
    } as never);
  }
  return { ...template, parameter };
}

/** The NHS cancel example (one item of the acute nominated prescription) aimed at a prescription made here. */
export function cancelBundle(prescription: BundleJson, nhsNumber: string): Record<string, unknown> {
  const item = (prescription.entry ?? []).find(
    (entry) => entry.resource?.resourceType === 'MedicationRequest',
  )?.resource;
  const group = item?.['groupIdentifier'] as { value: string; extension: { valueIdentifier: { value: string } }[] };
  const text = readFileSync(
    referencePath('eps-gp2gp/eps/flow-acute-nominated/cancellations/2-Process-Request-Cancel-200_OK.json'),
    'utf8',
  )
    .replaceAll('24F5DA-A83008-7EFE6Z', group.value)
    .replaceAll('20ba5fb5-cb58-462c-923e-22d180b09356', group.extension[0]?.valueIdentifier.value ?? '')
    .replaceAll('"9449304130"', `"${nhsNumber}"`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** An NHS example request about prescription 24F5DA-A83008-7EFE6Z aimed at `shortFormId` instead. */
export function aimedAt(
  file: string,
  shortFormId: string,
  replacements: Record<string, string> = {},
): Record<string, unknown> {
  let text = readFileSync(referencePath(`eps-gp2gp/eps/${file}`), 'utf8').replaceAll(
    '24F5DA-A83008-7EFE6Z',
    shortFormId,
  );
  for (const [from, to] of Object.entries(replacements)) text = text.replaceAll(from, to);
  return JSON.parse(text) as Record<string, unknown>;
}

/** A return Task (the NHS example) for `shortFormId` with `reason`. */
export function returnTask(shortFormId: string, reason = '0003'): Record<string, unknown> {
  const task = JSON.parse(
    readFileSync(referencePath('eps-gp2gp/eps/spec/dispensing/return/acute-primary-example-req.json'), 'utf8'),
  ) as {
    groupIdentifier: { value: string };
    statusReason: { coding: { code: string }[] };
  };
  task.groupIdentifier.value = shortFormId;
  const [coding] = task.statusReason.coding;
  if (coding) coding.code = reason;
  return task as unknown as Record<string, unknown>;
}

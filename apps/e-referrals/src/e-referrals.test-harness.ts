import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import {
  EReferralsClient,
  shortlistParameter,
  type BusinessFunction,
  type FhirResource,
} from '@platform/contracts-ers';
import { N3Client } from '@platform/contracts-n3';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient, type CallContext } from '@platform/shared-nats';
import {
  dropSchema,
  startServiceUnderTest,
  uniqueName,
  type ServiceUnderTest,
  type TestJwks,
} from '@platform/shared-testing';
import {
  gatewayAccessToken,
  startBuiltService,
  testCallerEnvironment,
  testGatewaySigner,
  type BuiltService,
} from '@platform/testing-services';
import { EReferralsConfig } from './config/ers.config';
import { startEReferrals } from './e-referrals';
import { SERVICE_EXTENSIONS } from './directory/service-resource';

/**
 * e-referrals for one integration test file: its own schema (seeded as the sandbox: sample postcodes, the
 * NHS examples' services), its own NATS server, and the real pds and n3-registry (built, started from dist/)
 * with their sandbox data, as it calls them on the caller's behalf.
 */
export interface EReferralsUnderTest extends ServiceUnderTest<INestApplication> {
  /** The typed client, over NATS, as the gateway calls e-referrals. */
  client: EReferralsClient;
}

export async function startEReferralsUnderTest(options: { schemaPrefix: string }): Promise<EReferralsUnderTest> {
  const callerEnv = await testCallerEnvironment('e-referrals');
  const running = await startServiceUnderTest(options.schemaPrefix, ({ natsUrl, databaseUrl, schema }) =>
    startEReferrals(
      loadConfig(EReferralsConfig, {
        ...callerEnv,
        NATS_URL: natsUrl,
        DATABASE_URL: databaseUrl,
        ERS_DB_SCHEMA: schema,
        ERS_HTTP_PORT: '0',
        ERS_SEED: 'sandbox',
        ERS_DB_POOL_SIZE: '12',
      }),
      createLogger({ service: 'e-referrals', level: 'silent' }),
    ),
  );
  const pdsSchema = uniqueName(`${options.schemaPrefix}_pds`);
  const n3Schema = uniqueName(`${options.schemaPrefix}_n3`);
  const shared = { NATS_URL: running.natsUrl, DATABASE_URL: running.databaseUrl };
  const others: BuiltService[] = await Promise.all([
    startBuiltService('apps/pds/src/main.js', 'PDS_HTTP_PORT', {
      ...shared,
      PDS_DB_SCHEMA: pdsSchema,
      PDS_SEED: 'sandbox',
    }),
    startBuiltService('apps/n3-registry/src/main.js', 'N3_HTTP_PORT', { ...shared, N3_DB_SCHEMA: n3Schema }),
  ]);
  // Signs as the gateway does, so the service's own caller checks let the test's requests in.
  const signer = await testGatewaySigner();
  // The organisations the tests act for, registered in the directory as a registry administrator would.
  const n3 = new N3Client(new NatsRpcClient(running.connection, { timeoutMs: 10_000, signer }));
  const admin: CallContext = { requestId: randomUUID(), caller: { id: 'registry-admin', roles: ['registry-admin'] } };
  for (const [odsCode, role] of [
    [PRACTICE, 'gp-practice'],
    [OTHER_PRACTICE, 'gp-practice'],
    [PROVIDER, 'nhs-trust'],
    [OTHER_PROVIDER, 'nhs-trust'],
  ] as const) {
    await n3.upsertOrganisation(
      { odsCode, name: `TEST ${odsCode}`, role, status: 'active', addressLines: [] },
      { ...admin, requestId: randomUUID() },
    );
  }
  return {
    ...running,
    client: new EReferralsClient(new NatsRpcClient(running.connection, { timeoutMs: 10_000, signer })),
    stop: async () => {
      await Promise.all([running.stop(), ...others.map((service) => service.stop())]);
      await dropSchema(running.databaseUrl, pdsSchema);
      await dropSchema(running.databaseUrl, n3Schema);
    },
  };
}

/** The referring practice of the registry's sandbox, and another one. */
export const PRACTICE = 'A83008';
export const OTHER_PRACTICE = 'B81001';
/** The provider of the NHS examples (CICERO-CLINIC), and another trust. */
export const PROVIDER = 'R69';
export const OTHER_PROVIDER = 'RR8';
/** PDS sandbox patients: one alive, one recorded as deceased. */
export const ALIVE_PATIENT = '9000000114';
export const DECEASED_PATIENT = '9000000009';

export interface Caller {
  context: (requestId?: string) => CallContext;
  businessFunction: BusinessFunction;
}

export function referrer(organisation = PRACTICE, id = `gp-${organisation}`): Caller {
  return {
    businessFunction: 'REFERRING_CLINICIAN',
    context: (requestId = randomUUID()) => ({
      requestId,
      caller: { id, username: 'clinician', roles: ['clinician'], organisation },
    }),
  };
}

export function provider(organisation = PROVIDER): Caller {
  return {
    businessFunction: 'SERVICE_PROVIDER_CLINICIAN',
    context: (requestId = randomUUID()) => ({
      requestId,
      caller: {
        id: `hospital-${organisation}`,
        username: 'provider-clinician',
        roles: ['provider-clinician'],
        organisation,
      },
    }),
  };
}

let nextServiceId = 700000 + Math.floor(Math.random() * 200000) * 10;
/** A fresh service id for a test's own service. */
export function newServiceId(): string {
  nextServiceId += 1;
  return String(nextServiceId);
}

/** A HealthcareService as a provider publishes it. */
export function healthcareService(
  id: string,
  options: {
    ods?: string;
    name?: string;
    specialty?: string;
    clinicTypes?: string[];
    postcode?: string;
    waitDays?: number;
    triage?: boolean;
    ageRange?: { low?: number; high?: number };
    gender?: string;
  } = {},
): FhirResource {
  return {
    resourceType: 'HealthcareService',
    id,
    active: true,
    providedBy: {
      identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: options.ods ?? PROVIDER },
    },
    name: options.name ?? `Test Cardiology ${id}`,
    specialty: [
      { coding: [{ system: '_baseUrl_/STU3/CodeSystem/SPECIALTY', code: options.specialty ?? 'CARDIOLOGY' }] },
    ],
    type: (options.clinicTypes ?? ['HEART_FAILURE']).map((code) => ({
      coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ClinicType-1', code }],
    })),
    characteristic: [
      {
        coding: [
          {
            system: 'https://fhir.nhs.uk/CodeSystem/eRS-RequestFlowType',
            code: options.triage ? 'TRIAGE' : 'BOOKABLE',
          },
        ],
      },
      {
        coding: [
          {
            system: 'https://fhir.nhs.uk/CodeSystem/eRS-BookableType',
            code: options.triage ? 'INDIRECTLY_BOOKABLE' : 'DIRECTLY_BOOKABLE',
          },
        ],
      },
    ],
    extension: [
      { url: SERVICE_EXTENSIONS.postcode, valueString: options.postcode ?? 'LS1 2TW' },
      { url: SERVICE_EXTENSIONS.indicativeWait, valueUnsignedInt: options.waitDays ?? 14 },
      ...(options.ageRange
        ? [
            {
              url: SERVICE_EXTENSIONS.ageRange,
              valueRange: {
                ...(options.ageRange.low === undefined ? {} : { low: { value: options.ageRange.low } }),
                ...(options.ageRange.high === undefined ? {} : { high: { value: options.ageRange.high } }),
              },
            },
          ]
        : []),
      ...(options.gender ? [{ url: SERVICE_EXTENSIONS.genderTreated, valueCode: options.gender }] : []),
      {
        url: SERVICE_EXTENSIONS.namedClinician,
        valueReference: {
          identifier: { system: 'http://fhir.nhs.net/Id/sds-user-id', value: '021600556514' },
          display: 'Dr Test',
        },
      },
    ],
  };
}

/** A fresh 12-digit SDS user id, for a clinician only one test names. */
export function newSdsUserId(): string {
  return String(100_000_000_000 + Math.floor(Math.random() * 800_000_000_000));
}

/**
 * `healthcareService` naming `clinician` (an SDS user id, "Dr On Behalf") as its named clinician; `indirect`:
 * bookable, but indirectly (the trust's PAS books it).
 */
export function serviceNaming(
  id: string,
  clinician: string,
  options: { ods?: string; indirect?: boolean } = {},
): FhirResource {
  const resource = healthcareService(id, options.ods ? { ods: options.ods } : {});
  const extension = (resource['extension'] as Record<string, unknown>[]).map((item) =>
    item['url'] === SERVICE_EXTENSIONS.namedClinician
      ? {
          ...item,
          valueReference: {
            identifier: { system: 'http://fhir.nhs.net/Id/sds-user-id', value: clinician },
            display: 'Dr On Behalf',
          },
        }
      : item,
  );
  const characteristic = options.indirect
    ? [
        { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/eRS-RequestFlowType', code: 'BOOKABLE' }] },
        { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/eRS-BookableType', code: 'INDIRECTLY_BOOKABLE' }] },
      ]
    : resource['characteristic'];
  return { ...resource, extension, characteristic };
}

/** A Bundle of one Schedule and `count` hourly slots from tomorrow. */
export function slotsBundle(serviceId: string, count: number, scheduleId = `${serviceId}-s1`): FhirResource {
  const start = Date.now() + 24 * 3600_000;
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        resource: {
          resourceType: 'Schedule',
          id: scheduleId,
          actor: [{ reference: `HealthcareService/${serviceId}` }],
        },
      },
      ...Array.from({ length: count }, (_, index) => ({
        resource: {
          resourceType: 'Slot',
          schedule: { reference: `Schedule/${scheduleId}` },
          status: 'free',
          start: new Date(start + index * 3600_000).toISOString(),
          end: new Date(start + index * 3600_000 + 1800_000).toISOString(),
        },
      })),
    ],
  };
}

/** The A011 Parameters: `patient` referred to `serviceIds`. */
export function createReferralParameters(
  patient: string,
  serviceIds: string[],
  criteria: { priority?: string; specialty?: string; clinicType?: string } = {},
): FhirResource {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'patient', valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: patient } },
      shortlistParameter(serviceIds, {
        priority: criteria.priority ?? 'ROUTINE',
        specialty: criteria.specialty ?? 'CARDIOLOGY',
        ...(criteria.clinicType ? { clinicType: criteria.clinicType } : {}),
        ageAndGenderAppropriate: false,
      }),
    ],
  };
}

/** The A016 Appointment booking `slotId` of `serviceId` for referral `ubrn` at `version`. */
export function booking(
  ubrn: string,
  version: number,
  serviceId: string,
  slotId: string,
  patient = ALIVE_PATIENT,
): FhirResource {
  return {
    resourceType: 'Appointment',
    status: 'booked',
    slot: [{ reference: `Slot/${slotId}` }],
    incomingReferral: [{ reference: `ReferralRequest/${ubrn}/_history/${version}` }],
    participant: [
      { actor: { identifier: { system: 'http://fhir.nhs.net/Id/ers-service', value: serviceId } }, status: 'accepted' },
      { actor: { identifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: patient } }, status: 'accepted' },
    ],
  };
}

/** A referral of ALIVE_PATIENT by `gp` (A011) to `serviceId`, booked into `slotId` (A016): its UBRN. */
export async function bookReferral(
  client: EReferralsClient,
  serviceId: string,
  slotId: string,
  gp: Caller = referrer(),
): Promise<string> {
  const rfn = { businessFunction: gp.businessFunction };
  const created = await client.createReferral(
    { ...rfn, resource: createReferralParameters(ALIVE_PATIENT, [serviceId]) },
    gp.context(),
  );
  const ubrn = created.resource['id'] as string;
  await client.createAppointment({ ...rfn, resource: booking(ubrn, 1, serviceId, slotId) }, gp.context());
  return ubrn;
}

/** The first slot ids of a batch-response Bundle. */
export function slotIdsOf(bundle: FhirResource): string[] {
  return ((bundle['entry'] as { response: { location: string } }[]) ?? [])
    .map((entry) => entry.response.location)
    .filter((location) => location.startsWith('Slot/'))
    .map((location) => location.slice('Slot/'.length));
}

/** The state code of a ReferralRequest. */
export function stateOf(referral: FhirResource): string | undefined {
  const extension = (
    referral['extension'] as { url: string; extension?: { valueCoding?: { code?: string } }[] }[]
  ).find((item) => item.url.endsWith('Extension-eRS-ReferralState-1'));
  return extension?.extension?.[0]?.valueCoding?.code;
}

/** The A008 Parameters asking for the worklist `listType` (REFERRALS_FOR_REVIEW, AWAITING_BOOKING, ...). */
export function worklistParameters(listType: string): FhirResource {
  return {
    resourceType: 'Parameters',
    parameter: [{ name: 'listType', valueCodeableConcept: { coding: [{ code: listType }] } }],
  };
}

/** An answer of the built gateway on an NHS e-RS path. */
export interface ErsAnswer {
  status: number;
  etag: string | null;
  location: string | null;
  /** The X-Request-ID the gateway echoed. */
  requestId: string | null;
  body: FhirResource;
}

/** A user's access token as the identity provider issues it (signed with `jwks`), for one organisation. */
export function organisationToken(
  jwks: TestJwks,
  username: string,
  role: string,
  organisation: string,
): Promise<string> {
  return gatewayAccessToken(jwks, {
    subject: `${username}-${organisation}`,
    username,
    roles: [role],
    organisations: [organisation],
  });
}

/** Who sends an e-RS request: the user's token, the business function and, for a clinician admin, whom for. */
export interface ErsSender {
  token: string;
  businessFunction: string;
  onBehalfOf?: string;
}

/** A request through the built gateway at `base` on the NHS e-RS path, as an e-RS client sends it. */
export async function ersRequest(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  as: ErsSender,
  options: { body?: unknown; ifMatch?: string; requestId?: string } = {},
): Promise<ErsAnswer> {
  const response = await fetch(`${base}/referrals/FHIR/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${as.token}`,
      'x-request-id': options.requestId ?? randomUUID(),
      'nhsd-ers-business-function': as.businessFunction,
      ...(as.onBehalfOf === undefined ? {} : { 'nhsd-ers-on-behalf-of-user-id': as.onBehalfOf }),
      ...(options.ifMatch ? { 'if-match': options.ifMatch } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    etag: response.headers.get('etag'),
    location: response.headers.get('location'),
    requestId: response.headers.get('x-request-id'),
    body: (text ? JSON.parse(text) : {}) as FhirResource,
  };
}

/** The error code of an OperationOutcome answer (its first issue's coding). */
export function issueCode(answer: ErsAnswer): string | undefined {
  return (answer.body['issue'] as { details?: { coding?: { code?: string }[] } }[] | undefined)?.[0]?.details
    ?.coding?.[0]?.code;
}

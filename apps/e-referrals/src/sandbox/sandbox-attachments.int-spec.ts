import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { FhirResource } from '@platform/contracts-ers';
import { startTestJwks, type TestJwks } from '@platform/shared-testing';
import { startBuiltGateway, type BuiltGateway } from '@platform/testing-services';
import {
  ersRequest,
  organisationToken,
  issueCode,
  startEReferralsUnderTest,
  type EReferralsUnderTest,
  type ErsAnswer,
  type ErsSender,
} from '../e-referrals.test-harness';
import { SANDBOX_ADVICE_FILES } from './sandbox-seed';

const ATTACHMENT_TYPE = 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-AttachmentType-1';
const [GUIDANCE_FILE, REVIEW_FILE] = SANDBOX_ADVICE_FILES;

/**
 * The NHS's A027 request example with attachments (convertAdviceAndGuidanceToReferral/requests/WithAttachments.json,
 * NHS e-RS API, MIT licence): the NoAttachments example's parameters with other texts, a guidanceAttachmentFile and
 * a reviewAttachmentFile naming two uploaded files.
 */
const withAttachments = (): FhirResource => ({
  meta: {
    profile: [
      'https://fhir.nhs.uk/STU3/StructureDefinition/eRS-CreateFromCommunicationRequestActionLater-Request-Parameters-1',
    ],
  },
  resourceType: 'Parameters',
  parameter: [
    { name: 'createFrom', valueReference: { reference: 'CommunicationRequest/000000070000/_history/3' } },
    { name: 'guidance', valueString: 'Patient booked into our service. See attachment for best initial medication' },
    {
      name: 'newReferralPriority',
      valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', code: 'ROUTINE' },
    },
    {
      name: 'reviewComments',
      valueString: "Book patient to 'xxx' service to include attached file as referral letter",
    },
    {
      name: 'guidanceAttachmentFile',
      resource: {
        meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-DocumentReference-1'] },
        resourceType: 'DocumentReference',
        type: { coding: [{ system: ATTACHMENT_TYPE, code: 'GUIDANCE_RESPONSE' }] },
        status: 'current',
        indexed: '2021-10-01T14:06:14.915000+00:00',
        description: 'Initial medication',
        content: [{ attachment: { url: 'Binary/badaf6fc-90f4-411d-999f-04ccd79fa166' } }],
      },
    },
    {
      name: 'reviewAttachmentFile',
      resource: {
        meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-DocumentReference-1'] },
        resourceType: 'DocumentReference',
        type: { coding: [{ system: ATTACHMENT_TYPE, code: 'PROVIDER' }] },
        status: 'current',
        indexed: '2021-10-01T14:06:14.919000+00:00',
        description: 'Referral letter',
        content: [{ attachment: { url: 'Binary/38dc19ab-893f-47ca-8db0-2d0a07c0e387' } }],
      },
    },
  ],
});

/**
 * Sandbox mode: the NHS's A027 WithAttachments example. It converts the same request (000000070000 at version 3)
 * as NoAttachments (sandbox.int-spec.ts), so it runs against a store of its own, as the NHS sandbox answers each
 * example from its own file.
 */
describe('e-referrals sandbox: A027 WithAttachments', () => {
  let under: EReferralsUnderTest;
  let jwks: TestJwks;
  let gateway: BuiltGateway;
  let gpToken: string;
  let hospitalToken: string;

  const token = (username: string, role: string, organisation: string): Promise<string> =>
    organisationToken(jwks, username, role, organisation);
  const send = (
    method: 'GET' | 'POST',
    path: string,
    as: ErsSender,
    options: { body?: unknown; requestId?: string } = {},
  ): Promise<ErsAnswer> => ersRequest(gateway.base, method, path, as, options);
  const asGp = (): ErsSender => ({ token: gpToken, businessFunction: 'REFERRING_CLINICIAN' });
  const asHospital = (): ErsSender => ({ token: hospitalToken, businessFunction: 'SERVICE_PROVIDER_CLINICIAN' });

  beforeAll(async () => {
    under = await startEReferralsUnderTest({ schemaPrefix: 'ers_sandbox_files' });
    jwks = await startTestJwks();
    gateway = await startBuiltGateway({ natsUrl: under.natsUrl, jwksUrl: jwks.url });
    gpToken = await token('clinician', 'clinician', 'A83008');
    hospitalToken = await token('provider-clinician', 'provider-clinician', 'R69');
  });

  afterAll(async () => {
    await gateway?.stop();
    await jwks?.stop();
    await under?.stop();
  });

  it("converts 000000070000 with the example's two files, answering them as the NHS's response example lists them; a retry gets the same answer; the referral reads back with them", async () => {
    const requestId = randomUUID();
    const convert = (): Promise<ErsAnswer> =>
      send('POST', 'STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater', asHospital(), {
        body: withAttachments(),
        requestId,
      });
    const converted = await convert();
    expect(converted.status).toBe(201);
    expect(converted.etag).toBe('W/"4"');
    const ubrn = converted.body['id'] as string;
    expect(converted.body).toMatchObject({ resourceType: 'ReferralRequest', meta: { versionId: '4' } });
    // As in the NHS's response example (responses/WithAttachments.json): each file a contained eRS-DocumentReference-1
    // of its eRS-AttachmentType-1, with the description sent, the file's title and Binary url, after the request in
    // supportingInfo.
    const documents = (converted.body['contained'] as FhirResource[]).filter(
      (item) => item.resourceType === 'DocumentReference',
    );
    expect(documents).toMatchObject([
      {
        id: `DocumentReference-${GUIDANCE_FILE.id}`,
        meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-DocumentReference-1'] },
        type: { coding: [{ system: ATTACHMENT_TYPE, code: 'GUIDANCE_RESPONSE', display: 'Guidance Response' }] },
        status: 'current',
        description: 'Initial medication',
        content: [
          {
            attachment: {
              contentType: 'application/pdf',
              url: `Binary/${GUIDANCE_FILE.id}`,
              title: 'InitialMedication.pdf',
            },
          },
        ],
      },
      {
        id: `DocumentReference-${REVIEW_FILE.id}`,
        type: { coding: [{ system: ATTACHMENT_TYPE, code: 'PROVIDER', display: 'Provider' }] },
        description: 'Referral letter',
        content: [{ attachment: { url: `Binary/${REVIEW_FILE.id}`, title: 'ReferralLetter.pdf' } }],
      },
    ]);
    expect(converted.body['supportingInfo']).toEqual([
      { reference: 'CommunicationRequest/000000070000' },
      { reference: `#DocumentReference-${GUIDANCE_FILE.id}` },
      { reference: `#DocumentReference-${REVIEW_FILE.id}` },
    ]);
    const retried = await convert();
    expect([retried.status, retried.body]).toEqual([201, converted.body]);
    const referral = await send('GET', `STU3/ReferralRequest/${ubrn}`, asGp());
    expect(referral.body).toEqual(converted.body);

    // The example again under a new X-Request-ID names a version that is no longer current: 409, nothing more.
    const again = await send(
      'POST',
      'STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater',
      asHospital(),
      {
        body: withAttachments(),
      },
    );
    expect([again.status, issueCode(again)]).toEqual([409, 'RESOURCE_VERSION_MISMATCH']);
  });
});

import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  AdviceClient,
  AttachmentsClient,
  uploadBucket,
  type EReferralsClient,
  type FhirReply,
  type FhirResource,
} from '@platform/contracts-ers';
import { NatsRpcClient } from '@platform/shared-nats';
import { allAtOnce, outcomes, tally } from '@platform/shared-testing';
import { testGatewaySigner } from '@platform/testing-services';
import {
  ALIVE_PATIENT,
  createReferralParameters,
  healthcareService,
  newServiceId,
  OTHER_PROVIDER,
  provider,
  referrer,
  startEReferralsUnderTest,
  type Caller,
  type EReferralsUnderTest,
} from '../e-referrals.test-harness';

const ATTACHMENT_TYPE = 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-AttachmentType-1';
const pdf = (bytes = 600): Buffer => Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(bytes)]);

/** A027 file parameter: an eRS-DocumentReference-1 naming an uploaded file, as the NHS's WithAttachments example. */
function file(
  name: 'reviewAttachmentFile' | 'guidanceAttachmentFile',
  id: string,
  options: { code?: string | null; description?: string; url?: string | null } = {},
): Record<string, unknown> {
  const type =
    options.code === undefined ? (name === 'reviewAttachmentFile' ? 'PROVIDER' : 'GUIDANCE_RESPONSE') : options.code;
  return {
    name,
    resource: {
      meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-DocumentReference-1'] },
      resourceType: 'DocumentReference',
      ...(type === null ? {} : { type: { coding: [{ system: ATTACHMENT_TYPE, code: type }] } }),
      status: 'current',
      indexed: new Date().toISOString(),
      ...(options.description ? { description: options.description } : {}),
      content: [{ attachment: options.url === null ? {} : { url: options.url ?? `Binary/${id}` } }],
    },
  };
}

describe('e-referrals: A027 with the NHS attachment parameters (reviewAttachmentFile, guidanceAttachmentFile)', () => {
  let under: EReferralsUnderTest;
  let client: EReferralsClient;
  let advice: AdviceClient;
  let attachments: AttachmentsClient;
  const gp = referrer();
  const hospital = provider();
  const otherHospital = provider(OTHER_PROVIDER);
  const asGp = { businessFunction: gp.businessFunction };
  const asHospital = { businessFunction: hospital.businessFunction };

  const count = async (sql: string, values: unknown[] = []): Promise<number> =>
    (await under.db.query<{ n: number }>(sql.replace(/\$schema/g, `"${under.schema}"`), values)).rows[0]?.n ?? -1;

  const codeOf = (promise: Promise<unknown>): Promise<string> =>
    promise.then(
      () => 'ok',
      (error: { code?: string }) => error.code ?? 'error',
    );

  /** An A&G request from the GP to a new service of the provider, authorised for conversion: its UBRN. */
  async function create(): Promise<string> {
    const id = newServiceId();
    await client.publishService({ resource: healthcareService(id) }, hospital.context());
    const referral = createReferralParameters(ALIVE_PATIENT, [id]);
    const created = await advice.create(
      {
        ...asGp,
        resource: {
          resourceType: 'Parameters',
          parameter: [
            ...(referral['parameter'] as object[]),
            {
              name: 'providerConversionAuthorisation',
              valueCoding: {
                system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ProviderConversionAuthorisation-1',
                code: 'AUTHORISED_TO_CONVERT',
              },
            },
            { name: 'request', valueString: 'Palpitations, normal ECG: refer or manage here?' },
          ],
        },
      },
      gp.context(),
    );
    return (created.resource['parameter'] as { resource: FhirResource }[])[0]?.resource['id'] as string;
  }

  /** A020 as the gateway does it (the body into the upload bucket, then the request naming it): the file's id. */
  async function upload(
    as: Caller,
    options: { referralId?: string; fileName?: string; data?: Buffer } = {},
  ): Promise<string> {
    const data = options.data ?? pdf();
    const object = `upload-${randomUUID()}`;
    await (await uploadBucket(under.connection)).putBlob({ name: object }, data);
    const reply = await attachments.upload(
      {
        businessFunction: as.businessFunction,
        object,
        fileName: options.fileName ?? `${randomUUID()}.pdf`,
        contentType: 'application/pdf',
        size: data.length,
        ...(options.referralId ? { referralId: options.referralId } : {}),
      },
      as.context(),
    );
    return reply.location?.replace('STU3/Binary/', '') ?? '';
  }

  async function readAll(id: string, as: Caller): Promise<Buffer> {
    const parts: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const part = await attachments.read({ businessFunction: as.businessFunction, id, offset }, as.context());
      const data = Buffer.from(part.data, 'base64');
      parts.push(data);
      offset += data.length;
      if (offset >= part.size || data.length === 0) break;
    }
    return Buffer.concat(parts);
  }

  /** The NHS's NoAttachments body for `ubrn` at `version`, with these file parameters added. */
  const conversion = (ubrn: string, version: number, files: Record<string, unknown>[]): FhirResource => ({
    resourceType: 'Parameters',
    meta: {
      profile: [
        'https://fhir.nhs.uk/STU3/StructureDefinition/eRS-CreateFromCommunicationRequestActionLater-Request-Parameters-1',
      ],
    },
    parameter: [
      { name: 'createFrom', valueReference: { reference: `CommunicationRequest/${ubrn}/_history/${version}` } },
      { name: 'guidance', valueString: 'See the attached plan for the first medication' },
      {
        name: 'newReferralPriority',
        valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', code: 'ROUTINE' },
      },
      { name: 'reviewComments', valueString: 'Book into the arrhythmia clinic; the attached letter is the referral' },
      ...files,
    ],
  });

  const convert = (ubrn: string, files: Record<string, unknown>[], requestId?: string): Promise<FhirReply> =>
    advice.convert({ ...asHospital, id: ubrn, resource: conversion(ubrn, 1, files) }, hospital.context(requestId));

  /** What A027 may have changed: the request, its conversation, a referral, its files and the events. */
  const snapshot = async (ubrn: string): Promise<unknown> => ({
    request: (
      await under.db.query(
        `SELECT version, state, converted_ubrn, updated_at FROM "${under.schema}".advice_request WHERE ubrn = $1`,
        [ubrn],
      )
    ).rows,
    messages: await count('SELECT count(*)::int AS n FROM $schema.advice_message WHERE ubrn = $1', [ubrn]),
    referrals: await count('SELECT count(*)::int AS n FROM $schema.referral WHERE ubrn = $1', [ubrn]),
    files: await count('SELECT count(*)::int AS n FROM $schema.referral_letter WHERE ubrn = $1', [ubrn]),
    // The request's and the referral's events (an upload's event names the UBRN too, with its attachmentId).
    events: await count(
      `SELECT count(*)::int AS n FROM $schema.outbox WHERE payload->>'ubrn' = $1 AND NOT payload ? 'attachmentId'`,
      [ubrn],
    ),
  });

  /** The contained DocumentReferences of a referral, as (type, url, description, title). */
  const documents = (referral: FhirResource): unknown[] =>
    ((referral['contained'] as FhirResource[] | undefined) ?? [])
      .filter((item) => item.resourceType === 'DocumentReference')
      .map((item) => {
        const attachment = (item['content'] as { attachment: Record<string, unknown> }[])[0]?.attachment;
        return {
          type: (item['type'] as { coding: { code: string }[] }).coding[0]?.code,
          url: attachment?.['url'],
          description: item['description'],
          title: attachment?.['title'],
        };
      });

  beforeAll(async () => {
    under = await startEReferralsUnderTest({ schemaPrefix: 'ers_advice_files' });
    client = under.client;
    const rpc = new NatsRpcClient(under.connection, { timeoutMs: 15_000, signer: await testGatewaySigner() });
    advice = new AdviceClient(rpc);
    attachments = new AttachmentsClient(rpc);
  });

  afterAll(async () => {
    await under?.stop();
  });

  it("attaches the provider's files to the referral it creates, typed PROVIDER and GUIDANCE_RESPONSE as the NHS answers; the referrer reads them, the guidance file with the guidance (A025); A012 keeps them", async () => {
    const ubrn = await create();
    const letter = pdf(2000);
    const review = await upload(hospital, { referralId: ubrn, fileName: 'ReferralLetter.pdf', data: letter });
    const guidance = await upload(hospital, { referralId: ubrn, fileName: 'InitialMedication.pdf' });
    const converted = await convert(ubrn, [
      file('guidanceAttachmentFile', guidance, { description: 'Initial medication' }),
      file('reviewAttachmentFile', review, { description: 'Referral letter' }),
    ]);
    expect(converted.versionId).toBe('2');
    expect(converted.resource).toMatchObject({ resourceType: 'ReferralRequest', id: ubrn });
    expect(documents(converted.resource)).toEqual([
      {
        type: 'GUIDANCE_RESPONSE',
        url: `Binary/${guidance}`,
        description: 'Initial medication',
        title: 'InitialMedication.pdf',
      },
      { type: 'PROVIDER', url: `Binary/${review}`, description: 'Referral letter', title: 'ReferralLetter.pdf' },
    ]);
    // The request first, then the files, as the NHS's WithAttachments response lists supportingInfo.
    expect(converted.resource['supportingInfo']).toEqual([
      { reference: `CommunicationRequest/${ubrn}` },
      { reference: `#DocumentReference-${guidance}` },
      { reference: `#DocumentReference-${review}` },
    ]);
    // A005 shows the referral as A027 answered it; the referrer (the GP) reads the provider's files.
    const read = await client.getReferral({ ...asGp, id: ubrn }, gp.context());
    expect(read.resource).toEqual(converted.resource);
    expect((await readAll(review, gp)).equals(letter)).toBe(true);

    // A025: the guidance goes back to the referrer with its file, as the NHS's conversation examples show a message's
    // files (payload contentReference, the DocumentReference included); the review file is the admin team's only.
    const conversation = (await advice.conversation({ ...asGp, id: ubrn }, gp.context())).resource;
    const entries = conversation['entry'] as { resource: FhirResource; search?: { mode: string } }[];
    expect(conversation['total']).toBe(2);
    expect(entries.map((entry) => [entry.resource.resourceType, entry.search?.mode])).toEqual([
      ['Communication', undefined],
      ['Communication', undefined],
      ['DocumentReference', 'include'],
    ]);
    expect(entries[0]?.resource['payload']).toBeUndefined();
    expect(entries[1]?.resource).toMatchObject({
      payload: [{ contentReference: { reference: `DocumentReference/${guidance}` } }],
      note: [{ text: 'See the attached plan for the first medication' }],
    });
    expect(entries[2]?.resource).toMatchObject({
      id: guidance,
      type: { coding: [{ code: 'GUIDANCE_RESPONSE' }] },
      description: 'Initial medication',
      content: [{ attachment: { url: `Binary/${guidance}`, title: 'InitialMedication.pdf' } }],
    });

    // The referrer's A012 replaces its own letters; the provider's files stay on the referral.
    const own = await upload(gp, { referralId: ubrn, fileName: 'gp-letter.pdf' });
    await attachments.maintainLetters(
      {
        ...asGp,
        id: ubrn,
        ifMatch: 'W/"2"',
        resource: {
          resourceType: 'Parameters',
          parameter: [
            {
              name: 'referralLetterFile',
              resource: {
                resourceType: 'DocumentReference',
                type: { coding: [{ system: ATTACHMENT_TYPE, code: 'REFERRER' }] },
                content: [{ attachment: { url: `Binary/${own}` } }],
              },
            },
          ],
        },
      },
      gp.context(),
    );
    const after = await client.getReferral({ ...asGp, id: ubrn }, gp.context());
    expect(
      documents(after.resource)
        .map((item) => (item as { type: string }).type)
        .sort(),
    ).toEqual(['GUIDANCE_RESPONSE', 'PROVIDER', 'REFERRER']);
  });

  it('refuses each bad file with the NHS code before anything is written; the same request then converts with good files', async () => {
    const ubrn = await create();
    const other = await create();
    const review = await upload(hospital, { referralId: ubrn, fileName: 'letter.pdf' });
    const guidance = await upload(hospital, { referralId: ubrn, fileName: 'plan.pdf' });
    const sameName = await upload(hospital, { referralId: ubrn, fileName: 'letter.pdf' });
    const unlinked = await upload(hospital);
    const forOther = await upload(hospital, { referralId: other });
    const fromReferrer = await upload(gp, { referralId: ubrn });
    const before = await snapshot(ubrn);
    const cases: [string, Record<string, unknown>[], string][] = [
      [
        'a review file typed GUIDANCE_RESPONSE',
        [file('reviewAttachmentFile', review, { code: 'GUIDANCE_RESPONSE' })],
        'INAPPROPRIATE_VALUE',
      ],
      [
        'a guidance file typed PROVIDER',
        [file('guidanceAttachmentFile', guidance, { code: 'PROVIDER' })],
        'INAPPROPRIATE_VALUE',
      ],
      ['a file without its type', [file('reviewAttachmentFile', review, { code: null })], 'INAPPROPRIATE_VALUE'],
      [
        'not a DocumentReference',
        [{ name: 'reviewAttachmentFile', resource: { resourceType: 'Binary', id: review } }],
        'INVALID_VALUE',
      ],
      ['no url', [file('reviewAttachmentFile', review, { url: null })], 'MISSING_VALUE'],
      ['a url that is not Binary/{id}', [file('reviewAttachmentFile', review, { url: review })], 'INVALID_VALUE'],
      [
        'one file twice',
        [file('reviewAttachmentFile', review), file('guidanceAttachmentFile', review)],
        'INVALID_VALUE',
      ],
      ['21 files', Array.from({ length: 21 }, () => file('reviewAttachmentFile', randomUUID())), 'TOO_MANY_ITEMS'],
      ['an unknown file', [file('reviewAttachmentFile', randomUUID())], 'REFERENCE_NOT_FOUND'],
      ['a file uploaded without NHSD-eRS-Referral-ID', [file('reviewAttachmentFile', unlinked)], 'INAPPROPRIATE_VALUE'],
      ['a file uploaded for another request', [file('reviewAttachmentFile', forOther)], 'INAPPROPRIATE_VALUE'],
      ["the referrer's file", [file('guidanceAttachmentFile', fromReferrer)], 'INAPPROPRIATE_VALUE'],
      [
        'two files of one name',
        [file('reviewAttachmentFile', review), file('reviewAttachmentFile', sameName)],
        'DUPLICATE_FILENAME',
      ],
      // A good file beside a bad one: nothing of the change is written.
      [
        'a good file and an unknown one',
        [file('reviewAttachmentFile', review), file('guidanceAttachmentFile', randomUUID())],
        'REFERENCE_NOT_FOUND',
      ],
    ];
    const answers: [string, string][] = [];
    for (const [label, files] of cases) answers.push([label, await codeOf(convert(ubrn, files))]);
    expect(answers).toEqual(cases.map(([label, , code]) => [label, code]));
    expect(await snapshot(ubrn)).toEqual(before);

    // Another provider cannot upload for the request (no relationship), so cannot attach to it either.
    expect(await codeOf(upload(otherHospital, { referralId: ubrn }))).toBe('NO_RELATIONSHIP');

    const converted = await convert(ubrn, [
      file('reviewAttachmentFile', review),
      file('guidanceAttachmentFile', guidance),
    ]);
    expect(documents(converted.resource).map((item) => (item as { url: string }).url)).toEqual([
      `Binary/${review}`,
      `Binary/${guidance}`,
    ]);
    expect(await snapshot(ubrn)).toMatchObject({ referrals: 1, files: 2, messages: 2, events: 3 });
  });

  it('30 simultaneous conversions with files, each its own X-Request-ID: one referral with its files once, the rest 409/422/423; 30 retries of one X-Request-ID: one answer', async () => {
    const ubrn = await create();
    const review = await upload(hospital, { referralId: ubrn, fileName: 'letter.pdf' });
    const guidance = await upload(hospital, { referralId: ubrn, fileName: 'plan.pdf' });
    const files = [file('reviewAttachmentFile', review), file('guidanceAttachmentFile', guidance)];
    const results = outcomes(await allAtOnce(30, 30_000, () => convert(ubrn, files)));
    const counts = tally(results, (result) => (typeof result === 'string' ? result : 'converted'));
    expect(counts['converted']).toBe(1);
    const refusals = ['REFERRAL_LOCKED', 'RESOURCE_VERSION_MISMATCH', 'INVALID_REQUEST_STATE'];
    expect(Object.keys(counts).filter((key) => key !== 'converted' && !refusals.includes(key))).toEqual([]);
    expect(await snapshot(ubrn)).toMatchObject({ referrals: 1, files: 2, messages: 2, events: 3 });

    const second = await create();
    const secondReview = await upload(hospital, { referralId: second, fileName: 'letter.pdf' });
    const requestId = randomUUID();
    // One body (a retry sends the same bytes; another body under the X-Request-ID is refused as a reuse).
    const secondFiles = [file('reviewAttachmentFile', secondReview)];
    const same = outcomes(await allAtOnce(30, 30_000, () => convert(second, secondFiles, requestId)));
    const answers = same.filter((result): result is FhirReply => typeof result !== 'string');
    expect(same.filter((result) => typeof result === 'string')).toEqual([]);
    expect(answers).toHaveLength(30);
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(documents(answers[0]?.resource ?? { resourceType: 'none' })).toHaveLength(1);
    expect(await snapshot(second)).toMatchObject({ referrals: 1, files: 1, messages: 2, events: 3 });
  });

  it('A020 takes a request UBRN as NHSD-eRS-Referral-ID for its referrer or provider; A006 lets both parties read the file', async () => {
    const ubrn = await create();
    const data = pdf(900);
    const id = await upload(hospital, { referralId: ubrn, data });
    const [row] = (
      await under.db.query<{ ubrn: string | null; advice_ubrn: string | null }>(
        `SELECT ubrn, advice_ubrn FROM "${under.schema}".attachment WHERE id = $1`,
        [id],
      )
    ).rows;
    expect(row).toEqual({ ubrn: null, advice_ubrn: ubrn });
    expect((await readAll(id, gp)).equals(data)).toBe(true);
    expect(await codeOf(readAll(id, otherHospital))).toBe('FORBIDDEN');
    expect(await codeOf(upload(gp, { referralId: ubrn }))).toBe('ok');
  });
});

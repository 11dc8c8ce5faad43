import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  AttachmentsClient,
  ERS_ATTACHMENT_MAX_BYTES,
  ERS_EVENTS,
  uploadBucket,
  type EReferralsClient,
  type FhirResource,
} from '@platform/contracts-ers';
import { NatsRpcClient, type CallContext } from '@platform/shared-nats';
import { allAtOnce, outcomes, tally } from '@platform/shared-testing';
import { testGatewaySigner } from '@platform/testing-services';
import {
  ALIVE_PATIENT,
  createReferralParameters,
  healthcareService,
  newServiceId,
  OTHER_PRACTICE,
  provider,
  referrer,
  startEReferralsUnderTest,
  type EReferralsUnderTest,
} from '../e-referrals.test-harness';

const pdf = (bytes: number): Buffer => Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(Math.max(0, bytes - 9))]);

describe('e-referrals: A020 upload, A006 read, A012 maintain referral letter', () => {
  let under: EReferralsUnderTest;
  let client: EReferralsClient;
  let attachments: AttachmentsClient;
  const gp = referrer();
  const fn = { businessFunction: gp.businessFunction };

  const count = async (sql: string, values: unknown[] = []): Promise<number> =>
    (await under.db.query<{ n: number }>(sql.replace(/\$schema/g, `"${under.schema}"`), values)).rows[0]?.n ?? -1;

  async function referral(): Promise<string> {
    const id = newServiceId();
    await client.publishService({ resource: healthcareService(id) }, provider().context());
    const created = await client.createReferral(
      { resource: createReferralParameters(ALIVE_PATIENT, [id]), ...fn },
      gp.context(),
    );
    return created.resource['id'] as string;
  }

  /** As the gateway does: the body into the upload bucket, then the request naming it. */
  async function upload(
    data: Buffer,
    options: { fileName?: string; contentType?: string; referralId?: string; context?: CallContext } = {},
  ): Promise<string> {
    const object = `upload-${randomUUID()}`;
    await (await uploadBucket(under.connection)).putBlob({ name: object }, data);
    const reply = await attachments.upload(
      {
        ...fn,
        object,
        fileName: options.fileName ?? 'letter.pdf',
        contentType: options.contentType ?? 'application/pdf',
        size: data.length,
        ...(options.referralId ? { referralId: options.referralId } : {}),
      },
      options.context ?? gp.context(),
    );
    return reply.location?.replace('STU3/Binary/', '') ?? '';
  }

  async function readAll(
    id: string,
    context: CallContext = gp.context(),
    businessFunction = fn.businessFunction,
  ): Promise<Buffer> {
    const parts: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const part = await attachments.read({ businessFunction, id, offset }, context);
      const data = Buffer.from(part.data, 'base64');
      parts.push(data);
      offset += data.length;
      if (offset >= part.size || data.length === 0) break;
    }
    return Buffer.concat(parts);
  }

  const letterParameters = (ids: string[]): FhirResource => ({
    resourceType: 'Parameters',
    meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-MaintainReferralLetter-Parameters-1'] },
    parameter: ids.map((id) => ({
      name: 'referralLetterFile',
      resource: {
        resourceType: 'DocumentReference',
        type: { coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-AttachmentType-1', code: 'REFERRER' }] },
        status: 'current',
        indexed: new Date().toISOString(),
        content: [{ attachment: { url: `Binary/${id}` } }],
      },
    })),
  });

  beforeAll(async () => {
    under = await startEReferralsUnderTest({ schemaPrefix: 'ers_attach' });
    client = under.client;
    attachments = new AttachmentsClient(
      new NatsRpcClient(under.connection, { timeoutMs: 15_000, signer: await testGatewaySigner() }),
    );
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('stores a 1.5 MB PDF for a referral and reads it back whole, part by part; the event and the read are recorded', async () => {
    const ubrn = await referral();
    const data = pdf(1_500_000);
    const id = await upload(data, { referralId: ubrn });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await readAll(id)).equals(data)).toBe(true);
    // The shortlisted provider may read it too; a practice with no part in the referral may not.
    expect((await readAll(id, provider().context(), 'SERVICE_PROVIDER_CLINICIAN')).length).toBe(data.length);
    await expect(attachments.read({ ...fn, id, offset: 0 }, referrer(OTHER_PRACTICE).context())).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(
      await count(
        `SELECT count(*)::int AS n FROM $schema.outbox WHERE subject = $1 AND payload->>'attachmentId' = $2`,
        [ERS_EVENTS.attachmentUploaded, id],
      ),
    ).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM $schema.read_audit WHERE action = $1`, [`A006 ${id}`])).toBe(2);
    expect(
      await count(`SELECT count(*)::int AS n FROM $schema.attachment WHERE id = $1 AND size = $2`, [id, data.length]),
    ).toBe(1);
  });

  it('refuses blocked types, files whose bytes are not their type, and sizes out of range, storing nothing', async () => {
    const before = await count('SELECT count(*)::int AS n FROM $schema.attachment');
    const refused = async (data: Buffer, options: Parameters<typeof upload>[1]): Promise<string> =>
      upload(data, options).then(
        () => 'stored',
        (error: { code?: string }) => error.code ?? 'error',
      );
    expect(
      await refused(Buffer.from('MZ\x90\x00'), { fileName: 'tool.exe', contentType: 'application/x-msdownload' }),
    ).toBe('REC_UNSUPPORTED_MEDIA_TYPE');
    expect(await refused(pdf(100), { fileName: 'tool.exe', contentType: 'application/pdf' })).toBe(
      'REC_UNSUPPORTED_MEDIA_TYPE',
    );
    expect(await refused(Buffer.from('MZ\x90\x00 a program'), { fileName: 'letter.pdf' })).toBe(
      'REC_UNSUPPORTED_MEDIA_TYPE',
    );
    expect(
      await refused(Buffer.from('PK\x03\x04 not a word file'), {
        fileName: 'a.docx',
        contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      }),
    ).toBe('REC_UNSUPPORTED_MEDIA_TYPE');
    expect(await refused(pdf(100), { fileName: 'scan.png' })).toBe('CONFLICTING_VALUES');
    expect(await refused(pdf(ERS_ATTACHMENT_MAX_BYTES + 1), {})).toBe('FILE_SIZE_ERROR');
    expect(await refused(Buffer.alloc(0), { fileName: 'empty.txt', contentType: 'text/plain' })).toBe(
      'FILE_SIZE_ERROR',
    );
    expect(await refused(pdf(100), { referralId: '12345' })).toBe('INVALID_VALUE');
    expect(await count('SELECT count(*)::int AS n FROM $schema.attachment')).toBe(before);
    // Exactly 5 MB of plain text is accepted.
    expect(
      await refused(Buffer.alloc(ERS_ATTACHMENT_MAX_BYTES, 'a'), { fileName: 'notes.txt', contentType: 'text/plain' }),
    ).toBe('stored');
  });

  it('30 simultaneous uploads are each stored once; 20 retries of one X-Request-ID store one file', async () => {
    const ubrn = await referral();
    const ids = outcomes(await allAtOnce(30, 25_000, () => upload(pdf(20_000), { referralId: ubrn })));
    expect(new Set(ids).size).toBe(30);
    expect(ids.every((id) => /^[0-9a-f-]{36}$/.test(String(id)))).toBe(true);
    expect(await count('SELECT count(*)::int AS n FROM $schema.attachment WHERE ubrn = $1', [ubrn])).toBe(30);

    const data = pdf(30_000);
    const requestId = randomUUID();
    const same = outcomes(
      await allAtOnce(20, 25_000, () => upload(data, { referralId: ubrn, context: gp.context(requestId) })),
    );
    const stored = same.filter((result) => /^[0-9a-f-]{36}$/.test(String(result)));
    expect(new Set(stored).size).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM $schema.attachment WHERE ubrn = $1', [ubrn])).toBe(31);
  });

  it('A012 replaces the referral letter set as a versioned change; stale, foreign and unlinked files are refused', async () => {
    const ubrn = await referral();
    const a = await upload(pdf(1000), { referralId: ubrn });
    const b = await upload(pdf(1000), { referralId: ubrn });
    const unlinked = await upload(pdf(1000));
    const changed = await attachments.maintainLetters(
      { ...fn, id: ubrn, ifMatch: 'W/"1"', resource: letterParameters([a, b]) },
      gp.context(),
    );
    expect(changed.versionId).toBe('2');
    expect(await count('SELECT count(*)::int AS n FROM $schema.referral_letter WHERE ubrn = $1', [ubrn])).toBe(2);
    // A005 lists the letters as the NHS example does: contained DocumentReferences named by supportingInfo.
    const read = await client.getReferral({ ...fn, id: ubrn }, gp.context());
    const documents = (read.resource['contained'] as FhirResource[]).filter(
      (item) => item.resourceType === 'DocumentReference',
    );
    expect(read.resource['supportingInfo']).toEqual([
      { reference: `#DocumentReference-${a}` },
      { reference: `#DocumentReference-${b}` },
    ]);
    expect(documents[0]).toMatchObject({
      id: `DocumentReference-${a}`,
      meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-DocumentReference-1'] },
      type: { coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-AttachmentType-1', code: 'REFERRER' }] },
      status: 'current',
      content: [{ attachment: { id: a, url: `Binary/${a}`, contentType: 'application/pdf', size: 1000 } }],
    });
    // The version before the letters reads as it was.
    const before = await client.getReferral({ ...fn, id: ubrn, version: '1' }, gp.context());
    expect(before.resource['supportingInfo']).toEqual([]);
    await attachments.maintainLetters(
      { ...fn, id: ubrn, ifMatch: 'W/"2"', resource: letterParameters([b]) },
      gp.context(),
    );
    expect(
      (await under.db.query(`SELECT attachment_id FROM "${under.schema}".referral_letter WHERE ubrn = $1`, [ubrn]))
        .rows,
    ).toEqual([{ attachment_id: b }]);
    const refusal = (ifMatch: string, ids: string[], context = gp.context()): Promise<string> =>
      attachments.maintainLetters({ ...fn, id: ubrn, ifMatch, resource: letterParameters(ids) }, context).then(
        () => 'changed',
        (error: { code?: string }) => error.code ?? 'error',
      );
    expect(await refusal('W/"1"', [a])).toBe('RESOURCE_VERSION_MISMATCH');
    expect(await refusal('W/"3"', [unlinked])).toBe('INAPPROPRIATE_VALUE');
    expect(await refusal('W/"3"', [])).toBe('MISSING_VALUE');
    expect(await refusal('W/"3"', [a, a])).toBe('INVALID_VALUE');
    expect(await refusal('W/"3"', [a], referrer(OTHER_PRACTICE).context())).toBe('NO_RELATIONSHIP');
    expect(await count(`SELECT count(*)::int AS n FROM $schema.referral WHERE ubrn = $1 AND version = 3`, [ubrn])).toBe(
      1,
    );

    // 20 callers change the same version at once: one wins, the others are told the referral moved or is locked.
    const results = outcomes(
      await allAtOnce(20, 25_000, (index) =>
        attachments.maintainLetters(
          { ...fn, id: ubrn, ifMatch: 'W/"3"', resource: letterParameters(index % 2 ? [a] : [a, b]) },
          gp.context(),
        ),
      ),
    );
    const counts = tally(results, (result) => (typeof result === 'string' ? result : 'changed'));
    expect(counts['changed']).toBe(1);
    expect((counts['REFERRAL_LOCKED'] ?? 0) + (counts['RESOURCE_VERSION_MISMATCH'] ?? 0)).toBe(19);
    expect(
      await count(`SELECT count(*)::int AS n FROM $schema.outbox WHERE subject = $1 AND payload->>'ubrn' = $2`, [
        ERS_EVENTS.referralLettersChanged,
        ubrn,
      ]),
    ).toBe(3);
  });
});

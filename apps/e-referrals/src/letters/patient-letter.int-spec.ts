import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { PatientLettersClient, type EReferralsClient } from '@platform/contracts-ers';
import { NatsRpcClient } from '@platform/shared-nats';
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
import { pdfText } from './pdf-text';

const BOOKING_URL = 'https://platform.example/referrals/patient';

describe('e-referrals: A019 the patient letter (PDF)', () => {
  let under: EReferralsUnderTest;
  let client: EReferralsClient;
  let letters: PatientLettersClient;
  const gp = referrer();
  const fn = { businessFunction: gp.businessFunction };

  async function referral(patient: string): Promise<{ ubrn: string; serviceName: string }> {
    const id = newServiceId();
    const serviceName = `Letter Cardiology ${id}`;
    await client.publishService(
      { resource: healthcareService(id, { name: serviceName, waitDays: 28 }) },
      provider().context(),
    );
    const created = await client.createReferral(
      { resource: createReferralParameters(patient, [id]), ...fn },
      gp.context(),
    );
    return { ubrn: created.resource['id'] as string, serviceName };
  }

  beforeAll(async () => {
    under = await startEReferralsUnderTest({ schemaPrefix: 'ers_letter' });
    client = under.client;
    letters = new PatientLettersClient(
      new NatsRpcClient(under.connection, { timeoutMs: 10_000, signer: await testGatewaySigner() }),
    );
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('is a valid PDF with the booking reference, password, services and how to book', async () => {
    const { ubrn, serviceName } = await referral(ALIVE_PATIENT);
    const [row] = (
      await under.db.query<{ access_code: string }>(
        `SELECT access_code FROM "${under.schema}".referral WHERE ubrn = $1`,
        [ubrn],
      )
    ).rows;
    const reply = await letters.patientLetter({ id: ubrn, bookingUrl: BOOKING_URL, ...fn }, gp.context());
    const pdf = Buffer.from(reply.pdf, 'base64');
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
    expect(pdf.toString('latin1')).toMatch(/\/Type \/Catalog/);
    const text = pdfText(pdf);
    expect(text).toContain(`Booking reference number: ${ubrn.replace(/(.{4})(?=.)/g, '$1 ')}`);
    expect(text).toContain(`Password: ${row?.access_code}`);
    expect(text).toContain(serviceName);
    expect(text).toContain(BOOKING_URL);
    const audited = await under.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${under.schema}".read_audit WHERE ubrn = $1 AND action = 'A019'`,
      [ubrn],
    );
    expect(audited.rows[0]?.n).toBe(1);
  });

  it('only for the referring organisation; a bad or unknown UBRN gets its code', async () => {
    const { ubrn } = await referral(ALIVE_PATIENT);
    const other = referrer(OTHER_PRACTICE);
    await expect(
      letters.patientLetter({ id: ubrn, bookingUrl: BOOKING_URL, ...fn }, other.context()),
    ).rejects.toMatchObject({ code: 'NO_RELATIONSHIP' });
    await expect(
      letters.patientLetter({ id: '000000000001', bookingUrl: BOOKING_URL, ...fn }, gp.context()),
    ).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
    await expect(
      letters.patientLetter({ id: 'abc', bookingUrl: BOOKING_URL, ...fn }, gp.context()),
    ).rejects.toMatchObject({ code: 'INVALID_VALUE' });
    // A provider clinician is not on the referring side.
    await expect(
      letters.patientLetter(
        { id: ubrn, bookingUrl: BOOKING_URL, businessFunction: 'SERVICE_PROVIDER_CLINICIAN' },
        { ...provider().context(), requestId: randomUUID() },
      ),
    ).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
  });
});

import { patientOf, renderPatientLetter } from './patient-letter.usecase';
import { pdfText } from './pdf-text';

const patient = (security: string): Record<string, unknown> => ({
  resourceType: 'Patient',
  meta: { security: [{ code: security }] },
  name: [{ use: 'usual', given: ['Jane'], family: 'Smith', prefix: ['Mrs'] }],
  address: [{ use: 'home', line: ['1 Trevelyan Square', 'Leeds'], postalCode: 'LS1 6AE' }],
});

async function letterFor(resource: Record<string, unknown>): Promise<string> {
  const pdf = await renderPatientLetter({
    ubrn: '000000070000',
    accessCode: 'abcd2345efgh',
    patient: patientOf(resource),
    services: [{ name: 'Leeds heart clinic', waitDays: 21, bookable: true }],
    bookingUrl: 'https://platform.example/referrals/patient',
    date: new Date('2026-12-05T12:00:00Z'),
  });
  return pdfText(pdf);
}

describe('the patient letter', () => {
  it("prints an ordinary patient's name and address", async () => {
    const text = await letterFor(patient('U'));
    expect(text).toContain('Mrs Jane Smith');
    expect(text).toContain('1 Trevelyan Square');
    expect(text).toContain('LS1 6AE');
    expect(text).toContain('Booking reference number: 0000 0007 0000');
  });

  it("never prints a restricted patient's address, even when the record it was given holds one", async () => {
    expect(patientOf(patient('R'))).toEqual({ name: 'Mrs Jane Smith' });
    const text = await letterFor(patient('R'));
    expect(text).toContain('Mrs Jane Smith');
    expect(text).not.toContain('Trevelyan');
    expect(text).not.toContain('LS1 6AE');
  });
});

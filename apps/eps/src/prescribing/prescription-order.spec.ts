import { readFileSync } from 'node:fs';
import { operationOutcomeFor, PlatformError } from '@platform/shared-errors';
import { referencePath } from '@platform/shared-testing';
import '@platform/contracts-eps';
import type { Bundle } from '../shared/fhir';
import { readPrescriptionOrder } from './prescription-order';

const EPS = 'eps-gp2gp/eps';
const load = <T = Bundle>(file: string): T => JSON.parse(readFileSync(referencePath(`${EPS}/${file}`), 'utf8')) as T;

function refusal(bundle: unknown): PlatformError {
  try {
    readPrescriptionOrder(bundle as Bundle);
  } catch (error) {
    if (error instanceof PlatformError) return error;
    throw error;
  }
  throw new Error('expected the bundle to be refused');
}

interface Outcome {
  issue: {
    code: string;
    diagnostics?: string;
    expression?: string[];
    details?: { coding: { code: string; display: string }[] };
  }[];
}

describe('prescription-order rules, against the NHS example requests', () => {
  it.each([
    ['flow-acute-nominated/1-Prepare-Request-200_OK.json', '24F5DA-A83008-7EFE6Z', 'FA565', 'acute', 4],
    ['flow-acute-nominated/1-Process-Request-Send-200_OK.json', '24F5DA-A83008-7EFE6Z', 'FA565', 'acute', 4],
    ['flow-acute-non-nominated/1-Prepare-Request-200_OK.json', '315A44-A83008-4C9BB1', null, 'acute', 2],
    ['flow-acute-non-nominated/1-Process-Request-Send-200_OK.json', '315A44-A83008-4C9BB1', null, 'acute', 2],
    ['flow-homecare-full-lifecycle/7-Prepare-Request-200_OK.json', 'D7A21F-A83008-F1762A', 'VNCEL', 'acute', 2],
    ['flow-homecare-full-lifecycle/7-Process-Request-Send-200_OK.json', 'D7A21F-A83008-F1762A', 'VNCEL', 'acute', 2],
    [
      'flow-acute-nominated/cancellations/2-Process-Request-Send-200_OK.json',
      '5018BB-A83008-4E5885',
      'FCG71',
      'acute',
      1,
    ],
    ['spec/prepare/eRD-primary-example-req.json', '24F5DA-A83008-7EFE6Z', 'VNE51', 'continuous-repeat-dispensing', 4],
    [
      'spec/prescribing/prescription-order/eRD-primary-example-req.json',
      '24F5DA-A83008-7EFE6Z',
      'VNE51',
      'continuous-repeat-dispensing',
      4,
    ],
    [
      'spec/prescribing/prescription-order/repeat-primary-example-req.json',
      '24F5DA-A83008-7EFE6Z',
      'VNE51',
      'continuous',
      4,
    ],
    [
      'spec/errors/example-b-spine-error-patient-deceased/SendRequest-FhirMessageSigned.json',
      '76787C-C81007-00001G',
      'FA553',
      'acute',
      4,
    ],
    [
      'spec/errors/example-b-spine-error-patient-deceased/PrepareRequest-FhirMessageUnsigned.json',
      '76787C-C81007-00001G',
      'FA553',
      'acute',
      4,
    ],
  ])(
    'accepts %s (the rules; the patient is checked against PDS when it is sent)',
    (file, shortFormId, pharmacy, course, items) => {
      const order = readPrescriptionOrder(load(file));
      expect(order).toMatchObject({ shortFormId, nominatedPharmacy: pharmacy, courseOfTherapy: course });
      expect(order.itemIds).toHaveLength(items);
      expect(order.prescriber.sdsUserId).toMatch(/^\d+$/);
    },
  );

  it('refuses the published prescription ID with a bad check character as the NHS does', () => {
    const error = refusal(load('errors/1-Process-Request-Send-400_INVALID_CHECKSUM.json'));
    const expected = load<Outcome>('errors/1-Process-Response-Send-400_INVALID_CHECKSUM.json').issue[0];
    const outcome = operationOutcomeFor(error).issue[0];
    expect(error.httpStatus).toBe(400);
    expect(outcome?.details?.coding[0]?.code).toBe(expected?.details?.coding[0]?.code);
    expect(outcome?.diagnostics).toBe(expected?.details?.coding[0]?.display);
  });

  it.each([
    'errors/2-Prepare-Request-400_Invalid_Course_of_Therapy_mixed.json',
    'errors/2-Process-Request-Send-400_Invalid_Course_of_Therapy_mixed.json',
  ])('refuses acute mixed with repeat dispensing (%s) with the NHS code, text and expression', (file) => {
    const error = refusal(load(file));
    const expected = load<Outcome>(file.replace('Request', 'Response')).issue[0];
    const outcome = operationOutcomeFor(error).issue[0];
    expect(outcome?.details?.coding[0]?.code).toBe(expected?.details?.coding[0]?.code);
    expect(outcome?.diagnostics).toBe(expected?.details?.coding[0]?.display);
    expect(outcome?.expression).toEqual(expected?.expression);
  });

  it('refuses an intent of plan with the NHS diagnostics and expression', () => {
    const error = refusal(load('errors/4-Process-Request-Send-400_invalid_intent.json'));
    const expected = load<Outcome>('errors/4-Process-Response-Send-400_invalid_intent.json').issue[0];
    const outcome = operationOutcomeFor(error).issue[0];
    expect(outcome).toMatchObject({
      code: expected?.code,
      diagnostics: expected?.diagnostics,
      expression: expected?.expression,
    });
  });

  it("answers a Bundle without entries with MISSING_FIELD, as the NHS's example", () => {
    const error = refusal({ resourceType: 'Bundle', type: 'message' });
    const expected = load<Outcome>('spec/errors/example-a-validation-error-missing-field/Response-FhirError.json')
      .issue[0];
    expect(error.code).toBe(expected?.details?.coding[0]?.code);
    expect(error.diagnostics).toBe(expected?.details?.coding[0]?.display);
  });

  it('refuses five items, items for two patients and a nominated pharmacy that is not an ODS code', () => {
    const bundle = load('flow-acute-nominated/1-Process-Request-Send-200_OK.json');
    const item = bundle.entry?.find((entry) => entry.resource?.resourceType === 'MedicationRequest');
    const five = { ...bundle, entry: [...(bundle.entry ?? []), { ...item, fullUrl: 'urn:uuid:fifth' }] };
    expect(refusal(five).diagnostics).toBe('Bundle contains 5 MedicationRequests; a prescription has at most 4');

    const twoPatients = JSON.parse(JSON.stringify(bundle)) as Bundle;
    const last = twoPatients.entry?.filter((entry) => entry.resource?.resourceType === 'MedicationRequest').pop();
    if (last?.resource) last.resource['subject'] = { reference: 'urn:uuid:someone-else' };
    expect(refusal(twoPatients).diagnostics).toBe(
      'MedicationRequest.subject must be the same for all MedicationRequests',
    );

    const badPharmacy = JSON.parse(JSON.stringify(bundle).replaceAll('"FA565"', '"NOT-A-CODE"')) as Bundle;
    expect(refusal(badPharmacy).code).toBe('INVALID_VALUE');
  });
});

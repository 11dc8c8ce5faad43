import { readFileSync } from 'node:fs';
import type { FhirResource } from '@platform/contracts-eps';
import type { Bundle } from '../shared/fhir';
import { referencePath } from '@platform/shared-testing';
import { readCancellation } from './cancel-prescription.usecase';

const load = (file: string): FhirResource =>
  JSON.parse(readFileSync(referencePath(`eps-gp2gp/eps/${file}`), 'utf8')) as FhirResource;

describe('cancellation requests, against the NHS example requests', () => {
  it.each([
    'flow-acute-nominated/cancellations/2-Process-Request-Cancel-200_OK.json',
    'spec/prescribing/prescription-order-update/eRD-primary-example-req.json',
    'spec/prescribing/prescription-order-update/repeat-primary-example-req.json',
  ])('reads %s: one prescription, its cancelled items, the patient', (file) => {
    const cancellation = readCancellation(load(file) as Bundle);
    expect(cancellation.shortFormId).toMatch(/^[0-9A-Z]{6}-[0-9A-Z]{6}-[0-9A-Z+]{6}$/);
    expect(cancellation.items.length).toBeGreaterThan(0);
    expect(cancellation.nhsNumber).toMatch(/^\d{10}$/);
  });
});

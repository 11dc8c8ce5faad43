import { readFileSync } from 'node:fs';
import type { FhirResource } from '@platform/contracts-eps';
import type { PlatformError } from '@platform/shared-errors';
import { referencePath } from '@platform/shared-testing';
import type { Bundle } from '../shared/fhir';
import { readClaim } from './claim-prescription.usecase';
import { readDispenseNotification } from './notify-dispense.usecase';
import { readWithdrawTask } from './withdraw-dispense.usecase';

const load = <T = FhirResource>(file: string): T =>
  JSON.parse(readFileSync(referencePath(`eps-gp2gp/eps/${file}`), 'utf8')) as T;

function refusal(work: () => unknown): PlatformError {
  try {
    work();
  } catch (error) {
    return error as PlatformError;
  }
  throw new Error('expected a refusal');
}

describe('dispense notifications, withdrawals and claims, against the NHS example requests', () => {
  it.each([
    ['spec/dispensing/dispense-notification/acute-primary-example-01-req.json', '0003', false],
    ['spec/dispensing/dispense-notification/acute-primary-example-02-req.json', '0003', false],
    ['spec/dispensing/dispense-notification/acute-primary-example-03-req.json', '0006', false],
    ['spec/dispensing/dispense-notification/acute-primary-example-04-req.json', '0006', true],
    ['spec/dispensing/dispense-notification/eRD-primary-example-req.json', null, false],
    ['spec/dispensing/dispense-notification/repeat-primary-example-req.json', null, false],
    ['flow-homecare-full-lifecycle/7-Process-Request-Dispense-200_OK.json', null, false],
  ])('reads %s', (file, status, amendment) => {
    const notification = readDispenseNotification(load<Bundle>(file));
    if (status) expect(notification.status).toBe(status);
    expect(['0003', '0006', '0007']).toContain(notification.status);
    expect(notification.replaces !== null).toBe(amendment);
    expect(notification.shortFormId).toMatch(/^[0-9A-Z]{6}-[0-9A-Z]{6}-[0-9A-Z+]{6}$/);
  });

  it('refuses the specification example 05 by the rule the error example states: one non-dispensing reason per notification', () => {
    // The API specification's example 05 gives its two items different non-dispensing reasons (0008, 0004),
    // which the NHS's own error example (errors/3) shows the service refusing; the rule wins.
    const error = refusal(() =>
      readDispenseNotification(load<Bundle>('spec/dispensing/dispense-notification/acute-primary-example-05-req.json')),
    );
    expect(error.diagnostics).toBe(
      'Expected all MedicationDispenses to have the same value for MedicationDispense.extension:prescriptionNonDispensingReason',
    );
  });

  it("refuses the NHS's invalid dispense notification example with a 400", () => {
    const error = refusal(() =>
      readDispenseNotification(load<Bundle>('errors/3-Process-Request-Dispense-400_Invalid_Value.json')),
    );
    expect(error.httpStatus).toBe(400);
  });

  it.each([
    'spec/dispensing/withdraw/acute-primary-example-req.json',
    'spec/dispensing/withdraw/eRD-primary-example-req.json',
    'spec/dispensing/withdraw/repeat-primary-example-req.json',
  ])('reads the withdrawal %s', (file) => {
    expect(readWithdrawTask(load(file))).toMatchObject({
      reason: expect.stringMatching(/^[A-Z]+$/) as unknown,
      notificationId: expect.any(String) as unknown,
    });
  });

  it.each([
    'spec/dispensing/claim/acute-primary-example-req.json',
    'spec/dispensing/claim/eRD-primary-example-req.json',
    'spec/dispensing/claim/repeat-primary-example-req.json',
    'flow-homecare-full-lifecycle/7-Claim-Request-200_OK.json',
  ])('reads the claim %s', (file) => {
    expect(readClaim(load(file)).shortFormId).toMatch(/^[0-9A-Z]{6}-/);
  });

  it('refuses the claim without an endorsement code, as the NHS example shows', () => {
    const error = refusal(() =>
      readClaim(load('flow-acute-nominated/2-Claim-Request-400_Missing_Endorsement_Code.json')),
    );
    expect(error).toMatchObject({
      code: 'INVALID_VALUE',
      diagnostics: 'Every claimed item needs an endorsement code (medicationdispense-endorsement)',
    });
  });
});

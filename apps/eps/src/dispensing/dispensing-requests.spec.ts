import { readFileSync } from 'node:fs';
import type { FhirResource } from '@platform/contracts-eps';
import type { PlatformError } from '@platform/shared-errors';
import { referencePath } from '@platform/shared-testing';
import { readReleaseRequest } from './release-prescriptions.usecase';
import { readReturnTask } from './return-prescription.usecase';

const load = (file: string): FhirResource =>
  JSON.parse(readFileSync(referencePath(`eps-gp2gp/eps/${file}`), 'utf8')) as FhirResource;

describe('dispensing requests, against the NHS example requests', () => {
  it.each([
    ['spec/dispense/Nominated-Pharmacy-Request-Release-200_OK.json', null],
    ['spec/dispense/Patient-Request-Release-200_OK.json', 'string'],
    ['spec/dispensing/release/acute-primary-example-req.json', 'string'],
    ['spec/dispensing/release/eRD-primary-example-req.json', 'string'],
    ['spec/dispensing/release/repeat-primary-example-req.json', 'string'],
    ['flow-acute-nominated/1-Task-Request-Release-200_OK.json', 'string'],
    ['flow-homecare-full-lifecycle/7-Task-Request-Release-200_OK.json', 'string'],
  ])('reads the release %s: a pharmacy and, for a patient-presented release, one prescription', (file, kind) => {
    const request = readReleaseRequest(load(file));
    expect(request.pharmacy).toMatch(/^[A-Z0-9]{3,6}$/);
    expect(kind === null ? request.shortFormId : typeof request.shortFormId).toBe(kind);
  });

  it.each([
    'spec/dispensing/return/acute-primary-example-req.json',
    'spec/dispensing/return/eRD-primary-example-req.json',
    'spec/dispensing/return/repeat-primary-example-req.json',
  ])('reads the return %s: a prescription and a reason from 0001 to 0008', (file) => {
    const task = readReturnTask(load(file));
    expect(task.reason).toMatch(/^000[1-8]$/);
    expect(task.shortFormId).toMatch(/^[0-9A-Z]{6}-[0-9A-Z]{6}-[0-9A-Z+]{6}$/);
  });

  it('refuses a release without an owner or not accepted, naming the parameter', () => {
    const refusal = (parameters: unknown[]): string | undefined => {
      try {
        readReleaseRequest({ ...request, parameter: parameters });
      } catch (error) {
        return (error as PlatformError).diagnostics;
      }
      return undefined;
    };
    const request = load('spec/dispense/Nominated-Pharmacy-Request-Release-200_OK.json');
    const parameters = request['parameter'] as { name: string; valueCode?: string }[];
    expect(refusal(parameters.filter((parameter) => parameter.name !== 'owner'))).toMatch(/^Parameter 'owner' must be/);
    expect(
      refusal(
        parameters.map((parameter) =>
          parameter.name === 'status' ? { ...parameter, valueCode: 'rejected' } : parameter,
        ),
      ),
    ).toBe("Parameter 'status' must be 'accepted'");
  });
});

import { applyPatch, type Operation } from 'fast-json-patch';
import type { PatchOperation, Patient } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import { checkPatch } from './patch-rules';
import { patchFailure } from './update-patient.usecase';

const patient = { resourceType: 'Patient', id: '9000000009', gender: 'female', name: [] } as unknown as Patient;

function diagnosticsOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(PlatformError);
    return (error as PlatformError).diagnostics;
  }
  throw new Error('expected a refusal');
}

describe('PDS patch rules against prototype paths', () => {
  it.each(['/__proto__/polluted', '/name/__proto__', '/constructor/prototype/x', '/address/0/prototype'])(
    'refuses %s as INVALID_UPDATE naming the element, not a JavaScript error',
    (path) => {
      const patches: PatchOperation[] = [{ op: 'add', path, value: 1 }];
      const diagnostics = diagnosticsOf(() => checkPatch(patches, patient));
      expect(diagnostics).toMatch(/is not an element of a Patient$/);
      expect(diagnostics).not.toMatch(/TypeError/);
    },
  );

  it("describes fast-json-patch's own errors by name and anything else without the JavaScript error", () => {
    let thrown: unknown;
    try {
      applyPatch(structuredClone(patient), [{ op: 'test', path: '/gender', value: 'male' }] as Operation[], true);
    } catch (error) {
      thrown = error;
    }
    expect(patchFailure(thrown).diagnostics).toBe('Invalid update with error - TEST_OPERATION_FAILED at patch 0');
    const banned = patchFailure(new TypeError('JSON-Patch: modifying `__proto__` prop is banned'));
    expect(banned.code).toBe('INVALID_UPDATE');
    expect(banned.diagnostics).toBe('Invalid update with error - the patch cannot be applied to this record');
  });
});

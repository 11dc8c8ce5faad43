import { readFileSync } from 'node:fs';
import path from 'node:path';
import { referencePath } from '@platform/shared-testing';
import { defineErrors, errorDefinition, SPINE_CODE_SYSTEM } from './codes';
import { operationOutcome, problemDetails } from './operation-outcome';
import { isWireError, PlatformError, type WireError } from './platform-error';

const reference = referencePath('pds-ers', 'pds', 'errors');

interface PublishedOutcome {
  issue: { severity: string; code: string; details: { coding: { code: string; display: string; system: string }[] } }[];
}

function published(file: string): PublishedOutcome {
  return JSON.parse(readFileSync(path.join(reference, file), 'utf8')) as PublishedOutcome;
}

describe('operationOutcome', () => {
  it.each([
    'INVALID_RESOURCE_ID',
    'RESOURCE_NOT_FOUND',
    'INVALIDATED_RESOURCE',
    'PRECONDITION_FAILED',
    'RESOURCE_VERSION_MISMATCH',
    'MISSING_VALUE',
    'INVALID_VALUE',
  ])('matches the Spine OperationOutcome the NHS publishes for %s', (code) => {
    const expected = published(`${code}.json`).issue[0];
    const actual = operationOutcome(code, 'diagnostic text').issue[0];
    expect(actual?.severity).toBe(expected?.severity);
    expect(actual?.code).toBe(expected?.code);
    expect(actual?.details?.coding[0]).toMatchObject({
      system: SPINE_CODE_SYSTEM,
      code: expected?.details.coding[0]?.code,
      display: expected?.details.coding[0]?.display,
    });
    expect(actual?.diagnostics).toBe('diagnostic text');
  });

  it('falls back to a server error for an unknown code rather than inventing one', () => {
    expect(operationOutcome('NO_SUCH_CODE').issue[0]?.details?.coding[0]?.code).toBe('NO_SUCH_CODE');
    expect(errorDefinition('NO_SUCH_CODE').status).toBe(500);
  });
});

describe('PlatformError', () => {
  it('round-trips over the wire with its status override', () => {
    const error = new PlatformError('ACCESS_DENIED', 'Missing Authorization header', { status: 401 });
    const back = PlatformError.fromWire(JSON.parse(JSON.stringify(error.toWire())) as WireError);
    expect(back.code).toBe('ACCESS_DENIED');
    expect(back.httpStatus).toBe(401);
    expect(isWireError(error.toWire())).toBe(true);
    expect(isWireError({ code: 'NOT_A_CODE', message: 'x' })).toBe(false);
  });

  it('refuses to redefine a code with a different meaning', () => {
    expect(() => defineErrors({ INVALID_VALUE: { ...errorDefinition('INVALID_VALUE'), status: 422 } })).toThrow(
      /already defined/,
    );
  });
});

describe('problemDetails', () => {
  it('carries the details that crossed the wire as extension members, never over the standard members', () => {
    const error = PlatformError.fromWire(
      new PlatformError('INVALID_VALUE', undefined, {
        diagnostics: 'cidr: host bits set',
        details: { errors: [{ field: 'cidr', message: 'host bits set' }], status: 999 },
      }).toWire(),
    );
    expect(problemDetails(error)).toEqual({
      type: `${SPINE_CODE_SYSTEM}#INVALID_VALUE`,
      title: 'Provided value is invalid',
      status: 400,
      code: 'INVALID_VALUE',
      detail: 'cidr: host bits set',
      errors: [{ field: 'cidr', message: 'host bits set' }],
    });
  });
});

import '@platform/contracts-ers';
import { PROVIDER_FUNCTIONS, REFERRER_FUNCTIONS } from '@platform/contracts-ers';
import { actorFor } from './caller';

const context = (roles: string[], organisation?: string) => ({
  requestId: 'r-1',
  caller: { id: 'u-1', roles, ...(organisation ? { organisation } : {}) },
});

describe('the caller business function (NHSD-eRS-Business-Function)', () => {
  it('lets a clinician act as a referring clinician for their organisation', () => {
    expect(actorFor(context(['clinician'], 'A83008'), 'REFERRING_CLINICIAN', REFERRER_FUNCTIONS)).toEqual({
      userId: 'u-1',
      roles: ['clinician'],
      organisation: 'A83008',
      businessFunction: 'REFERRING_CLINICIAN',
    });
  });

  it.each<[string, string[], string | undefined, readonly string[], string | undefined]>([
    ['a function the roles do not hold', ['clinician'], 'SERVICE_PROVIDER_CLINICIAN', PROVIDER_FUNCTIONS, 'A83008'],
    ['no function', ['clinician'], undefined, REFERRER_FUNCTIONS, 'A83008'],
    ['a function held but not allowed here', ['practice-admin'], 'REFERRING_ADMIN', REFERRER_FUNCTIONS, 'A83008'],
    ['no organisation', ['clinician'], 'REFERRING_CLINICIAN', REFERRER_FUNCTIONS, undefined],
    ['a role with no business function', ['ops'], 'REFERRING_CLINICIAN', REFERRER_FUNCTIONS, 'A83008'],
  ])('refuses %s with 403 FORBIDDEN', (_case, roles, fn, allowed, organisation) => {
    let thrown: unknown;
    try {
      actorFor(context(roles, organisation), fn as never, allowed as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 });
  });
});

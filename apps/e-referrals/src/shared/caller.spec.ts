import '@platform/contracts-ers';
import { PROVIDER_FUNCTIONS, READER_FUNCTIONS, REFERRER_FUNCTIONS } from '@platform/contracts-ers';
import type { PractitionersRepository } from '../provider/practitioners.repository';
import { actorFor, Actors, type ActingAs } from './caller';

const context = (roles: string[], organisation?: string) => ({
  requestId: 'r-1',
  caller: { id: 'u-1', roles, ...(organisation ? { organisation } : {}) },
});

function refusal(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('the caller business function (NHSD-eRS-Business-Function)', () => {
  it('lets a clinician act as a referring clinician for their organisation', () => {
    expect(
      actorFor(context(['clinician'], 'A83008'), { businessFunction: 'REFERRING_CLINICIAN' }, REFERRER_FUNCTIONS),
    ).toEqual({
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
    const thrown = refusal(() =>
      actorFor(context(roles, organisation), { businessFunction: fn as never }, allowed as never),
    );
    expect(thrown).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 });
  });
});

describe('the on-behalf-of user (NHSD-eRS-On-Behalf-Of-User-ID)', () => {
  const admin = context(['provider-clinician'], 'R69');
  const asAdmin = (onBehalfOf?: string): ActingAs => ({
    businessFunction: 'SERVICE_PROVIDER_CLINICIAN_ADMIN',
    ...(onBehalfOf === undefined ? {} : { onBehalfOf }),
  });

  it('carries the clinician a SERVICE_PROVIDER_CLINICIAN_ADMIN acts for', () => {
    expect(actorFor(admin, asAdmin('021600556514'), PROVIDER_FUNCTIONS)).toMatchObject({
      userId: 'u-1',
      businessFunction: 'SERVICE_PROVIDER_CLINICIAN_ADMIN',
      onBehalfOf: '021600556514',
    });
  });

  it.each<[string, ActingAs, string[]]>([
    ['missing with SERVICE_PROVIDER_CLINICIAN_ADMIN', asAdmin(), ['provider-clinician']],
    ['empty with SERVICE_PROVIDER_CLINICIAN_ADMIN', asAdmin(''), ['provider-clinician']],
    ['not an SDS user id', asAdmin('021600556514, 021600556515'), ['provider-clinician']],
    ['letters, not digits', asAdmin('admin'), ['provider-clinician']],
    [
      'given with SERVICE_PROVIDER_CLINICIAN',
      { businessFunction: 'SERVICE_PROVIDER_CLINICIAN', onBehalfOf: '021600556514' },
      ['provider-clinician'],
    ],
    [
      'given with REFERRING_CLINICIAN',
      { businessFunction: 'REFERRING_CLINICIAN', onBehalfOf: '021600556514' },
      ['clinician'],
    ],
  ])('refuses a header %s with 403 FORBIDDEN', (_case, acting, roles) => {
    const thrown = refusal(() => actorFor(context(roles, 'R69'), acting, READER_FUNCTIONS));
    expect(thrown).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 });
  });

  it('is not taken by A040, which tells the admin whom they may name', () => {
    expect(
      actorFor(admin, asAdmin('anything'), ['SERVICE_PROVIDER_CLINICIAN_ADMIN'], { onBehalfOf: 'not-taken' }),
    ).not.toHaveProperty('onBehalfOf');
  });

  it('lets the admin act only for a clinician the organisation names, asking the directory once a while', async () => {
    const asked: string[] = [];
    const practitioners = {
      isNamedClinician: (ods: string, id: string) => {
        asked.push(`${ods}/${id}`);
        return new Promise<boolean>((resolve) => setTimeout(() => resolve(id === '021600556514'), 5));
      },
    } as unknown as PractitionersRepository;
    const actors = new Actors(practitioners);
    const allowed = await Promise.all(
      Array.from({ length: 30 }, () => actors.resolve(admin, asAdmin('021600556514'), PROVIDER_FUNCTIONS)),
    );
    expect(allowed.every((actor) => actor.onBehalfOf === '021600556514')).toBe(true);
    await expect(actors.resolve(admin, asAdmin('021600556599'), PROVIDER_FUNCTIONS)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      httpStatus: 403,
    });
    await expect(actors.resolve(admin, asAdmin('021600556599'), PROVIDER_FUNCTIONS)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    // Thirty simultaneous asks shared one query; the refusal was kept too.
    expect(asked).toEqual(['R69/021600556514', 'R69/021600556599']);
  });
});

import '@platform/contracts-ers';
import { PROVIDER_FUNCTIONS, READER_FUNCTIONS, REFERRER_FUNCTIONS } from '@platform/contracts-ers';
import { skippableClock } from '@platform/shared-testing';
import type { PractitionersRepository } from '../provider/practitioners.repository';
import { actorFor, Actors, ON_BEHALF_OF_CACHE_MS, type ActingAs } from './caller';

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

  describe('the answers kept', () => {
    let clock: ReturnType<typeof skippableClock>;
    beforeEach(() => (clock = skippableClock()));
    afterEach(() => clock.restore());
    const skip = (ms: number) => clock.skip(ms);

    it('lets forty simultaneous first asks share one query, and asks again once the answer is 30 s old', async () => {
      let named = true;
      let queries = 0;
      const practitioners = {
        isNamedClinician: () => {
          queries += 1;
          const answer = named;
          return new Promise<boolean>((resolve) => setTimeout(() => resolve(answer), 5));
        },
      } as unknown as PractitionersRepository;
      const actors = new Actors(practitioners);
      const first = await Promise.allSettled(
        Array.from({ length: 40 }, () => actors.resolve(admin, asAdmin('021600556514'), PROVIDER_FUNCTIONS)),
      );
      expect(first.every((result) => result.status === 'fulfilled')).toBe(true);
      expect(queries).toBe(1);
      // Taken off the trust's services: the kept yes still holds until 30 s have passed.
      named = false;
      await skip(ON_BEHALF_OF_CACHE_MS - 1_000);
      await expect(actors.resolve(admin, asAdmin('021600556514'), PROVIDER_FUNCTIONS)).resolves.toMatchObject({
        onBehalfOf: '021600556514',
      });
      expect(queries).toBe(1);
      await skip(1_000);
      await expect(actors.resolve(admin, asAdmin('021600556514'), PROVIDER_FUNCTIONS)).rejects.toMatchObject({
        code: 'FORBIDDEN',
        httpStatus: 403,
      });
      expect(queries).toBe(2);
      // The no is kept as long, and expires the same way.
      named = true;
      await expect(actors.resolve(admin, asAdmin('021600556514'), PROVIDER_FUNCTIONS)).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      expect(queries).toBe(2);
      await skip(ON_BEHALF_OF_CACHE_MS);
      await expect(actors.resolve(admin, asAdmin('021600556514'), PROVIDER_FUNCTIONS)).resolves.toMatchObject({
        onBehalfOf: '021600556514',
      });
      expect(queries).toBe(3);
    });

    it('does not keep a query that failed: those waiting on it see the failure, the next ask queries again', async () => {
      let queries = 0;
      const practitioners = {
        isNamedClinician: () => {
          queries += 1;
          return queries === 1
            ? new Promise<boolean>((_resolve, reject) =>
                setTimeout(() => reject(new Error('connection terminated')), 5),
              )
            : Promise.resolve(true);
        },
      } as unknown as PractitionersRepository;
      const actors = new Actors(practitioners);
      const first = await Promise.allSettled(
        Array.from({ length: 40 }, () => actors.resolve(admin, asAdmin('021600556514'), PROVIDER_FUNCTIONS)),
      );
      expect(first.map((result) => result.status)).toEqual(Array.from({ length: 40 }, () => 'rejected'));
      expect(first[0]).toMatchObject({ reason: { message: 'connection terminated' } });
      expect(queries).toBe(1);
      await expect(actors.resolve(admin, asAdmin('021600556514'), PROVIDER_FUNCTIONS)).resolves.toMatchObject({
        onBehalfOf: '021600556514',
      });
      expect(queries).toBe(2);
    });
  });
});

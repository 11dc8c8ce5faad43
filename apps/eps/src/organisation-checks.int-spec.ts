import { randomUUID } from 'node:crypto';
import type { CallContext } from '@platform/shared-nats';
import { rejectionOf } from '@platform/shared-testing';
import { freshPrescription, shortFormIdOf, type BundleJson } from '@platform/testing-prescriptions';
import {
  aimedAt,
  cancelBundle,
  clinician,
  keyAdministrator,
  pharmacist,
  prescriberKeys,
  releaseRequest,
  returnTask,
  signed,
  startEpsUnderTest,
  type EpsUnderTest,
} from './eps.test-harness';

const PRESCRIBER = '555086689106';
const ACUTE = 'flow-acute-nominated/1-Prepare-Request-200_OK.json';

/** A caller whose signed statement names no organisation (an account without the attribute). */
function withoutOrganisation(role: 'pharmacist' | 'clinician'): CallContext {
  return { requestId: randomUUID(), caller: { id: `${role}-no-org`, username: `${role}-no-org`, roles: [role] } };
}

/**
 * Every check that depends on the caller's organisation fails closed: a pharmacist or clinician whose
 * verified caller statement names no organisation is refused (ACCESS_DENIED, or not found for tracking), and
 * nothing changes. Requests are signed as the gateway signs them (the harness's client).
 */
describe('EPS organisation checks fail closed (a caller without an organisation)', () => {
  let under: EpsUnderTest;
  let patient: string;

  beforeAll(async () => {
    under = await startEpsUnderTest();
    patient = (
      await under.pds.createPatient(
        {
          patient: {
            resourceType: 'Patient',
            name: [{ use: 'usual', family: `Epsnoorg${Date.now()}`, given: ['Ann'] }],
            gender: 'female',
            birthDate: '1960-01-01',
            address: [{ use: 'home', line: ['1 Street'], postalCode: 'LS1 1AA' }],
          },
        },
        clinician(),
      )
    ).nhsNumber;
    await under.eps.registerPrescriberKey(
      { sdsUserId: PRESCRIBER, publicKeyPem: prescriberKeys.publicKey },
      keyAdministrator(),
    );
  }, 60_000);

  afterAll(async () => {
    await under.stop();
  }, 30_000);

  async function prescribed(pharmacy: string | null): Promise<BundleJson> {
    const bundle = await signed(under.eps, freshPrescription(ACUTE, { nhsNumber: patient, pharmacy }));
    await under.eps.createPrescription({ bundle }, clinician());
    return bundle;
  }

  const tracked = (shortFormId: string) => under.eps.getPrescription({ shortFormId }, clinician());

  /** A prescription released to FCG72 and dispensed by it (0006); answers its ID and the notification's. */
  async function dispensedByFcg72(): Promise<{ shortFormId: string; notificationId: string }> {
    const shortFormId = shortFormIdOf(await prescribed(null));
    await under.eps.release({ parameters: releaseRequest('FCG72', shortFormId) }, pharmacist('FCG72'));
    const notificationId = randomUUID();
    await under.eps.dispense({ bundle: notification(shortFormId, notificationId) }, pharmacist('FCG72'));
    return { shortFormId, notificationId };
  }

  function notification(shortFormId: string, id: string): Record<string, unknown> {
    const bundle = aimedAt('spec/dispensing/dispense-notification/acute-primary-example-03-req.json', shortFormId) as {
      identifier: { value: string };
    };
    bundle.identifier.value = id;
    return bundle;
  }

  it("refuses a nominated release, and releases nothing of the pharmacy's", async () => {
    const shortFormId = shortFormIdOf(await prescribed('VNE51'));
    const refused = await rejectionOf(
      under.eps.release({ parameters: releaseRequest('VNE51') }, withoutOrganisation('pharmacist')),
    );
    expect(refused).toMatchObject({ code: 'ACCESS_DENIED', httpStatus: 403 });
    expect(await tracked(shortFormId)).toMatchObject({ status: '0001', dispenser: null });
    expect((await tracked(shortFormId)).history.map((event) => event.kind)).toEqual(['created']);
  });

  it('refuses a release by prescription ID', async () => {
    const shortFormId = shortFormIdOf(await prescribed(null));
    const refused = await rejectionOf(
      under.eps.release({ parameters: releaseRequest('FCG72', shortFormId) }, withoutOrganisation('pharmacist')),
    );
    expect(refused).toMatchObject({ code: 'ACCESS_DENIED' });
    expect(await tracked(shortFormId)).toMatchObject({ status: '0001', dispenser: null });
  });

  it('refuses a return', async () => {
    const shortFormId = shortFormIdOf(await prescribed(null));
    await under.eps.release({ parameters: releaseRequest('FCG72', shortFormId) }, pharmacist('FCG72'));
    const refused = await rejectionOf(
      under.eps.returnPrescription({ task: returnTask(shortFormId) }, withoutOrganisation('pharmacist')),
    );
    expect(refused).toMatchObject({ code: 'ACCESS_DENIED' });
    expect(await tracked(shortFormId)).toMatchObject({ status: '0002', dispenser: 'FCG72' });
  });

  it('refuses a dispense notification', async () => {
    const shortFormId = shortFormIdOf(await prescribed(null));
    await under.eps.release({ parameters: releaseRequest('FCG72', shortFormId) }, pharmacist('FCG72'));
    const refused = await rejectionOf(
      under.eps.dispense({ bundle: notification(shortFormId, randomUUID()) }, withoutOrganisation('pharmacist')),
    );
    expect(refused).toMatchObject({ code: 'ACCESS_DENIED' });
    expect((await tracked(shortFormId)).status).toBe('0002');
  });

  it('refuses a withdrawal of the latest dispense notification', async () => {
    const { shortFormId, notificationId } = await dispensedByFcg72();
    const withdrawal = aimedAt('spec/dispensing/withdraw/acute-primary-example-req.json', shortFormId, {
      'a14d4fc1-82a2-4a82-aae2-50e212e7b907': notificationId,
    });
    const refused = await rejectionOf(under.eps.withdraw({ resource: withdrawal }, withoutOrganisation('pharmacist')));
    expect(refused).toMatchObject({ code: 'ACCESS_DENIED' });
    expect((await tracked(shortFormId)).status).toBe('0006');
  });

  it('refuses a claim', async () => {
    const { shortFormId } = await dispensedByFcg72();
    const claim = aimedAt('spec/dispensing/claim/acute-primary-example-req.json', shortFormId);
    const refused = await rejectionOf(under.eps.claim({ resource: claim }, withoutOrganisation('pharmacist')));
    expect(refused).toMatchObject({ code: 'ACCESS_DENIED' });
    expect((await tracked(shortFormId)).status).toBe('0006');
  });

  it('refuses a cancellation, which cancels nothing', async () => {
    const bundle = await prescribed(null);
    const refused = await rejectionOf(
      under.eps.cancel({ bundle: cancelBundle(bundle, patient) }, withoutOrganisation('clinician')),
    );
    expect(refused).toMatchObject({ code: 'ACCESS_DENIED' });
    const tracking = await tracked(shortFormIdOf(bundle));
    expect(tracking.history.map((event) => event.kind)).toEqual(['created']);
  });

  it('shows no prescription to a clinician or pharmacist without an organisation; a patient is matched by NHS number', async () => {
    const shortFormId = shortFormIdOf(await prescribed('VNE51'));
    for (const role of ['clinician', 'pharmacist'] as const) {
      expect(await rejectionOf(under.eps.getPrescription({ shortFormId }, withoutOrganisation(role)))).toMatchObject({
        code: 'RESOURCE_NOT_FOUND',
      });
    }
    const asPatient = { requestId: randomUUID(), caller: { id: 'patient-1', roles: ['patient'], nhsNumber: patient } };
    expect(await under.eps.getPrescription({ shortFormId }, asPatient)).toMatchObject({
      shortFormId,
      patientNhsNumber: patient,
    });
  });
});

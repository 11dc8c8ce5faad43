import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EPS_EVENT_STREAM, EPS_EVENTS } from '@platform/contracts-eps';
import { generateShortFormPrescriptionId } from '@platform/shared-identifiers';
import { allAtOnce, outcomes, referencePath, rejectionOf, tally } from '@platform/shared-testing';
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
import type { Bundle } from './shared/fhir';
import { ExpiryJob } from './prescribing/expiry';
import { keyFingerprint } from './signing/key-fingerprint';

const PRESCRIBER = '555086689106'; // the Practitioner's SDS user ID in the NHS acute nominated example
const ACUTE = 'flow-acute-nominated/1-Prepare-Request-200_OK.json';

interface Parameters {
  parameter: { name: string; resource: { total: number; entry?: { resource: Record<string, unknown> }[] } }[];
}

const bundleOf = (answer: unknown, name: string) =>
  (answer as Parameters).parameter.find((parameter) => parameter.name === name)?.resource;

interface CancelResponse {
  entry: {
    resource: {
      resourceType: string;
      status?: string;
      extension?: { url: string; extension?: { url: string; valueCoding?: { code: string } }[] }[];
    };
  }[];
}

/** A cancellation of every item of `prescription` (the NHS example's header and reason, its items). */
function cancelEverything(prescription: BundleJson, nhsNumber: string): Record<string, unknown> {
  const cancel = cancelBundle(prescription, nhsNumber) as unknown as BundleJson;
  const template = cancel.entry?.find((entry) => entry.resource?.resourceType === 'MedicationRequest')?.resource ?? {};
  const items = (prescription.entry ?? [])
    .filter((entry) => entry.resource?.resourceType === 'MedicationRequest')
    .map((entry) => ({
      ...entry,
      resource: { ...entry.resource, status: 'cancelled', statusReason: template['statusReason'] },
    }));
  const others = (cancel.entry ?? []).filter((entry) => entry.resource?.resourceType !== 'MedicationRequest');
  return { ...cancel, entry: [...others.slice(0, 1), ...items, ...others.slice(1)] };
}

/** The R-code of each item in a prescription-order-response. */
function rCodes(response: unknown): string[] {
  return (response as CancelResponse).entry
    .filter((entry) => entry.resource.resourceType === 'MedicationRequest')
    .map(
      (entry) =>
        entry.resource.extension?.find((extension) => extension.url.endsWith('PrescriptionStatusHistory'))
          ?.extension?.[0]?.valueCoding?.code ?? '',
    );
}

describe('EPS over NATS (real PDS and N3 registry, PostgreSQL, JetStream)', () => {
  let under: EpsUnderTest;
  /** A living patient (the PDS sandbox's Jane Smith is recorded as deceased). */
  let ALIVE: string;

  function newPatient(family: string): Promise<string> {
    return under.pds
      .createPatient(
        {
          patient: {
            resourceType: 'Patient',
            name: [{ use: 'usual', family: `${family}${Date.now()}`, given: ['Ann'] }],
            gender: 'female',
            birthDate: '1960-01-01',
            address: [{ use: 'home', line: ['1 Street'], postalCode: 'LS1 1AA' }],
          },
        },
        clinician(),
      )
      .then((created) => created.nhsNumber);
  }

  beforeAll(async () => {
    under = await startEpsUnderTest();
    ALIVE = await newPatient('Epsliving');
    await under.eps.registerPrescriberKey(
      { sdsUserId: PRESCRIBER, publicKeyPem: prescriberKeys.publicKey },
      keyAdministrator(),
    );
  }, 60_000);

  afterAll(async () => {
    await under.stop();
  }, 30_000);

  async function prescribe(pharmacy: string | null = 'VNE51', nhsNumber?: string): Promise<string> {
    const bundle = await signed(under.eps, freshPrescription(ACUTE, { nhsNumber: nhsNumber ?? ALIVE, pharmacy }));
    const reply = await under.eps.createPrescription({ bundle }, clinician());
    return reply.shortFormId;
  }

  describe('prescribing', () => {
    it('creates a prescription To Be Dispensed from a signed Bundle, records it and publishes the event', async () => {
      const bundle = await signed(under.eps, freshPrescription(ACUTE, { nhsNumber: ALIVE, pharmacy: 'VNE51' }));
      const reply = await under.eps.createPrescription({ bundle }, clinician());
      expect(reply).toMatchObject({
        shortFormId: shortFormIdOf(bundle),
        status: '0001',
        outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational' }] },
      });
      const tracking = await under.eps.getPrescription({ shortFormId: reply.shortFormId }, clinician());
      expect(tracking).toMatchObject({
        status: '0001',
        patientNhsNumber: ALIVE,
        nominatedPharmacy: 'VNE51',
        dispenser: null,
      });
      expect(tracking.history.map((event) => [event.kind, event.toStatus, event.actorOrganisation])).toEqual([
        ['created', '0001', 'A83008'],
      ]);
      const manager = await under.connection.jetstreamManager();
      const deadline = Date.now() + 5000;
      let found = false;
      while (!found && Date.now() < deadline) {
        found = await manager.streams.getMessage(EPS_EVENT_STREAM, { last_by_subj: EPS_EVENTS.created }).then(
          (message) => JSON.parse(new TextDecoder().decode(message.data)).shortFormId === reply.shortFormId,
          () => false,
        );
        if (!found) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(found).toBe(true);
    });

    it('shows a prescription to its patient (the NHS number in their token), and to no other patient', async () => {
      const shortFormId = await prescribe('VNE51');
      const patient = (nhsNumber: string) => ({
        requestId: randomUUID(),
        caller: { id: 'patient-1', roles: ['patient'], nhsNumber },
      });
      expect((await under.eps.getPrescription({ shortFormId }, patient(ALIVE))).patientNhsNumber).toBe(ALIVE);
      expect(await rejectionOf(under.eps.getPrescription({ shortFormId }, patient('9000000033')))).toMatchObject({
        code: 'RESOURCE_NOT_FOUND',
      });
      expect(
        await rejectionOf(
          under.eps.getPrescription(
            { shortFormId },
            { requestId: randomUUID(), caller: { id: 'x', roles: ['clinician'], nhsNumber: ALIVE } },
          ),
        ),
      ).toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
    });

    it('refuses a second Bundle with a used prescription ID, and answers a retry with the same X-Request-ID once', async () => {
      const bundle = await signed(under.eps, freshPrescription(ACUTE, { nhsNumber: ALIVE, pharmacy: 'VNE51' }));
      const context = clinician();
      const [first, retry] = await Promise.all([
        under.eps.createPrescription({ bundle }, context),
        under.eps.createPrescription({ bundle }, context),
      ]);
      expect(retry).toEqual(first);
      const again = await rejectionOf(under.eps.createPrescription({ bundle }, clinician()));
      expect(again).toMatchObject({ code: 'DUPLICATE_PRESCRIPTION_ID', httpStatus: 400 });
    });

    it('refuses a signature by another key and a Bundle changed after signing, storing nothing', async () => {
      const stranger = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      const forged = await signed(
        under.eps,
        freshPrescription(ACUTE, { nhsNumber: ALIVE, pharmacy: 'VNE51' }),
        stranger.privateKey,
      );
      expect(await rejectionOf(under.eps.createPrescription({ bundle: forged }, clinician()))).toMatchObject({
        code: 'INVALID_SIGNATURE',
      });
      const good = await signed(under.eps, freshPrescription(ACUTE, { nhsNumber: ALIVE, pharmacy: 'VNE51' }));
      const tampered = JSON.parse(JSON.stringify(good).replaceAll('"VNE51"', '"FCG72"')) as Bundle;
      expect(await rejectionOf(under.eps.createPrescription({ bundle: tampered }, clinician()))).toMatchObject({
        code: 'INVALID_SIGNATURE',
      });
      const stored = await under.db.query(
        `SELECT count(*)::int AS n FROM "${under.schema}".prescription WHERE short_form_id = ANY($1)`,
        [[shortFormIdOf(forged), shortFormIdOf(tampered)]],
      );
      expect(stored.rows[0]).toEqual({ n: 0 });
    });

    it('accepts a Bundle signed by `npm run eps -- sign` with a key made by `npm run eps -- keygen`', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'eps-cli-'));
      const cli = (args: string[]) =>
        spawnSync(process.execPath, [path.resolve(__dirname, '../../../dist/apps/eps/src/cli/eps.cli.js'), ...args], {
          encoding: 'utf8',
          env: { ...process.env, DATABASE_URL: under.databaseUrl, EPS_DB_SCHEMA: under.schema },
        });
      const bundle = freshPrescription(ACUTE, { nhsNumber: ALIVE, pharmacy: 'VNE51' });
      const unsignedFile = path.join(dir, 'unsigned.json');
      writeFileSync(unsignedFile, JSON.stringify(bundle));
      const cliPrescriber = '555086689106';
      try {
        expect(cli(['keygen', '--sds-user-id', cliPrescriber, '--dir', dir]).status).toBe(0);
        // keygen registers a new current key version, recorded under the operating-system user, event in the outbox.
        const cliKey = keyFingerprint(readFileSync(path.join(dir, `${cliPrescriber}.pub.pem`), 'utf8'));
        const recorded = await under.db.query<{ registered_by: string; n: number }>(
          `SELECT r.registered_by, (SELECT count(*)::int FROM "${under.schema}".outbox o
           WHERE o.subject = $3 AND o.payload->>'requestId' = r.request_id) AS n
         FROM "${under.schema}".prescriber_key_registration r WHERE r.sds_user_id = $1 AND r.fingerprint = $2`,
          [cliPrescriber, cliKey, EPS_EVENTS.prescriberKeyRegistered],
        );
        expect(recorded.rows).toEqual([{ registered_by: expect.stringMatching(/^eps-cli:/) as unknown, n: 1 }]);
        const signedRun = cli(['sign', '--bundle', unsignedFile, '--key', path.join(dir, `${cliPrescriber}.key.pem`)]);
        expect(signedRun.status).toBe(0);
        const reply = await under.eps.createPrescription(
          { bundle: JSON.parse(signedRun.stdout) as Record<string, unknown> },
          clinician(),
        );
        expect(reply.status).toBe('0001');
      } finally {
        // The other tests sign with the harness's key: make it the prescriber's current key again.
        await under.eps.registerPrescriberKey(
          { sdsUserId: PRESCRIBER, publicKeyPem: prescriberKeys.publicKey },
          keyAdministrator(),
        );
      }
    });

    it('refuses a patient PDS records as deceased, and one PDS does not know', async () => {
      const created = { nhsNumber: await newPatient('Epsdeceased') };
      await under.pds.updatePatient(
        {
          nhsNumber: created.nhsNumber,
          ifMatch: 'W/"1"',
          patches: [{ op: 'add', path: '/deceasedDateTime', value: '2026-01-01T10:00:00+00:00' }],
        },
        clinician(),
      );
      const deceased = await rejectionOf(
        signed(
          under.eps,
          freshPrescription(
            'spec/errors/example-b-spine-error-patient-deceased/PrepareRequest-FhirMessageUnsigned.json',
            { nhsNumber: created.nhsNumber, pharmacy: 'VNE51' },
          ),
        ),
      );
      expect(deceased).toMatchObject({ code: 'PATIENT_DECEASED', httpStatus: 400 });
      const unknown = await rejectionOf(
        signed(under.eps, freshPrescription(ACUTE, { nhsNumber: '9111231130', pharmacy: 'VNE51' })),
      );
      expect(unknown.diagnostics).toBe('Patient 9111231130 is not known to PDS');
    });

    it('refuses a nominated pharmacy the directory does not know, or that is not a pharmacy', async () => {
      for (const pharmacy of ['ZZZ99', 'A83008']) {
        const error = await rejectionOf(signed(under.eps, freshPrescription(ACUTE, { nhsNumber: ALIVE, pharmacy })));
        expect(error.diagnostics).toBe(
          `Nominated pharmacy ${pharmacy} is not an open pharmacy in the organisation directory`,
        );
      }
    });
  });

  describe('release', () => {
    it('releases nominated prescriptions 25 at a time, never one twice, then says there are no more', async () => {
      const pharmacy = 'VNFKT';
      const created = new Set<string>();
      for (let index = 0; index < 30; index += 1) created.add(await prescribe(pharmacy));
      const released: string[] = [];
      const totals: number[] = [];
      for (let call = 0; call < 3; call += 1) {
        const answer = await under.eps.release({ parameters: releaseRequest(pharmacy) }, pharmacist(pharmacy));
        const passed = bundleOf(answer, 'passedPrescriptions');
        totals.push(passed?.total ?? -1);
        for (const entry of passed?.entry ?? []) {
          const items = (
            entry.resource['entry'] as { resource: { resourceType: string; groupIdentifier?: { value: string } } }[]
          ).filter((e) => e.resource.resourceType === 'MedicationRequest');
          released.push(items[0]?.resource.groupIdentifier?.value ?? '');
        }
        if (call === 2) expect(JSON.stringify(answer)).toContain('NO_MORE_PRESCRIPTIONS');
      }
      expect(totals).toEqual([25, 5, 0]);
      expect(new Set(released)).toEqual(created);
      expect(released).toHaveLength(30);
    });

    it('lets exactly one of 50 racing pharmacies release a prescription, the others told who has it', async () => {
      const pharmacies = Array.from({ length: 50 }, (_, index) => `FZ${String(index).padStart(3, '0')}`);
      for (const odsCode of pharmacies) {
        await under.n3.upsertOrganisation(
          {
            odsCode,
            name: `RACE PHARMACY ${odsCode}`,
            role: 'pharmacy',
            status: 'active',
            addressLines: ['1 HIGH STREET'],
            postcode: 'LS1 1AA',
          },
          { requestId: randomUUID(), caller: { id: 'admin', roles: ['registry-admin'] } },
        );
      }
      const shortFormId = await prescribe(null);
      const outcomes = await Promise.allSettled(
        pharmacies.map((odsCode) =>
          under.eps.release({ parameters: releaseRequest(odsCode, shortFormId) }, pharmacist(odsCode)),
        ),
      );
      const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      const tracking = await under.eps.getPrescription({ shortFormId }, clinician());
      expect(tracking.status).toBe('0002');
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') {
          expect(outcome.reason).toMatchObject({
            code: 'PRESCRIPTION_WITH_ANOTHER_DISPENSER',
            details: { holder: tracking.dispenser },
          });
        }
      }
      expect(tracking.history.filter((event) => event.kind === 'released')).toHaveLength(1);
    });

    it('puts a prescription altered at rest in failedPrescriptions and keeps it with Spine', async () => {
      const shortFormId = await prescribe(null);
      await under.db.query(
        `UPDATE "${under.schema}".prescription SET bundle = replace(bundle::text, '"value": 20', '"value": 2000')::jsonb WHERE short_form_id = $1`,
        [shortFormId],
      );
      const answer = await under.eps.release({ parameters: releaseRequest('FCG72', shortFormId) }, pharmacist('FCG72'));
      expect(bundleOf(answer, 'passedPrescriptions')?.total).toBe(0);
      const failed = bundleOf(answer, 'failedPrescriptions');
      expect(failed?.entry?.[0]?.resource).toMatchObject({
        resourceType: 'OperationOutcome',
        issue: [{ details: { coding: [{ code: 'INVALID_SIGNATURE' }] } }],
      });
      expect(failed?.entry?.[1]?.resource).toMatchObject({ resourceType: 'Bundle' });
      const tracking = await under.eps.getPrescription({ shortFormId }, clinician());
      expect(tracking.status).toBe('0001');
      expect(tracking.history.map((event) => event.kind)).toEqual(['created', 'release-failed']);
    });

    it('refuses a release for a pharmacy the caller does not act for, and an unknown prescription', async () => {
      expect(
        await rejectionOf(under.eps.release({ parameters: releaseRequest('VNE51') }, pharmacist('FCG72'))),
      ).toMatchObject({ code: 'ACCESS_DENIED' });
      expect(
        await rejectionOf(
          under.eps.release({ parameters: releaseRequest('FCG72', '000000-A83008-000000') }, pharmacist('FCG72')),
        ),
      ).toMatchObject({ code: 'FAILURE_TO_PROCESS_MESSAGE' });
      const unknown = generateShortFormPrescriptionId('A83008');
      expect(
        await rejectionOf(under.eps.release({ parameters: releaseRequest('FCG72', unknown) }, pharmacist('FCG72'))),
      ).toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
    });
  });

  describe('return', () => {
    it('lets the holding pharmacy give a prescription back, so another pharmacy can release it', async () => {
      const shortFormId = await prescribe(null);
      await under.eps.release({ parameters: releaseRequest('FCG72', shortFormId) }, pharmacist('FCG72'));
      const taken = await rejectionOf(
        under.eps.release({ parameters: releaseRequest('VNE51', shortFormId) }, pharmacist('VNE51')),
      );
      expect(taken.code).toBe('PRESCRIPTION_WITH_ANOTHER_DISPENSER');
      const notHolder = await rejectionOf(
        under.eps.returnPrescription({ task: returnTask(shortFormId) }, pharmacist('VNE51')),
      );
      expect(notHolder.code).toBe('PRESCRIPTION_WITH_ANOTHER_DISPENSER');
      const outcome = await under.eps.returnPrescription({ task: returnTask(shortFormId) }, pharmacist('FCG72'));
      expect(outcome).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'information' }] });
      const answer = await under.eps.release({ parameters: releaseRequest('VNE51', shortFormId) }, pharmacist('VNE51'));
      expect(bundleOf(answer, 'passedPrescriptions')?.total).toBe(1);
      const tracking = await under.eps.getPrescription({ shortFormId }, clinician());
      expect(tracking).toMatchObject({ status: '0002', dispenser: 'VNE51' });
      expect(tracking.history.map((event) => [event.kind, event.pharmacy])).toEqual([
        ['created', null],
        ['released', 'FCG72'],
        ['returned', 'FCG72'],
        ['released', 'VNE51'],
      ]);
    });

    it('refuses a return reason outside 0001-0008 and a prescription nobody holds', async () => {
      const shortFormId = await prescribe(null);
      const reason = await rejectionOf(
        under.eps.returnPrescription({ task: returnTask(shortFormId, '0009') }, pharmacist('FCG72')),
      );
      expect(reason).toMatchObject({
        code: 'INVALID_VALUE',
        diagnostics: 'Task.statusReason must be a return reason from 0001 to 0008',
      });
      const unheld = await rejectionOf(
        under.eps.returnPrescription({ task: returnTask(shortFormId) }, pharmacist('FCG72')),
      );
      expect(unheld.diagnostics).toBe(`Prescription ${shortFormId} is not with a dispenser (status 0001)`);
    });
  });

  describe('cancellation', () => {
    async function prescribed(pharmacy: string | null): Promise<BundleJson> {
      const bundle = await signed(under.eps, freshPrescription(ACUTE, { nhsNumber: ALIVE, pharmacy }));
      await under.eps.createPrescription({ bundle }, clinician());
      return bundle;
    }

    it('cancels an item To Be Dispensed (R-0001), and says R-0006 when asked again', async () => {
      const bundle = await prescribed('VNE51');
      const first = await under.eps.cancel({ bundle: cancelBundle(bundle, ALIVE) }, clinician());
      expect(first).toMatchObject({ resourceType: 'Bundle', type: 'message' });
      expect((first as { entry: { resource: unknown }[] }).entry[0]?.resource).toMatchObject({
        eventCoding: { code: 'prescription-order-response' },
      });
      expect(rCodes(first)).toEqual(['R-0001']);
      expect((first as unknown as CancelResponse).entry[1]?.resource.status).toBe('cancelled');
      expect(rCodes(await under.eps.cancel({ bundle: cancelBundle(bundle, ALIVE) }, clinician()))).toEqual(['R-0006']);
      const tracking = await under.eps.getPrescription({ shortFormId: shortFormIdOf(bundle) }, clinician());
      expect(tracking.status).toBe('0001'); // three of its four items are still to be dispensed
      expect(tracking.history.map((event) => event.kind)).toEqual(['created', 'cancelled']);
    });

    it('marks for cancellation (R-0002) what a pharmacy holds, telling it, and refuses another patient or an unknown prescription', async () => {
      const bundle = await prescribed(null);
      await under.eps.release({ parameters: releaseRequest('FCG72', shortFormIdOf(bundle)) }, pharmacist('FCG72'));
      expect(rCodes(await under.eps.cancel({ bundle: cancelBundle(bundle, ALIVE) }, clinician()))).toEqual(['R-0002']);
      const tracking = await under.eps.getPrescription({ shortFormId: shortFormIdOf(bundle) }, clinician());
      expect(tracking.history.map((event) => [event.kind, event.pharmacy])).toEqual([
        ['created', null],
        ['released', 'FCG72'],
        ['cancellation-requested', 'FCG72'],
      ]);
      const mismatch = await rejectionOf(under.eps.cancel({ bundle: cancelBundle(bundle, '9111231130') }, clinician()));
      expect(mismatch).toMatchObject({ code: 'R-5000', httpStatus: 400 });
      const unknown = freshPrescription(ACUTE, { nhsNumber: ALIVE, pharmacy: null });
      expect(await rejectionOf(under.eps.cancel({ bundle: cancelBundle(unknown, ALIVE) }, clinician()))).toMatchObject({
        code: 'R-0008',
        httpStatus: 404,
      });
    });

    it('settles a cancel racing a release the same way every time: cancelled and not released, or released and marked', async () => {
      for (let round = 0; round < 8; round += 1) {
        const bundle = await prescribed(null);
        const [cancel, release] = await Promise.allSettled([
          under.eps.cancel({ bundle: cancelEverything(bundle, ALIVE) }, clinician()),
          under.eps.release({ parameters: releaseRequest('FCG72', shortFormIdOf(bundle)) }, pharmacist('FCG72')),
        ]);
        if (cancel.status !== 'fulfilled') throw cancel.reason;
        const codes = [...new Set(rCodes(cancel.value))];
        const tracking = await under.eps.getPrescription({ shortFormId: shortFormIdOf(bundle) }, clinician());
        if (release.status === 'fulfilled') {
          expect(codes).toEqual(['R-0002']);
          expect(tracking).toMatchObject({ status: '0002', dispenser: 'FCG72' });
        } else {
          expect(codes).toEqual(['R-0001']);
          expect(tracking).toMatchObject({ status: '0005', dispenser: null });
          expect(release.reason).toMatchObject({ code: 'INVALID_VALUE' });
        }
      }
    });
  });

  describe('dispensing, amending, withdrawing and claiming', () => {
    const NOTIFICATIONS = 'spec/dispensing/dispense-notification';
    const notification = (file: string, shortFormId: string, id: string, replaces?: string) =>
      aimedAt(`${NOTIFICATIONS}/${file}`, shortFormId, {
        'a14d4fc1-82a2-4a82-aae2-50e212e7b907': replaces ?? 'a14d4fc1-82a2-4a82-aae2-50e212e7b907',
        ...Object.fromEntries([
          [
            `"value": "${(JSON.parse(readFileSync(referencePath(`eps-gp2gp/eps/${NOTIFICATIONS}/${file}`), 'utf8')) as { identifier: { value: string } }).identifier.value}"`,
            `"value": "${id}"`,
          ],
        ]),
      });

    it('takes a prescription from released to partly dispensed, dispensed, amended, withdrawn and claimed', async () => {
      const shortFormId = await prescribe(null);
      await under.eps.release({ parameters: releaseRequest('FCG72', shortFormId) }, pharmacist('FCG72'));
      const status = async () => (await under.eps.getPrescription({ shortFormId }, clinician())).status;

      const first = randomUUID();
      await under.eps.dispense(
        { bundle: notification('acute-primary-example-01-req.json', shortFormId, first) },
        pharmacist('FCG72'),
      );
      expect(await status()).toBe('0003');
      const second = randomUUID();
      await under.eps.dispense(
        { bundle: notification('acute-primary-example-03-req.json', shortFormId, second) },
        pharmacist('FCG72'),
      );
      expect(await status()).toBe('0006');

      const stale = await rejectionOf(
        under.eps.dispense(
          { bundle: notification('acute-primary-example-04-req.json', shortFormId, randomUUID(), first) },
          pharmacist('FCG72'),
        ),
      );
      expect(stale.diagnostics).toBe('Only the latest dispense notification of a prescription can be amended');
      const amendment = randomUUID();
      await under.eps.dispense(
        { bundle: notification('acute-primary-example-04-req.json', shortFormId, amendment, second) },
        pharmacist('FCG72'),
      );
      expect(await status()).toBe('0006');

      const otherPharmacy = await rejectionOf(
        under.eps.withdraw(
          {
            resource: aimedAt('spec/dispensing/withdraw/acute-primary-example-req.json', shortFormId, {
              'a14d4fc1-82a2-4a82-aae2-50e212e7b907': amendment,
            }),
          },
          pharmacist('VNE51'),
        ),
      );
      expect(otherPharmacy.code).toBe('PRESCRIPTION_WITH_ANOTHER_DISPENSER');
      await under.eps.withdraw(
        {
          resource: aimedAt('spec/dispensing/withdraw/acute-primary-example-req.json', shortFormId, {
            'a14d4fc1-82a2-4a82-aae2-50e212e7b907': amendment,
          }),
        },
        pharmacist('FCG72'),
      );
      expect(await status()).toBe('0003'); // back to where the replaced notification had found it

      const early = await rejectionOf(
        under.eps.claim(
          { resource: aimedAt('spec/dispensing/claim/acute-primary-example-req.json', shortFormId) },
          pharmacist('FCG72'),
        ),
      );
      expect(early.diagnostics).toBe(
        `Prescription ${shortFormId} is 0003: only a dispensed (0006) or not dispensed (0007) prescription is claimed`,
      );
      await under.eps.dispense(
        { bundle: notification('acute-primary-example-03-req.json', shortFormId, randomUUID()) },
        pharmacist('FCG72'),
      );
      await under.eps.claim(
        { resource: aimedAt('spec/dispensing/claim/acute-primary-example-req.json', shortFormId) },
        pharmacist('FCG72'),
      );
      const tracking = await under.eps.getPrescription({ shortFormId }, clinician());
      expect(tracking.status).toBe('0008');
      expect(tracking.history.map((event) => [event.kind, event.toStatus])).toEqual([
        ['created', '0001'],
        ['released', '0002'],
        ['dispensed', '0003'],
        ['dispensed', '0006'],
        ['dispense-amended', '0006'],
        ['dispense-withdrawn', '0003'],
        ['dispensed', '0006'],
        ['claimed', '0008'],
      ]);
    });

    it('refuses a dispense notification for a prescription nobody holds', async () => {
      const shortFormId = await prescribe(null);
      const error = await rejectionOf(
        under.eps.dispense(
          { bundle: notification('acute-primary-example-01-req.json', shortFormId, randomUUID()) },
          pharmacist('FCG72'),
        ),
      );
      expect(error.diagnostics).toBe(`Prescription ${shortFormId} has not been released to FCG72`);
    });
  });

  describe('prescriber keys', () => {
    const newKeys = () =>
      generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
    /** A prescriber of this test's own (the NHS example's Practitioner with another SDS user ID). */
    const anotherPrescriber = () => `7${String(Math.floor(Math.random() * 1e11)).padStart(11, '0')}`;
    const register = (sdsUserId: string, publicKeyPem: string, context = keyAdministrator()) =>
      under.eps.registerPrescriberKey({ sdsUserId, publicKeyPem }, context);
    /** An acute prescription by `sdsUserId`, signed with `privateKey`, created. */
    async function prescribedBy(sdsUserId: string, privateKey: string): Promise<string> {
      const unsigned = JSON.parse(
        JSON.stringify(freshPrescription(ACUTE, { nhsNumber: ALIVE, pharmacy: null })).replaceAll(
          PRESCRIBER,
          sdsUserId,
        ),
      ) as BundleJson;
      const bundle = await signed(under.eps, unsigned, privateKey);
      return (await under.eps.createPrescription({ bundle }, clinician())).shortFormId;
    }
    const count = async (sql: string, values: unknown[]): Promise<number> =>
      (await under.db.query<{ n: number }>(sql, values)).rows[0].n;

    it('keeps a rotated key valid for what it signed: rotated between creating and releasing, the prescription still releases; new ones need the new key', async () => {
      const sdsUserId = anotherPrescriber();
      const [first, second] = [newKeys(), newKeys()];
      expect((await register(sdsUserId, first.publicKey)).fingerprint).toBe(keyFingerprint(first.publicKey));
      const signedWithFirst = await prescribedBy(sdsUserId, first.privateKey);
      expect((await register(sdsUserId, second.publicKey)).fingerprint).toBe(keyFingerprint(second.publicKey));

      const answer = await under.eps.release(
        { parameters: releaseRequest('FCG72', signedWithFirst) },
        pharmacist('FCG72'),
      );
      expect(bundleOf(answer, 'passedPrescriptions')?.total).toBe(1);
      expect(bundleOf(answer, 'failedPrescriptions')?.total).toBe(0);
      expect(await under.eps.getPrescription({ shortFormId: signedWithFirst }, clinician())).toMatchObject({
        status: '0002',
        dispenser: 'FCG72',
      });

      expect(await rejectionOf(prescribedBy(sdsUserId, first.privateKey))).toMatchObject({ code: 'INVALID_SIGNATURE' });
      const signedWithSecond = await prescribedBy(sdsUserId, second.privateKey);
      const stored = await under.db.query(
        `SELECT short_form_id, prescriber_key_fingerprint FROM "${under.schema}".prescription
         WHERE short_form_id = ANY($1) ORDER BY created_at`,
        [[signedWithFirst, signedWithSecond]],
      );
      expect(stored.rows).toEqual([
        { short_form_id: signedWithFirst, prescriber_key_fingerprint: keyFingerprint(first.publicKey) },
        { short_form_id: signedWithSecond, prescriber_key_fingerprint: keyFingerprint(second.publicKey) },
      ]);
    });

    it('still fails a prescription altered at rest after a rotation, and one whose key was revoked', async () => {
      const sdsUserId = anotherPrescriber();
      const [first, second] = [newKeys(), newKeys()];
      await register(sdsUserId, first.publicKey);
      const altered = await prescribedBy(sdsUserId, first.privateKey);
      const revoked = await prescribedBy(sdsUserId, first.privateKey);
      await register(sdsUserId, second.publicKey);
      await under.db.query(
        `UPDATE "${under.schema}".prescription SET bundle = replace(bundle::text, '"value": 20', '"value": 2000')::jsonb WHERE short_form_id = $1`,
        [altered],
      );
      const failedOn = async (shortFormId: string) => {
        const answer = await under.eps.release(
          { parameters: releaseRequest('FCG72', shortFormId) },
          pharmacist('FCG72'),
        );
        expect(bundleOf(answer, 'passedPrescriptions')?.total).toBe(0);
        return (
          bundleOf(answer, 'failedPrescriptions')?.entry?.[0]?.resource as {
            issue: { details: { coding: { code: string }[] }; diagnostics: string }[];
          }
        ).issue[0];
      };
      expect((await failedOn(altered))?.details.coding[0]?.code).toBe('INVALID_SIGNATURE');

      // Revoking a key (the runbook's SQL) fails what it signed, and it cannot be registered again.
      await under.db.query(
        `UPDATE "${under.schema}".prescriber_key SET revoked_at = now() WHERE sds_user_id = $1 AND fingerprint = $2`,
        [sdsUserId, keyFingerprint(first.publicKey)],
      );
      expect(await failedOn(revoked)).toMatchObject({
        details: { coding: [{ code: 'INVALID_SIGNATURE' }] },
        diagnostics: `The prescriber's key ${keyFingerprint(first.publicKey)} that signed it was revoked`,
      });
      expect(await rejectionOf(register(sdsUserId, first.publicKey))).toMatchObject({ code: 'INVALID_VALUE' });
    });

    it('refuses a clinician registering a key (ACCESS_DENIED at the guard), registering nothing', async () => {
      const sdsUserId = anotherPrescriber();
      const refused = await rejectionOf(register(sdsUserId, newKeys().publicKey, clinician()));
      expect(refused).toMatchObject({ code: 'ACCESS_DENIED', httpStatus: 403 });
      expect(
        await count(`SELECT count(*)::int AS n FROM "${under.schema}".prescriber_key WHERE sds_user_id = $1`, [
          sdsUserId,
        ]),
      ).toBe(0);
    });

    it('records who registered which key for whom, when and in which request, publishes the event, and a retry with the same X-Request-ID changes nothing', async () => {
      const sdsUserId = anotherPrescriber();
      const [first, second] = [newKeys(), newKeys()];
      await register(sdsUserId, first.publicKey);
      const context = keyAdministrator();
      const before = new Date();
      const reply = await register(sdsUserId, second.publicKey, context);
      const retry = await register(sdsUserId, second.publicKey, context);
      expect(retry).toEqual(reply);
      expect(reply).toEqual({ sdsUserId, fingerprint: keyFingerprint(second.publicKey) });

      const audit = await under.db.query<Record<string, unknown>>(
        `SELECT fingerprint, previous_fingerprint, registered_by, request_id, registered_at
         FROM "${under.schema}".prescriber_key_registration WHERE sds_user_id = $1 ORDER BY sequence`,
        [sdsUserId],
      );
      expect(audit.rows).toHaveLength(2);
      expect(audit.rows[1]).toMatchObject({
        fingerprint: keyFingerprint(second.publicKey),
        previous_fingerprint: keyFingerprint(first.publicKey),
        registered_by: 'ops',
        request_id: context.requestId,
      });
      expect((audit.rows[1]?.['registered_at'] as Date).getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
      expect(
        await count(`SELECT count(*)::int AS n FROM "${under.schema}".prescriber_key WHERE sds_user_id = $1`, [
          sdsUserId,
        ]),
      ).toBe(2);
      expect(
        await count(
          `SELECT count(*)::int AS n FROM "${under.schema}".outbox WHERE subject = $1 AND payload->>'sdsUserId' = $2`,
          [EPS_EVENTS.prescriberKeyRegistered, sdsUserId],
        ),
      ).toBe(2);
      // The same X-Request-ID for another key is refused, not answered with the first registration.
      expect(await rejectionOf(register(sdsUserId, newKeys().publicKey, context))).toMatchObject({
        code: 'INVALID_VALUE',
      });

      const manager = await under.connection.jetstreamManager();
      const deadline = Date.now() + 5000;
      let event: Record<string, unknown> | null = null;
      while (!event && Date.now() < deadline) {
        event = await manager.streams
          .getMessage(EPS_EVENT_STREAM, { last_by_subj: EPS_EVENTS.prescriberKeyRegistered })
          .then(
            (message) => {
              const payload = JSON.parse(new TextDecoder().decode(message.data)) as Record<string, unknown>;
              return payload['requestId'] === context.requestId ? payload : null;
            },
            () => null,
          );
        if (!event) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(event).toMatchObject({
        sdsUserId,
        fingerprint: keyFingerprint(second.publicKey),
        previousFingerprint: keyFingerprint(first.publicKey),
        registeredBy: 'ops',
        requestId: context.requestId,
      });
    });

    it('serialises 24 simultaneous rotations of one prescriber: every key kept, one unbroken chain of registrations', async () => {
      const sdsUserId = anotherPrescriber();
      const keys = Array.from({ length: 24 }, () => newKeys().publicKey);
      const results = outcomes(await allAtOnce(keys.length, 30_000, (i) => register(sdsUserId, keys[i])));
      expect(results.filter((result) => typeof result === 'string')).toEqual([]);
      const chain = await under.db.query<{ fingerprint: string; previous: string | null }>(
        `SELECT fingerprint, previous_fingerprint AS previous
         FROM "${under.schema}".prescriber_key_registration WHERE sds_user_id = $1 ORDER BY sequence`,
        [sdsUserId],
      );
      expect(chain.rows).toHaveLength(keys.length);
      expect(chain.rows.map((row) => row.previous)).toEqual([
        null,
        ...chain.rows.slice(0, -1).map((row) => row.fingerprint),
      ]);
    });
  });

  describe('expiry', () => {
    it('expires prescriptions past their validity that were never dispensed, and leaves the rest', async () => {
      const waiting = await prescribe(null);
      const held = await prescribe(null);
      const current = await prescribe(null);
      await under.eps.release({ parameters: releaseRequest('FCG72', held) }, pharmacist('FCG72'));
      await under.db.query(
        `UPDATE "${under.schema}".prescription SET expires_on = current_date - 1 WHERE short_form_id = ANY($1)`,
        [[waiting, held]],
      );
      const expired = await under.app.get(ExpiryJob).run();
      expect(expired).toBeGreaterThanOrEqual(2);
      const statuses = await Promise.all(
        [waiting, held, current].map(
          async (shortFormId) => (await under.eps.getPrescription({ shortFormId }, clinician())).status,
        ),
      );
      expect(statuses).toEqual(['0004', '0004', '0001']);
      const tracking = await under.eps.getPrescription({ shortFormId: held }, clinician());
      expect(tracking.history.at(-1)).toMatchObject({
        kind: 'expired',
        fromStatus: '0002',
        toStatus: '0004',
        actor: 'expiry-job',
      });
      const release = await rejectionOf(
        under.eps.release({ parameters: releaseRequest('FCG72', waiting) }, pharmacist('FCG72')),
      );
      expect(release.diagnostics).toBe(`Prescription ${waiting} cannot be released: its status is 0004`);
    });
  });

  describe('repeat dispensing (eRD)', () => {
    it('issues an authorisation again and again: the next issue releasable when the previous is dispensed, each claimable', async () => {
      const bundle = await signed(
        under.eps,
        freshPrescription('spec/prescribing/prescription-order/eRD-primary-example-req.json', {
          nhsNumber: ALIVE,
          pharmacy: 'FCG72',
        }),
      );
      const { shortFormId } = await under.eps.createPrescription({ bundle }, clinician());
      const issuesReleased = async (): Promise<number[]> => {
        const answer = await under.eps.release(
          { parameters: releaseRequest('FCG72', shortFormId) },
          pharmacist('FCG72'),
        );
        const released = bundleOf(answer, 'passedPrescriptions')?.entry?.[0]?.resource as {
          entry: {
            resource: {
              resourceType: string;
              extension?: { url: string; extension?: { url: string; valueUnsignedInt?: number }[] }[];
            };
          }[];
        };
        return released.entry
          .filter((entry) => entry.resource.resourceType === 'MedicationRequest')
          .map(
            (entry) =>
              entry.resource.extension
                ?.find((extension) => extension.url.endsWith('MedicationRepeatInformation'))
                ?.extension?.find((part) => part.url === 'numberOfPrescriptionsIssued')?.valueUnsignedInt ?? 0,
          );
      };
      expect(await issuesReleased()).toEqual([1, 1, 1, 1]);
      expect((await under.eps.getPrescription({ shortFormId }, clinician())).issue).toEqual({ current: 1, total: 7 });

      const dispensed = aimedAt(
        'spec/dispensing/dispense-notification/acute-primary-example-03-req.json',
        shortFormId,
      ) as { identifier: { value: string } };
      dispensed.identifier.value = randomUUID();
      await under.eps.dispense({ bundle: dispensed }, pharmacist('FCG72'));
      const afterFirst = await under.eps.getPrescription({ shortFormId }, clinician());
      expect(afterFirst).toMatchObject({ status: '0001', dispenser: null, issue: { current: 2, total: 7 } });

      expect(await issuesReleased()).toEqual([2, 2, 2, 2]);
      await under.eps.claim(
        { resource: aimedAt('spec/dispensing/claim/eRD-primary-example-req.json', shortFormId) },
        pharmacist('FCG72'),
      );
      const tracking = await under.eps.getPrescription({ shortFormId }, clinician());
      expect(tracking).toMatchObject({ status: '0002', dispenser: 'FCG72', issue: { current: 2, total: 7 } });
      expect(
        tracking.history.map((event) => [event.kind, event.detail?.replace(/^[0-9a-f-]{36} /, '') ?? null]),
      ).toEqual([
        ['created', '4 item(s), continuous-repeat-dispensing'],
        ['released', null],
        ['dispensed', '(issue 1 of 7)'],
        ['next-issue', 'issue 2 of 7 releasable'],
        ['released', null],
        ['claimed', 'issue 1'],
      ]);
      const again = await rejectionOf(
        under.eps.claim(
          { resource: aimedAt('spec/dispensing/claim/eRD-primary-example-req.json', shortFormId) },
          pharmacist('FCG72'),
        ),
      );
      expect(again.code).toBe('INVALID_VALUE');
    });
  });

  describe('under concurrency (50 callers, pool of 10)', () => {
    const CALLERS = 50;
    const BOUND_MS = 30_000;
    const count = async (sql: string, values: unknown[]): Promise<number> =>
      (await under.db.query<{ n: number }>(sql, values)).rows[0].n;

    it('creates 50 prescriptions sent at the same moment, each once, with its event', async () => {
      const bundles = await Promise.all(
        Array.from({ length: CALLERS }, () =>
          signed(under.eps, freshPrescription(ACUTE, { nhsNumber: ALIVE, pharmacy: 'VNE51' })),
        ),
      );
      const results = outcomes(
        await allAtOnce(CALLERS, BOUND_MS, (i) => under.eps.createPrescription({ bundle: bundles[i] }, clinician())),
      );
      expect(tally(results, (result) => (typeof result === 'string' ? result : result.status))).toEqual({
        '0001': CALLERS,
      });
      const ids = bundles.map((bundle) => shortFormIdOf(bundle));
      expect(
        await count(`SELECT count(*)::int AS n FROM "${under.schema}".prescription WHERE short_form_id = ANY($1)`, [
          ids,
        ]),
      ).toBe(CALLERS);
      expect(
        await count(
          `SELECT count(*)::int AS n FROM "${under.schema}".outbox WHERE subject = $1 AND payload->>'shortFormId' = ANY($2)`,
          [EPS_EVENTS.created, ids],
        ),
      ).toBe(CALLERS);
    });

    it('answers 50 simultaneous retries of one prescription with its one answer, created once', async () => {
      const bundle = await signed(under.eps, freshPrescription(ACUTE, { nhsNumber: ALIVE, pharmacy: 'VNE51' }));
      const retry = clinician();
      const results = outcomes(
        await allAtOnce(CALLERS, BOUND_MS, () => under.eps.createPrescription({ bundle }, retry)),
      );
      expect(typeof results[0]).not.toBe('string');
      for (const result of results) expect(result).toEqual(results[0]);
      expect(
        await count(
          `SELECT count(*)::int AS n FROM "${under.schema}".outbox WHERE subject = $1 AND payload->>'shortFormId' = $2`,
          [EPS_EVENTS.created, shortFormIdOf(bundle)],
        ),
      ).toBe(1);
    });

    it('settles 50 simultaneous cancellations of one prescription: one R-0001, the rest R-0006, one history entry', async () => {
      const bundle = await signed(under.eps, freshPrescription(ACUTE, { nhsNumber: ALIVE, pharmacy: 'VNE51' }));
      await under.eps.createPrescription({ bundle }, clinician());
      const results = outcomes(
        await allAtOnce(CALLERS, BOUND_MS, () =>
          under.eps.cancel({ bundle: cancelBundle(bundle, ALIVE) }, clinician()),
        ),
      );
      expect(tally(results, (result) => (typeof result === 'string' ? result : rCodes(result).join(',')))).toEqual({
        'R-0001': 1,
        'R-0006': CALLERS - 1,
      });
      const tracking = await under.eps.getPrescription({ shortFormId: shortFormIdOf(bundle) }, clinician());
      expect(tracking.history.map((event) => event.kind)).toEqual(['created', 'cancelled']);
    });

    it('takes one of 50 simultaneous returns of one held prescription; the others are refused and change nothing', async () => {
      const shortFormId = await prescribe(null);
      await under.eps.release({ parameters: releaseRequest('FCG72', shortFormId) }, pharmacist('FCG72'));
      const results = outcomes(
        await allAtOnce(CALLERS, BOUND_MS, () =>
          under.eps.returnPrescription({ task: returnTask(shortFormId) }, pharmacist('FCG72')),
        ),
      );
      expect(tally(results, (result) => (typeof result === 'string' ? result : 'returned'))).toEqual({
        returned: 1,
        INVALID_VALUE: CALLERS - 1,
      });
      const tracking = await under.eps.getPrescription({ shortFormId }, clinician());
      expect(tracking).toMatchObject({ status: '0001', dispenser: null });
      expect(tracking.history.map((event) => event.kind)).toEqual(['created', 'released', 'returned']);
    });
  });
});

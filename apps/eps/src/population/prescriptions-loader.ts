import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { copyArray, copyField, withTransaction, type ServiceDatabase } from '@platform/shared-persistence';
import { generateNhsNumber, prescriptionCheckCharacter, seededRandom, Weighted } from '@platform/shared-identifiers';

/** Statuses of a settled store: most prescriptions dispensed, some waiting, some with a pharmacy, a few cancelled. */
const STATUSES = new Weighted<string>([
  ['0006', 50],
  ['0001', 30],
  ['0002', 12],
  ['0005', 5],
  ['0008', 3],
]);

/** The n-th generated short-form ID: a counter in the first and last parts, prescriber A83008, its check character. */
export function generatedShortFormId(index: number): string {
  const first = (0xe00000 + Math.floor(index / 0x100000)).toString(16).toUpperCase().padStart(6, '0');
  const last = (index % 0x100000).toString(16).toUpperCase().padStart(5, '0');
  const body = `${first}A83008${last}`;
  return `${first}-A83008-${last}${prescriptionCheckCharacter(body)}`;
}

/**
 * A compact prescription-order Bundle (one item, paracetamol, prescriber 555086689106 at A83008) that passes
 * every rule; `$prepare`'s digest and a signature make it a prescription EPS accepts.
 */
export function prescriptionBundle(
  shortFormId: string,
  longFormId: string,
  nhsNumber: string,
  pharmacy: string | null,
): Record<string, unknown> & { entry: { fullUrl: string; resource: Record<string, unknown> }[] } {
  const item = `urn:uuid:${longFormId.slice(0, 24)}000000000001`;
  return {
    resourceType: 'Bundle',
    type: 'message',
    identifier: { system: 'https://tools.ietf.org/html/rfc4122', value: longFormId },
    entry: [
      {
        fullUrl: 'urn:uuid:header',
        resource: {
          resourceType: 'MessageHeader',
          eventCoding: { system: 'https://fhir.nhs.uk/CodeSystem/message-event', code: 'prescription-order' },
          focus: [{ reference: item }],
        },
      },
      {
        fullUrl: item,
        resource: {
          resourceType: 'MedicationRequest',
          identifier: [{ system: 'https://fhir.nhs.uk/Id/prescription-order-item-number', value: item.slice(9) }],
          status: 'active',
          intent: 'order',
          medicationCodeableConcept: {
            coding: [
              {
                system: 'http://snomed.info/sct',
                code: '39720311000001101',
                display: 'Paracetamol 500mg soluble tablets',
              },
            ],
          },
          subject: { reference: 'urn:uuid:patient' },
          requester: { reference: 'urn:uuid:role' },
          groupIdentifier: {
            system: 'https://fhir.nhs.uk/Id/prescription-order-number',
            value: shortFormId,
            extension: [
              {
                url: 'https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionId',
                valueIdentifier: { system: 'https://fhir.nhs.uk/Id/prescription', value: longFormId },
              },
            ],
          },
          courseOfTherapyType: {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy', code: 'acute' },
            ],
          },
          dosageInstruction: [{ text: '4 times a day' }],
          dispenseRequest: {
            quantity: { value: 60, unit: 'tablet' },
            ...(pharmacy
              ? {
                  performer: {
                    identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: pharmacy },
                  },
                }
              : {}),
          },
        },
      },
      {
        fullUrl: 'urn:uuid:patient',
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber }],
        },
      },
      {
        fullUrl: 'urn:uuid:role',
        resource: {
          resourceType: 'PractitionerRole',
          practitioner: { reference: 'urn:uuid:practitioner' },
          organization: { reference: 'urn:uuid:organisation' },
        },
      },
      {
        fullUrl: 'urn:uuid:practitioner',
        resource: {
          resourceType: 'Practitioner',
          identifier: [{ system: 'https://fhir.nhs.uk/Id/sds-user-id', value: '555086689106' }],
        },
      },
      {
        fullUrl: 'urn:uuid:organisation',
        resource: {
          resourceType: 'Organization',
          identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A83008' }],
        },
      },
    ],
  };
}

function bundleJson(shortFormId: string, longFormId: string, nhsNumber: string, pharmacy: string | null): string {
  const bundle = prescriptionBundle(shortFormId, longFormId, nhsNumber, pharmacy);
  // A placeholder, not a signature: generated prescriptions would fail a release (failedPrescriptions).
  bundle.entry.push({
    fullUrl: 'urn:uuid:provenance',
    resource: { resourceType: 'Provenance', signature: [{ data: 'Z2VuZXJhdGVk' }] },
  });
  return JSON.stringify(bundle);
}

/**
 * Loads `count` synthetic prescriptions with COPY in one transaction (a settled store to measure against:
 * dispensed, waiting, with a pharmacy, cancelled), nominated among `pharmacies`. Their signatures are
 * placeholders: the generated rows are for volume, not for releasing. Deterministic for a seed.
 */
export async function loadPrescriptions(
  database: ServiceDatabase,
  settings: { count: number; seed: number; pharmacies: string[] },
  progress: (done: number) => void = () => undefined,
): Promise<{ loaded: number; ms: number }> {
  const started = performance.now();
  const random = seededRandom(settings.seed);
  const schema = `"${database.schema}"`;
  await withTransaction(database.pool, async (client) => {
    const existing = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${schema}.prescription WHERE short_form_id LIKE 'E%'`,
    );
    if ((existing.rows[0]?.n ?? 0) > 0)
      throw new Error(`schema ${database.schema} already holds generated prescriptions`);
    const rows = function* (): Generator<string> {
      for (let index = 0; index < settings.count; index += 1) {
        const shortFormId = generatedShortFormId(index);
        const longFormId = `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
        const nhsNumber = generateNhsNumber(random);
        const pharmacy =
          random() < 0.8 ? (settings.pharmacies[Math.floor(random() * settings.pharmacies.length)] ?? null) : null;
        const status = STATUSES.pick(random);
        const dispenser = ['0002', '0006', '0008'].includes(status)
          ? (pharmacy ?? settings.pharmacies[0] ?? 'FCG72')
          : null;
        const itemId = `${longFormId.slice(0, 24)}000000000001`;
        if (index % 50_000 === 0) progress(index);
        yield [
          shortFormId,
          longFormId,
          copyField(bundleJson(shortFormId, longFormId, nhsNumber, pharmacy)),
          status,
          nhsNumber,
          'A83008',
          '555086689106',
          copyField(pharmacy),
          copyField(dispenser),
          'acute',
          copyArray([itemId]),
          // Valid for six months from a day in the last five.
          new Date(Date.now() + (30 - Math.floor(random() * 150)) * 86_400_000).toISOString().slice(0, 10),
        ].join('\t') + '\n';
      }
    };
    await pipeline(
      Readable.from(rows()),
      client.query(
        copyFrom(
          `COPY ${schema}.prescription (short_form_id, long_form_id, bundle, status, patient_nhs_number, prescriber_ods,
             prescriber_sds_user_id, nominated_pharmacy, dispenser, course_of_therapy, item_ids, expires_on) FROM STDIN`,
        ),
      ),
    );
  });
  await database.pool.query(`ANALYZE ${schema}.prescription`);
  progress(settings.count);
  return { loaded: settings.count, ms: Math.round(performance.now() - started) };
}

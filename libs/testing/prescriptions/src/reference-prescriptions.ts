import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { generateShortFormPrescriptionId } from '@platform/shared-identifiers';
import { referencePath } from '@platform/shared-testing';

/** A FHIR Bundle as JSON (the EPS tests read and rewrite the NHS example messages). */
export interface BundleJson {
  resourceType: string;
  entry?: { fullUrl?: string; resource?: Record<string, unknown> & { resourceType?: string } }[];
  [field: string]: unknown;
}

/**
 * An NHS example prescription-order request (`shared/reference/eps-gp2gp/eps/<file>`) made fresh for a
 * stateful store: a new short-form ID (prescriber A83008, with its check character) and long-form ID, the
 * patient and nominated pharmacy given (`pharmacy: null` removes the nomination), valid from today, and no signature: the
 * NHS examples are signed with NHS test keys over the HL7 V3 form, which the platform cannot verify.
 */
export function freshPrescription(file: string, changes: { nhsNumber: string; pharmacy?: string | null }): BundleJson {
  const text = readFileSync(referencePath(`eps-gp2gp/eps/${file}`), 'utf8');
  const template = JSON.parse(text) as BundleJson;
  const resources = (template.entry ?? []).map((entry) => entry.resource);
  const item = resources.find((resource) => resource?.resourceType === 'MedicationRequest');
  const group = item?.['groupIdentifier'] as { value: string; extension: { valueIdentifier: { value: string } }[] };
  const patient = resources.find((resource) => resource?.resourceType === 'Patient');
  const oldNhs = (patient?.['identifier'] as { value: string }[])[0]?.value ?? '';
  const oldPharmacy = (item?.['dispenseRequest'] as { performer?: { identifier: { value: string } } } | undefined)
    ?.performer?.identifier.value;
  let json = text
    .replaceAll(group.value, generateShortFormPrescriptionId('A83008'))
    .replaceAll(group.extension[0]?.valueIdentifier.value ?? '#', randomUUID())
    .replaceAll(`"${oldNhs}"`, `"${changes.nhsNumber}"`);
  if (oldPharmacy && changes.pharmacy) json = json.replaceAll(`"${oldPharmacy}"`, `"${changes.pharmacy}"`);
  const bundle = JSON.parse(json) as BundleJson;
  // Valid from today, as a prescription written now is (the examples date from 2022).
  const today = new Date().toISOString().slice(0, 10);
  for (const entry of bundle.entry ?? []) {
    const validity = (
      entry.resource?.['dispenseRequest'] as { validityPeriod?: { start?: string; end?: string } } | undefined
    )?.validityPeriod;
    if (validity?.start) validity.start = today;
    if (validity?.end) delete validity.end;
  }
  if (changes.pharmacy === null) {
    for (const entry of bundle.entry ?? []) {
      const request = entry.resource?.['dispenseRequest'] as Record<string, unknown> | undefined;
      if (request) delete request['performer'];
    }
  }
  bundle.entry = (bundle.entry ?? []).filter((entry) => entry.resource?.resourceType !== 'Provenance');
  return bundle;
}

/** The short-form prescription ID of a prescription-order Bundle. */
export function shortFormIdOf(bundle: BundleJson): string {
  const item = (bundle.entry ?? []).find((entry) => entry.resource?.resourceType === 'MedicationRequest')?.resource;
  return (item?.['groupIdentifier'] as { value: string }).value;
}

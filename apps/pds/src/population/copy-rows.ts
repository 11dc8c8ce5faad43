import { copyArray, copyField } from '@platform/shared-persistence';
import { searchRowsOf } from '../patients/search-rows';
import type { GeneratedPatient } from './population';

/** The columns each COPY fills, in order (generated columns such as the phonetic keys are computed by PostgreSQL). */
export const COPY_COLUMNS = {
  patient: [
    'nhs_number',
    'version',
    'resource',
    'restricted',
    'superseded_by',
    'invalidated',
    'gender',
    'birth_date',
    'death_date',
    'gp_ods',
    'emails',
    'phones',
    'previous_emails',
    'previous_phones',
  ],
  patient_name: ['nhs_number', 'seq', 'family', 'given', 'family_norm', 'given_norm', 'birth_date', 'current'],
  patient_address: ['nhs_number', 'seq', 'postcode_norm', 'current'],
} as const;

export type CopyTable = keyof typeof COPY_COLUMNS;

function flag(value: boolean): string {
  return value ? 't' : 'f';
}

/** One patient's lines for the three COPY streams, derived by the same code as every other write. */
export function copyLines(patient: GeneratedPatient): Record<CopyTable, string> {
  const rows = searchRowsOf(patient.resource);
  const columns = rows.patient;
  const nhs = patient.nhsNumber;
  const patientLine = [
    nhs,
    String(patient.version),
    copyField(JSON.stringify(patient.resource)),
    flag(patient.restricted),
    copyField(patient.supersededBy),
    'f',
    copyField(columns.gender),
    copyField(columns.birthDate),
    copyField(columns.deathDate),
    copyField(columns.gpOds),
    copyArray(columns.emails),
    copyArray(columns.phones),
    copyArray(columns.previousEmails),
    copyArray(columns.previousPhones),
  ].join('\t');
  let names = '';
  rows.names.forEach((name, seq) => {
    names += `${nhs}\t${seq}\t${copyField(name.family)}\t${copyArray(name.given)}\t${copyField(name.familyNorm)}\t${copyArray(
      name.givenNorm,
    )}\t${copyField(name.birthDate)}\t${flag(name.current)}\n`;
  });
  let addresses = '';
  rows.addresses.forEach((address, seq) => {
    addresses += `${nhs}\t${seq}\t${copyField(address.postcodeNorm)}\t${flag(address.current)}\n`;
  });
  return { patient: `${patientLine}\n`, patient_name: names, patient_address: addresses };
}

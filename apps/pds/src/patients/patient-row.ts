import type { StoredPatient } from './patient-record';

/**
 * The row every read of a patient selects, and its mapping to a `StoredPatient`. The patients folder owns
 * it and exports it deliberately for the statements elsewhere that read a patient's row in the same round
 * trip as their own work: the read audit's group commit (audit/) and the search (search/). They select
 * these columns rather than copying them, so a column added to the patient is read the same way everywhere.
 */
export const PATIENT_COLUMNS =
  'nhs_number, version, resource::text AS resource_json, restricted, superseded_by, invalidated';

export interface PatientRow {
  nhs_number: string;
  version: number;
  resource_json: string;
  restricted: boolean;
  superseded_by: string | null;
  invalidated: boolean;
}

export function toStored(row: PatientRow): StoredPatient {
  return {
    nhsNumber: row.nhs_number,
    version: row.version,
    resourceJson: row.resource_json,
    restricted: row.restricted,
    supersededBy: row.superseded_by,
    invalidated: row.invalidated,
  };
}

import type { Patient } from '@platform/contracts-pds';
import { redacted, type StoredPatient } from '../patients/patient-record';

/** Names and addresses a search shows (Spine shows usual, nickname and temporary names; home addresses). */
const SHOWN_NAME_USES = new Set(['usual', 'nickname', 'temp']);
const SHOWN_ADDRESS_USES = new Set(['home']);
/** The only top-level extension a search shows; pharmacies, communication, preferences and the rest are left out. */
const SHOWN_EXTENSIONS = ['Extension-UKCore-DeathNotificationStatus'];

function kept(items: unknown, uses: Set<string>): unknown[] | undefined {
  if (!Array.isArray(items)) return undefined;
  const shown = items.filter((item) => {
    const use = (item as { use?: unknown } | null)?.use;
    return use === undefined || (typeof use === 'string' && uses.has(use));
  });
  return shown.length > 0 ? shown : undefined;
}

function setOrDelete(patient: Patient, field: string, value: unknown[] | undefined): void {
  if (value === undefined) delete patient[field];
  else patient[field] = value;
}

/**
 * A patient as a search result shows it, as Spine does: less than a read (no managing organisation, no
 * previous names, only home addresses, no pharmacy, communication or contact-preference extensions), and a
 * restricted patient without anything that could locate them.
 */
export function searchView(stored: StoredPatient): Patient {
  const parsed = JSON.parse(stored.resourceJson) as Patient;
  const patient: Patient = stored.restricted ? redacted(parsed) : parsed;
  delete patient['managingOrganization'];
  if ('name' in patient) setOrDelete(patient, 'name', kept(patient['name'], SHOWN_NAME_USES));
  if ('address' in patient) setOrDelete(patient, 'address', kept(patient['address'], SHOWN_ADDRESS_USES));
  if ('extension' in patient) {
    const extensions = Array.isArray(patient['extension']) ? (patient['extension'] as unknown[]) : [];
    const shown = extensions.filter((extension) => {
      const url = (extension as { url?: unknown } | null)?.url;
      return typeof url === 'string' && SHOWN_EXTENSIONS.some((name) => url.endsWith(`/${name}`));
    });
    setOrDelete(patient, 'extension', shown.length > 0 ? shown : undefined);
  }
  return patient;
}

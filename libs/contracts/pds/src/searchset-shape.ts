import { isValidNhsNumber } from '@platform/shared-identifiers';

const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const PATIENT_URL = /^https?:\/\/[^/\s]+(\/[^\s]*)?\/personal-demographics\/FHIR\/R4\/Patient\/(\d{10})$/;
const LOCATING_FIELDS = ['address', 'telecom', 'contact', 'generalPractitioner'];
const ENTRY_FIELDS = ['fullUrl', 'search', 'resource'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function patientProblems(resource: unknown, at: string): string[] {
  if (!isRecord(resource)) return [`${at}: resource is not an object`];
  const problems: string[] = [];
  if (resource['resourceType'] !== 'Patient') problems.push(`${at}: resourceType is not Patient`);
  const id = resource['id'];
  if (typeof id !== 'string' || !isValidNhsNumber(id)) problems.push(`${at}: id is not a valid NHS number`);
  const meta = resource['meta'];
  if (!isRecord(meta) || typeof meta['versionId'] !== 'string' || !/^\d+$/.test(meta['versionId'])) {
    problems.push(`${at}: meta.versionId is not a version number`);
    return problems;
  }
  const security = Array.isArray(meta['security']) ? (meta['security'] as unknown[]) : [];
  const label = security.find((item) => isRecord(item) && item['system'] === CONFIDENTIALITY);
  const code = isRecord(label) ? label['code'] : undefined;
  if (code !== 'U' && code !== 'R') problems.push(`${at}: meta.security has no confidentiality code U or R`);
  if (code === 'R') {
    for (const field of LOCATING_FIELDS) {
      if (field in resource) problems.push(`${at}: a restricted patient shows ${field}`);
    }
  }
  for (const field of ['identifier', 'name', 'address', 'telecom']) {
    if (field in resource && !(Array.isArray(resource[field]) && (resource[field] as unknown[]).every(isRecord))) {
      problems.push(`${at}: ${field} is not a list of objects`);
    }
  }
  return problems;
}

/**
 * What is wrong with a Patient search result, as the NHS PDS FHIR API shapes it and as the gateway must
 * answer: a searchset Bundle with a timestamp and a total equal to the number of entries (no `entry` when
 * there are none), each entry a Patient with its absolute `fullUrl` and `search.score` (0..1), best first,
 * restricted patients without their locating fields. An empty list means the shape is right.
 */
export function patientSearchsetProblems(bundle: unknown): string[] {
  if (!isRecord(bundle)) return ['not an object'];
  const problems: string[] = [];
  if (bundle['resourceType'] !== 'Bundle') problems.push('resourceType is not Bundle');
  if (bundle['type'] !== 'searchset') problems.push('type is not searchset');
  if (typeof bundle['timestamp'] !== 'string' || !TIMESTAMP.test(bundle['timestamp'])) {
    problems.push('timestamp is not an ISO 8601 date-time with a zone');
  }
  const entries = bundle['entry'];
  const total = bundle['total'];
  if (entries !== undefined && (!Array.isArray(entries) || entries.length === 0)) {
    problems.push('entry is present but not a non-empty list');
  }
  const list = Array.isArray(entries) ? (entries as unknown[]) : [];
  if (!Number.isInteger(total) || total !== list.length) problems.push('total is not the number of entries');
  let previous = Number.POSITIVE_INFINITY;
  list.forEach((entry, index) => {
    const at = `entry[${index}]`;
    if (!isRecord(entry)) {
      problems.push(`${at} is not an object`);
      return;
    }
    const extra = Object.keys(entry).filter((key) => !ENTRY_FIELDS.includes(key));
    if (extra.length > 0) problems.push(`${at} has unexpected fields: ${extra.join(', ')}`);
    const resource = entry['resource'];
    const url = typeof entry['fullUrl'] === 'string' ? PATIENT_URL.exec(entry['fullUrl']) : null;
    if (!url) problems.push(`${at}: fullUrl is not an absolute .../personal-demographics/FHIR/R4/Patient/{id} URL`);
    else if (isRecord(resource) && url[2] !== resource['id'])
      problems.push(`${at}: fullUrl does not name its resource`);
    const search = entry['search'];
    const score = isRecord(search) ? search['score'] : undefined;
    if (typeof score !== 'number' || score < 0 || score > 1) {
      problems.push(`${at}: search.score is not a number from 0 to 1`);
    } else {
      if (score > previous) problems.push(`${at}: entries are not best first`);
      previous = score;
    }
    problems.push(...patientProblems(resource, at));
  });
  return problems;
}

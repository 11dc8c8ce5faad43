import { ODS_COLUMNS } from './ods-csv';

/** One extract line in the ODS standard layout; `overrides` by column position. */
export function odsLine(code: string, name: string, overrides: Record<number, string> = {}): string {
  const fields = Array.from({ length: ODS_COLUMNS }, () => '');
  Object.assign(fields, {
    0: code,
    1: name,
    2: 'Y63',
    3: 'QHM',
    4: 'CHEAPSIDE',
    7: 'SHILDON',
    8: 'COUNTY DURHAM',
    9: 'DL4 2HP',
    10: '19740401',
    12: 'A',
    13: 'B',
    14: '84H',
    15: '20130401',
    17: '01388 772000',
    25: '4',
  });
  Object.assign(fields, overrides);
  return fields.map((field) => `"${field}"`).join(',');
}

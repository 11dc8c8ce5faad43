import { parse } from 'csv-parse/sync';
import { normalisePostcode } from './service-resource';

export interface PostcodePosition {
  postcode: string;
  latitude: number;
  longitude: number;
}

/**
 * Reads a postcode file in the ONS Postcode Directory layout (a header row naming `pcds` (or `pcd`/`postcode`),
 * `lat` and `long`; other columns ignored). Rows without a position (ONSPD marks those 99.999999, 0.000000) or
 * with an unreadable postcode are skipped and counted.
 */
export function readPostcodeFile(text: string): { positions: PostcodePosition[]; skipped: number } {
  const records: Record<string, string | undefined>[] = parse(text, {
    columns: (header: string[]) => header.map((name) => name.trim().toLowerCase()),
    skip_empty_lines: true,
  });
  const positions: PostcodePosition[] = [];
  let skipped = 0;
  for (const record of records) {
    const raw = record['pcds'] ?? record['pcd'] ?? record['postcode'] ?? '';
    const postcode = normalisePostcode(raw);
    const latitude = Number(record['lat']);
    const longitude = Number(record['long'] ?? record['lon'] ?? record['lng']);
    const valid =
      postcode !== undefined &&
      Number.isFinite(latitude) &&
      Number.isFinite(longitude) &&
      Math.abs(latitude) <= 90 &&
      Math.abs(longitude) <= 180 &&
      latitude !== 99.999999;
    if (valid) positions.push({ postcode, latitude, longitude });
    else skipped += 1;
  }
  return { positions, skipped };
}

import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * A file of the NHS's published reference payloads (`shared/reference/`, which sits beside the repository
 * checkout). Set PLATFORM_REFERENCE_DIR to use another copy.
 */
export function referencePath(...parts: string[]): string {
  const base = process.env['PLATFORM_REFERENCE_DIR'] ?? path.resolve(__dirname, '../../../../../shared/reference');
  const file = path.join(base, ...parts);
  if (!existsSync(file))
    throw new Error(`reference file not found: ${path.join(...parts)} (set PLATFORM_REFERENCE_DIR)`);
  return file;
}

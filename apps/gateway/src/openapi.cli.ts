import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { offlineOpenApiDocument, openApiText } from './openapi';

/**
 * `npm run openapi`: writes the gateway's OpenAPI document to docs/openapi.json, the reviewed copy of the
 * public API. `npm run openapi -- --check` only says whether the file is up to date (exit code 1 if not).
 */
const FILE = path.resolve(__dirname, '../../../../docs/openapi.json');

async function main(): Promise<void> {
  const text = openApiText(await offlineOpenApiDocument());
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(FILE, 'utf8');
    } catch {
      // missing: out of date
    }
    if (current !== text) {
      process.stderr.write('docs/openapi.json is out of date: run `npm run openapi` and commit the change\n');
      process.exit(1);
    }
    process.stdout.write('docs/openapi.json is up to date\n');
    return;
  }
  writeFileSync(FILE, text);
  process.stdout.write('wrote docs/openapi.json\n');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `could not build the OpenAPI document: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});

import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { offlineOpenApiDocument, openApiText } from './openapi';

const CHECKED_IN = path.resolve(__dirname, '../../../docs/openapi.json');

describe('the checked-in OpenAPI document (docs/openapi.json)', () => {
  it('is the document the gateway builds from its routes: run `npm run openapi` after changing the API', async () => {
    const built = openApiText(await offlineOpenApiDocument());
    expect(readFileSync(CHECKED_IN, 'utf8')).toBe(built);
  });
});

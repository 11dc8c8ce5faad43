import { readFileSync } from 'node:fs';
import path from 'node:path';
import { e2eState } from './support/platform';

const CHECKED_IN = path.resolve(__dirname, '../../../docs/openapi.json');

describe('the public API a client sees', () => {
  it('is the document checked in at docs/openapi.json, so every API change shows in review', async () => {
    const response = await fetch(`${e2eState().gateway}/docs/openapi.json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(JSON.parse(readFileSync(CHECKED_IN, 'utf8')));
  });
});

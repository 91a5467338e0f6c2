/**
 * The committed client types (local/generated/paystep-api.ts) are exactly what openapi-typescript
 * generates from the current OpenAPI document: change a schema or a route and this fails until
 * `npm run generate:api-types` is run, so the typed client of `npm run demo` never lags the API.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_TYPES_FILE, renderApiTypes } from '../../../local/api-types';

describe('generated API client types', () => {
  it('match the OpenAPI document (run npm run generate:api-types after changing the API)', async () => {
    // Prepare
    const committed = readFileSync(API_TYPES_FILE, 'utf8');

    // Act
    const generated = await renderApiTypes();

    // Assess
    expect(committed).toBe(generated);
    expect(generated).toContain('"/v1/webhook_endpoints/{id}/test"');
  }, 60_000); // openapi-typescript renders the whole document: seconds on a loaded machine
});

/**
 * `npm run generate:openapi-document`: writes lambdas/api-openapi/openapi-document.json, the OpenAPI
 * document that lambdas/shared/openapi.ts builds with zod-openapi from the very schemas the handlers
 * validate with. GET /v1/openapi.json serves this file (with the deployment's server) instead of
 * building the document at run time, so the function carries neither zod-openapi nor full zod
 * (zod-openapi needs it) and the handlers validate with zod/mini alone (README "Bundle sizes").
 * test/unit/shared/openapi.test.ts fails when the file and the document differ, so a schema change
 * must be followed by running this again (and `npm run generate:api-types`).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildOpenApiDocument } from '../lambdas/shared/openapi';
import { REPO_ROOT } from '../lib/repo-root';

export const OPENAPI_DOCUMENT_FILE = resolve(REPO_ROOT, 'lambdas', 'api-openapi', 'openapi-document.json');

/** The file's text for the current document (no server URL: the local stack's default server). */
export function renderOpenApiDocument(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}

if (process.argv[1] !== undefined && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  writeFileSync(OPENAPI_DOCUMENT_FILE, renderOpenApiDocument());
  console.log(`wrote ${OPENAPI_DOCUMENT_FILE}`);
}

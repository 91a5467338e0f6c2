/**
 * GET /v1/openapi.json (no auth): the OpenAPI 3.1 document of the API, with this deployment's origin
 * as its server. The document is generated at build time from lambdas/shared/openapi.ts
 * (`npm run generate:openapi-document`, committed as openapi-document.json; a unit test fails when
 * it is stale), so this function carries neither zod-openapi nor full zod. Serialised once per
 * origin per cold start; it needs no table and no secret. `Paystep-Version` is honoured like
 * everywhere (unknown = 400).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { errorResponse, JSON_HEADERS, readApiVersion, requestIdOf } from '../shared/http';
import OPENAPI_DOCUMENT from './openapi-document.json';
import { API_VERSION_HEADER } from '../domain/api-version';

const documents = new Map<string, string>();

/** The API's origin as the caller reached it (API Gateway's domain, or the local host). */
function serverUrlOf(event: APIGatewayProxyEventV2, headers: Record<string, string>): string | undefined {
  const host = event.requestContext?.domainName ?? headers['host'];
  if (host === undefined || host === '') return undefined;
  const proto = headers['x-forwarded-proto'] === 'http' ? 'http' : 'https';
  return `${proto}://${host}`;
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
    const version = readApiVersion(headers);
    const serverUrl = serverUrlOf(event, headers);
    const key = serverUrl ?? '';
    let body = documents.get(key);
    if (body === undefined) {
      // `servers` keeps its place in the document: the same bytes as buildOpenApiDocument({ serverUrl }).
      body = JSON.stringify(
        serverUrl !== undefined
          ? { ...OPENAPI_DOCUMENT, servers: [{ url: serverUrl, description: 'This deployment' }] }
          : OPENAPI_DOCUMENT,
      );
      documents.set(key, body);
    }
    return {
      statusCode: 200,
      body,
      headers: { ...JSON_HEADERS, 'cache-control': 'public, max-age=300', [API_VERSION_HEADER.toLowerCase()]: version },
    };
  } catch (error) {
    return errorResponse(error, undefined, 'GET /v1/openapi.json', requestIdOf(event));
  }
}

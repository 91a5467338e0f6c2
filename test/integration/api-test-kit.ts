/**
 * Test kit for the API integration tests: starts DynamoDB Local, sets the environment the
 * handlers read at module load, then imports the real handlers and invokes them in-process with
 * API Gateway v2 events (route keys and path parameters resolved from lib/api-routes.ts).
 */
import { randomBytes, createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { API_ROUTES, routeKey } from '../../lib/api-routes';
import { createTemporaryCardVaultKeyFile } from '../../local/card-vault-key';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';

export type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export interface ApiCall {
  token?: string;
  body?: unknown;
  /** Raw body string (overrides `body`), e.g. malformed JSON. */
  rawBody?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  isBase64Encoded?: boolean;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  rawBody: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface ApiTestEnv {
  db: DynamoDbLocal;
  adminToken: string;
  handlers: { merchants: Handler; settings: Handler; checkouts: Handler };
  call(method: string, path: string, call?: ApiCall): Promise<ApiResponse>;
  createMerchant(
    name?: string,
    settings?: Record<string, unknown>,
  ): Promise<{ id: string; secretKey: string; body: ApiResponse['json'] }>;
  stop(): Promise<void>;
}

/** Builds the event API Gateway would send for `method path`. */
export function apiEvent(method: string, path: string, call: ApiCall = {}): APIGatewayProxyEventV2 {
  const [rawPath, rawQuery = ''] = path.split('?');
  const segments = rawPath!.split('/');
  let matchedKey = '$default';
  let pathParameters: Record<string, string> | undefined;
  for (const route of API_ROUTES) {
    if (route.method !== method) continue;
    const template = route.path.split('/');
    if (template.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = template.every((part, i) => {
      if (part.startsWith('{')) {
        params[part.slice(1, -1)] = decodeURIComponent(segments[i]!);
        return true;
      }
      return part === segments[i];
    });
    if (ok) {
      matchedKey = routeKey(route);
      pathParameters = Object.keys(params).length > 0 ? params : undefined;
      break;
    }
  }
  const query = { ...Object.fromEntries(new URLSearchParams(rawQuery)), ...call.query };
  const headers: Record<string, string> = { ...(call.headers ?? {}) };
  if (call.token !== undefined) headers['authorization'] = `Bearer ${call.token}`;
  let body: string | undefined = call.rawBody ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  if (call.isBase64Encoded === true && body !== undefined) body = Buffer.from(body, 'utf8').toString('base64');
  return {
    version: '2.0',
    routeKey: matchedKey,
    rawPath: rawPath!,
    rawQueryString: new URLSearchParams(query).toString(),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(pathParameters !== undefined ? { pathParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: rawPath!, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: randomBytes(8).toString('hex'),
      routeKey: matchedKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: call.isBase64Encoded === true,
  };
}

const context = {} as Context;

function handlerFor(handlers: ApiTestEnv['handlers'], path: string): Handler {
  if (path.startsWith('/v1/merchants')) return handlers.merchants;
  if (path.startsWith('/v1/settings')) return handlers.settings;
  return handlers.checkouts;
}

/**
 * The environment the handlers read at module load, for DynamoDB Local in local mode (merchant URLs
 * on 127.0.0.1 pass the SSRF guard, as under `npm start`). Set it before importing handlers.
 */
export function handlerEnv(db: DynamoDbLocal, adminToken: string): Record<string, string> {
  return {
    TABLE_NAME: db.tableName,
    CARD_VAULT_TABLE_NAME: db.cardVaultTableName,
    // A fresh 0600 key file per test process (left in the OS temp dir; it only ever keys throwaway data).
    CARD_VAULT_LOCAL_KEY_FILE: createTemporaryCardVaultKeyFile().file,
    DYNAMODB_ENDPOINT: db.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    PAYSTEP_SECRETS_KEY: randomBytes(32).toString('base64'),
    ADMIN_TOKEN_HASH: createHash('sha256').update(adminToken).digest('hex'),
    PUBLIC_CHECKOUT_BASE_URL: 'http://127.0.0.1:8080',
    ALLOW_HTTP_MERCHANT_URLS: 'true',
    PAYSTEP_MODE: 'local',
    ALLOW_LOOPBACK_URLS: 'true',
    POWERTOOLS_LOG_LEVEL: 'CRITICAL',
  };
}

/** Starts DynamoDB Local, sets env (`envOverrides` last), imports the handlers (env is read at module load). */
export async function startApiTestEnv(envOverrides: Record<string, string> = {}): Promise<ApiTestEnv> {
  const db = await startDynamoDbLocal();
  const adminToken = `admin_${randomBytes(16).toString('hex')}`;
  Object.assign(process.env, handlerEnv(db, adminToken), envOverrides);
  const handlers = {
    merchants: (await import('../../lambdas/api-merchants/handler')).handler as Handler,
    settings: (await import('../../lambdas/api-settings/handler')).handler as Handler,
    checkouts: (await import('../../lambdas/api-checkouts/handler')).handler as Handler,
  };
  const call = async (method: string, path: string, options: ApiCall = {}): Promise<ApiResponse> => {
    const result = await handlerFor(handlers, path)(apiEvent(method, path, options), context);
    const rawBody = result.body ?? '';
    return {
      status: result.statusCode ?? 0,
      headers: (result.headers ?? {}) as Record<string, string>,
      rawBody,
      json: rawBody === '' ? undefined : JSON.parse(rawBody),
    };
  };
  const createMerchant: ApiTestEnv['createMerchant'] = async (name = 'Test shop', settings) => {
    const response = await call('POST', '/v1/merchants', {
      token: adminToken,
      body: { name, ...(settings !== undefined ? { settings } : {}) },
    });
    if (response.status !== 201) throw new Error(`merchant creation failed: ${response.rawBody}`);
    return { id: response.json.id as string, secretKey: response.json.secret_key as string, body: response.json };
  };
  return { db, adminToken, handlers, call, createMerchant, stop: () => db.stop() };
}

/** A valid POST /v1/checkouts body; override fields per test. */
export function checkoutBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    merchant_order_ref: `order_${randomBytes(6).toString('hex')}`,
    amount: 10050,
    currency: 'usd',
    items: [{ sku: 'SKU-1', name: 'Mug', quantity: 2, unit_amount: 5025 }],
    customer: { email: 'buyer@example.com', name: 'Ada Buyer' },
    success_url: 'https://shop.example/success',
    failure_url: 'https://shop.example/failure',
    ...overrides,
  };
}

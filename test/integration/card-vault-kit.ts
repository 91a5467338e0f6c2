/**
 * Test kit for the card vault and customer integration tests: on top of api-test-kit (DynamoDB
 * Local, the handlers' environment), every request goes to the handler of the entry its route
 * names in lib/api-routes.ts, so these tests exercise the exact route-to-function split AWS deploys
 * (e.g. DELETE /v1/customers/{id} on the vault function).
 */
import type { Context } from 'aws-lambda';
import { API_ROUTES, routeKey, type ApiEntry } from '../../lib/api-routes';
import {
  apiEvent,
  checkoutBody,
  startApiTestEnv,
  type ApiCall,
  type ApiResponse,
  type ApiTestEnv,
  type Handler,
} from './api-test-kit';

export interface VaultTestEnv {
  env: ApiTestEnv;
  call(method: string, path: string, call?: ApiCall): Promise<ApiResponse>;
  /** Creates an open checkout for the merchant; returns its id and client secret. */
  createCheckout(secretKey: string, overrides?: Record<string, unknown>): Promise<{ id: string; clientSecret: string }>;
}

const context = { functionName: 'test', awsRequestId: 'req', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

export async function startVaultTestEnv(envOverrides: Record<string, string> = {}): Promise<VaultTestEnv> {
  const env = await startApiTestEnv(envOverrides);
  const handlers = new Map<ApiEntry, Handler>();
  const handlerOf = async (entry: ApiEntry): Promise<Handler> => {
    let handler = handlers.get(entry);
    if (handler === undefined) {
      handler = (await import(`../../lambdas/${entry}/handler.ts`)).handler as Handler;
      handlers.set(entry, handler);
    }
    return handler;
  };
  const call = async (method: string, path: string, options: ApiCall = {}): Promise<ApiResponse> => {
    const event = apiEvent(method, path, options);
    const route = API_ROUTES.find((candidate) => routeKey(candidate) === event.routeKey);
    if (route === undefined) throw new Error(`No route for ${method} ${path}`);
    const result = await (await handlerOf(route.entry))(event, context);
    const rawBody = result.body ?? '';
    return {
      status: result.statusCode ?? 0,
      headers: (result.headers ?? {}) as Record<string, string>,
      rawBody,
      json: rawBody === '' ? undefined : JSON.parse(rawBody),
    };
  };
  const createCheckout: VaultTestEnv['createCheckout'] = async (secretKey, overrides = {}) => {
    const response = await call('POST', '/v1/checkouts', { token: secretKey, body: checkoutBody(overrides) });
    if (response.status !== 201) throw new Error(`checkout creation failed: ${response.rawBody}`);
    return { id: response.json.id as string, clientSecret: response.json.client_secret as string };
  };
  return { env, call, createCheckout };
}

/** A card body for POST /v1/payment_methods, expiring well in the future. */
export function cardBody(number: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'card', card: { number, exp_month: 12, exp_year: new Date().getUTCFullYear() + 3, cvc: '123', ...overrides } };
}

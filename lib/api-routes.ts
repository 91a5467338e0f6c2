/**
 * The public HTTP API: one row per API Gateway route, naming the Lambda entry that serves it
 * (`lambdas/<entry>/handler.ts`). The CDK stateless stack and the local HTTP host both read this
 * table, so a route exists in both places or in neither.
 */
export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly entry: ApiEntry;
}

export type ApiEntry = 'api-merchants' | 'api-settings' | 'api-checkouts' | 'api-pay' | 'api-webhook-endpoints';

export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'POST', path: '/v1/merchants', entry: 'api-merchants' },
  { method: 'GET', path: '/v1/settings', entry: 'api-settings' },
  { method: 'PUT', path: '/v1/settings', entry: 'api-settings' },
  { method: 'POST', path: '/v1/checkouts', entry: 'api-checkouts' },
  { method: 'GET', path: '/v1/checkouts', entry: 'api-checkouts' },
  { method: 'GET', path: '/v1/checkouts/{id}', entry: 'api-checkouts' },
  { method: 'POST', path: '/v1/checkouts/{id}/cancel', entry: 'api-checkouts' },
  { method: 'POST', path: '/v1/checkouts/{id}/pay', entry: 'api-pay' },
  { method: 'GET', path: '/v1/checkouts/{id}/status', entry: 'api-pay' },
  { method: 'POST', path: '/v1/webhook_endpoints', entry: 'api-webhook-endpoints' },
  { method: 'GET', path: '/v1/webhook_endpoints', entry: 'api-webhook-endpoints' },
  { method: 'DELETE', path: '/v1/webhook_endpoints/{id}', entry: 'api-webhook-endpoints' },
];

/** API Gateway's route key for a route, e.g. `POST /v1/checkouts/{id}/pay`. */
export function routeKey(route: ApiRoute): string {
  return `${route.method} ${route.path}`;
}

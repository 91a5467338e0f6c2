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

export type ApiEntry =
  | 'api-merchants'
  | 'api-settings'
  | 'api-checkouts'
  | 'api-pay'
  | 'api-webhook-endpoints'
  | 'api-events'
  | 'web-checkout'
  | 'api-instruments'
  | 'api-psp-callbacks'
  | 'api-newstore'
  | 'api-openapi'
  | 'api-customers'
  | 'api-payment-methods'
  | 'api-operator'
  | 'api-connectors';

export const API_ROUTES: readonly ApiRoute[] = [
  // The OpenAPI 3.1 document of every /v1 route (no auth).
  { method: 'GET', path: '/v1/openapi.json', entry: 'api-openapi' },
  { method: 'POST', path: '/v1/merchants', entry: 'api-merchants' },
  // The operator view per connector (platform admin).
  { method: 'GET', path: '/v1/operator/connectors', entry: 'api-operator' },
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
  { method: 'POST', path: '/v1/financial_instruments', entry: 'api-instruments' },
  { method: 'GET', path: '/v1/financial_instruments/{id}', entry: 'api-instruments' },
  { method: 'POST', path: '/v1/financial_instruments/{id}/_capture', entry: 'api-instruments' },
  { method: 'POST', path: '/v1/financial_instruments/{id}/_refund', entry: 'api-instruments' },
  { method: 'POST', path: '/v1/financial_instruments/{id}/_revoke', entry: 'api-instruments' },
  { method: 'GET', path: '/v1/webhook_endpoints/{id}', entry: 'api-webhook-endpoints' },
  { method: 'POST', path: '/v1/webhook_endpoints/{id}/rotate_secret', entry: 'api-webhook-endpoints' },
  { method: 'POST', path: '/v1/webhook_endpoints/{id}/test', entry: 'api-webhook-endpoints' },
  { method: 'GET', path: '/v1/events', entry: 'api-events' },
  { method: 'GET', path: '/v1/events/{id}', entry: 'api-events' },
  { method: 'POST', path: '/v1/events/{id}/redeliver', entry: 'api-events' },
  // NewStore's payment-provider contract (callback_url = <API>/newstore): its own entry over the same instrument ledger.
  { method: 'POST', path: '/newstore/financial_instruments', entry: 'api-newstore' },
  { method: 'POST', path: '/newstore/financial_instruments/{instrument_id}/_capture', entry: 'api-newstore' },
  { method: 'POST', path: '/newstore/financial_instruments/{instrument_id}/_refund', entry: 'api-newstore' },
  { method: 'POST', path: '/newstore/financial_instruments/{instrument_id}/_revoke', entry: 'api-newstore' },
  // Customers; the routes that read or destroy saved cards are served by the vault function (only it may read the vault table).
  { method: 'POST', path: '/v1/customers', entry: 'api-customers' },
  { method: 'GET', path: '/v1/customers/{id}', entry: 'api-customers' },
  { method: 'DELETE', path: '/v1/customers/{id}', entry: 'api-payment-methods' },
  { method: 'GET', path: '/v1/customers/{id}/payment_methods', entry: 'api-payment-methods' },
  // The card vault (the checkout's cs_ client secret or the merchant key may add a card).
  { method: 'POST', path: '/v1/payment_methods', entry: 'api-payment-methods' },
  { method: 'GET', path: '/v1/payment_methods/{id}', entry: 'api-payment-methods' },
  { method: 'POST', path: '/v1/payment_methods/{id}/detach', entry: 'api-payment-methods' },
  // The merchant's connectors and routing rules (DESIGN Part 2).
  { method: 'GET', path: '/v1/connector_accounts', entry: 'api-connectors' },
  { method: 'POST', path: '/v1/connector_accounts', entry: 'api-connectors' },
  { method: 'GET', path: '/v1/routing', entry: 'api-connectors' },
  { method: 'PUT', path: '/v1/routing', entry: 'api-connectors' },
  // Signed PSP callbacks (no bearer token: the signature is the authentication).
  { method: 'POST', path: '/v1/psp/{connector}/callbacks', entry: 'api-psp-callbacks' },
  // The hosted checkout page (HTML), on the API's origin so the page calls /v1 without CORS.
  { method: 'GET', path: '/checkout/{id}', entry: 'web-checkout' },
];

/** API Gateway's route key for a route, e.g. `POST /v1/checkouts/{id}/pay`. */
export function routeKey(route: ApiRoute): string {
  return `${route.method} ${route.path}`;
}

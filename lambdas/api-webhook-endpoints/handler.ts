/**
 * Where a merchant's events go: POST /v1/webhook_endpoints (returns the whsec_ signing secret
 * once; stored encrypted), GET /v1/webhook_endpoints[/{id}], DELETE /v1/webhook_endpoints/{id},
 * POST /v1/webhook_endpoints/{id}/rotate_secret (new secret shown once; the old one keeps signing
 * alongside it until the overlap ends), POST /v1/webhook_endpoints/{id}/test (queues a signed
 * `webhook_endpoint.test` event for that endpoint). URLs pass the SSRF guard here (422 `unsafe_url`)
 * and again at every connection. Delivery is the saga's terminal steps (notifyMerchant in-process) plus the webhook dispatcher.
 * Use cases: lambdas/use-cases/webhook-endpoints/.
 */
import { createMerchantUrlGuard } from '../adapters/url-guard';
import { WEBHOOK_EVENT_TYPES } from '../domain/webhook-events';
import { apiConfig, apiDependencies } from '../shared/api-wiring';
import { requireMerchant } from '../shared/auth';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { builtOnFirstUse, parseInput } from '../shared/validation';
import {
  createWebhookEndpointInputSchema,
  ROTATION_OVERLAP,
  rotateSecretInputSchema,
  testWebhookEndpointInputSchema,
} from '../shared/request-schemas';
import { toEventLogView, toListView, toWebhookEndpointView } from '../shared/views';
import { eventStore } from '../shared/event-wiring';
import { webhookEndpointRepository } from '../shared/webhook-endpoint-wiring';
import { merchantUrlPolicy, secretCipher } from '../shared/wiring';
import { createWebhookEndpoint, MAX_ENDPOINTS_PER_MERCHANT } from '../use-cases/webhook-endpoints/create-webhook-endpoint';
import { deleteWebhookEndpoint } from '../use-cases/webhook-endpoints/delete-webhook-endpoint';
import { getWebhookEndpoint } from '../use-cases/webhook-endpoints/get-webhook-endpoint';
import { listWebhookEndpoints } from '../use-cases/webhook-endpoints/list-webhook-endpoints';
import { rotateWebhookEndpointSecret } from '../use-cases/webhook-endpoints/rotate-webhook-endpoint-secret';
import { testWebhookEndpoint } from '../use-cases/webhook-endpoints/test-webhook-endpoint';

export { MAX_ENDPOINTS_PER_MERCHANT, ROTATION_OVERLAP, WEBHOOK_EVENT_TYPES };

const createEndpointSchema = builtOnFirstUse(() =>
  createWebhookEndpointInputSchema({ allowHttpUrls: apiConfig.allowHttpMerchantUrls || merchantUrlPolicy.allowHttp }),
);
const deps = {
  webhookEndpoints: webhookEndpointRepository,
  events: eventStore,
  cipher: secretCipher,
  urlGuard: createMerchantUrlGuard(merchantUrlPolicy),
};

async function create(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const input = parseInput(createEndpointSchema(), request.body);
  const { endpoint, secret } = await createWebhookEndpoint(deps, {
    merchant,
    url: input.url,
    ...(input.enabled_events !== undefined ? { enabledEvents: input.enabled_events } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    apiVersion: input.api_version ?? request.apiVersion,
    now: request.now,
  });
  return { statusCode: 201, body: toWebhookEndpointView(endpoint, secret) };
}

async function list(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const endpoints = await listWebhookEndpoints(deps, { merchantId: merchant.id });
  return {
    statusCode: 200,
    body: toListView(
      endpoints.map((endpoint) => toWebhookEndpointView(endpoint)),
      undefined,
    ),
  };
}

async function get(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const endpoint = await getWebhookEndpoint(deps, { merchantId: merchant.id, endpointId: request.pathParameters.id ?? '' });
  return { statusCode: 200, body: toWebhookEndpointView(endpoint) };
}

async function remove(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const id = request.pathParameters.id ?? '';
  await deleteWebhookEndpoint(deps, { merchantId: merchant.id, endpointId: id });
  return { statusCode: 200, body: { id, object: 'webhook_endpoint', deleted: true } };
}

/**
 * A new whsec_ secret, returned once. Until `expires_in_seconds` from now, every webhook carries
 * two signatures (new and old), so the merchant can deploy the new secret without losing events.
 */
async function rotateSecret(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const input = parseInput(rotateSecretInputSchema(), request.body);
  const { endpoint, secret } = await rotateWebhookEndpointSecret(deps, {
    merchantId: merchant.id,
    endpointId: request.pathParameters.id ?? '',
    overlapSeconds: input.expires_in_seconds ?? ROTATION_OVERLAP.defaultSeconds,
    now: request.now,
  });
  return { statusCode: 200, body: toWebhookEndpointView(endpoint, secret) };
}

/**
 * Queues a signed `webhook_endpoint.test` event for this endpoint alone; the dispatcher delivers it
 * like any event (202: the answer shows the pending delivery; GET /v1/events/{id} shows the attempt).
 */
async function test(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  parseInput(testWebhookEndpointInputSchema(), request.body);
  const event = await testWebhookEndpoint(
    { ...deps, now: () => request.now, renderEndpoint: (endpoint) => toWebhookEndpointView(endpoint) },
    { merchantId: merchant.id, endpointId: request.pathParameters.id ?? '' },
  );
  return { statusCode: 202, body: toEventLogView(event) };
}

export const handler = createApiHandler(
  {
    'POST /v1/webhook_endpoints': { auth: ['merchant'], handle: create },
    'GET /v1/webhook_endpoints': { auth: ['merchant'], handle: list },
    'GET /v1/webhook_endpoints/{id}': { auth: ['merchant'], handle: get },
    'DELETE /v1/webhook_endpoints/{id}': { auth: ['merchant'], handle: remove },
    'POST /v1/webhook_endpoints/{id}/rotate_secret': { auth: ['merchant'], handle: rotateSecret },
    'POST /v1/webhook_endpoints/{id}/test': { auth: ['merchant'], handle: test },
  },
  apiDependencies,
);

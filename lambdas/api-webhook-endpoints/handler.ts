/**
 * Where a merchant's events go: POST /v1/webhook_endpoints (returns the whsec_ signing secret
 * once; stored encrypted), GET /v1/webhook_endpoints[/{id}], DELETE /v1/webhook_endpoints/{id},
 * POST /v1/webhook_endpoints/{id}/rotate_secret (new secret shown once; the old one keeps signing
 * alongside it until the overlap ends), POST /v1/webhook_endpoints/{id}/test (queues a signed
 * `webhook_endpoint.test` event for that endpoint). URLs pass the SSRF guard here (422 `unsafe_url`)
 * and again at every connection. Delivery is the saga's NotifyMerchant step plus the webhook dispatcher.
 */
import { randomUUID } from 'node:crypto';
import { assertSafeUrl, withMerchantPorts } from '../adapters/url-guard';
import { generateSigningSecret, generateWebhookEndpointId } from '../domain/ids';
import { WEBHOOK_EVENT_TYPES } from '../domain/webhook-events';
import { ConflictError, NotFoundError } from '../errors';
import type { WebhookEndpoint } from '../domain/webhook-endpoint';
import { apiConfig, apiDependencies } from '../shared/api-wiring';
import { requireMerchant } from '../shared/auth';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { parseInput } from '../shared/validation';
import {
  createWebhookEndpointInputSchema,
  ROTATION_OVERLAP,
  rotateSecretInputSchema,
  testWebhookEndpointInputSchema,
} from '../shared/request-schemas';
import { toEventLogView, toListView, toWebhookEndpointView } from '../shared/views';
import { eventStore, merchantUrlPolicy, secretCipher, webhookEndpointRepository } from '../shared/wiring';
import { sendTestEvent } from '../use-cases/webhook-delivery';

export { WEBHOOK_EVENT_TYPES };

/** Each event is one DynamoDB transaction with its deliveries: keeps it far below the 100-item limit. */
export const MAX_ENDPOINTS_PER_MERCHANT = 16;

export { ROTATION_OVERLAP };

const createEndpointSchema = createWebhookEndpointInputSchema({
  allowHttpUrls: apiConfig.allowHttpMerchantUrls || merchantUrlPolicy.allowHttp,
});

async function createEndpoint(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const input = parseInput(createEndpointSchema, request.body);
  await assertSafeUrl(input.url, withMerchantPorts(merchantUrlPolicy, merchant.settings.allowedPorts), { param: 'url' });
  const secret = generateSigningSecret();
  const enabledEvents = input.enabled_events?.includes('*') === true ? ['*'] : [...new Set(input.enabled_events ?? ['*'])];
  const endpoint: WebhookEndpoint = {
    id: generateWebhookEndpointId(),
    merchantId: merchant.id,
    url: input.url,
    enabledEvents,
    secretCiphertext: await secretCipher.encrypt(secret),
    status: 'enabled',
    ...(input.description !== undefined ? { description: input.description } : {}),
    apiVersion: input.api_version ?? request.apiVersion,
    createdAt: request.now.toISOString(),
  };
  // The cap is enforced atomically by the repository (counter in the same transaction).
  await webhookEndpointRepository.createEndpoint(endpoint, { maxPerMerchant: MAX_ENDPOINTS_PER_MERCHANT });
  return { statusCode: 201, body: toWebhookEndpointView(endpoint, secret) };
}

async function listEndpoints(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const endpoints = await webhookEndpointRepository.listEndpoints(merchant.id);
  return {
    statusCode: 200,
    body: toListView(
      endpoints.map((endpoint) => toWebhookEndpointView(endpoint)),
      undefined,
    ),
  };
}

async function getEndpoint(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const id = request.pathParameters.id ?? '';
  const endpoint = await webhookEndpointRepository.getEndpoint(merchant.id, id);
  if (!endpoint) throw new NotFoundError(`No webhook endpoint ${id}`, { param: 'id' });
  return { statusCode: 200, body: toWebhookEndpointView(endpoint) };
}

async function deleteEndpoint(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const id = request.pathParameters.id ?? '';
  if (!(await webhookEndpointRepository.deleteEndpoint(merchant.id, id))) {
    throw new NotFoundError(`No webhook endpoint ${id}`, { param: 'id' });
  }
  return { statusCode: 200, body: { id, object: 'webhook_endpoint', deleted: true } };
}

/**
 * A new whsec_ secret, returned once. Until `expires_in_seconds` from now, every webhook carries
 * two signatures (new and old), so the merchant can deploy the new secret without losing events.
 */
async function rotateSecret(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const id = request.pathParameters.id ?? '';
  const input = parseInput(rotateSecretInputSchema, request.body);
  const endpoint = await webhookEndpointRepository.getEndpoint(merchant.id, id);
  if (!endpoint) throw new NotFoundError(`No webhook endpoint ${id}`, { param: 'id' });
  const secret = generateSigningSecret();
  const overlapSeconds = input.expires_in_seconds ?? ROTATION_OVERLAP.defaultSeconds;
  const rotated = await webhookEndpointRepository.rotateSecret(merchant.id, id, {
    secretCiphertext: await secretCipher.encrypt(secret),
    previousSecretCiphertext: endpoint.secretCiphertext,
    previousSecretExpiresAt: new Date(request.now.getTime() + overlapSeconds * 1000).toISOString(),
  });
  if (!rotated)
    throw new ConflictError('The secret was rotated concurrently; read the endpoint and retry', {
      code: 'concurrent_modification',
    });
  return { statusCode: 200, body: toWebhookEndpointView(rotated, secret) };
}

/**
 * Queues a signed `webhook_endpoint.test` event for this endpoint alone; the dispatcher delivers it
 * like any event (202: the answer shows the pending delivery; GET /v1/events/{id} shows the attempt).
 */
async function testEndpoint(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const id = request.pathParameters.id ?? '';
  parseInput(testWebhookEndpointInputSchema, request.body);
  const endpoint = await webhookEndpointRepository.getEndpoint(merchant.id, id);
  if (!endpoint) throw new NotFoundError(`No webhook endpoint ${id}`, { param: 'id' });
  const event = await sendTestEvent(
    { events: eventStore, webhookEndpoints: webhookEndpointRepository, now: () => request.now },
    { merchantId: merchant.id, endpoint, endpointView: toWebhookEndpointView(endpoint), nonce: randomUUID() },
  );
  return { statusCode: 202, body: toEventLogView(event) };
}

export const handler = createApiHandler(
  {
    'POST /v1/webhook_endpoints': { auth: ['merchant'], handle: createEndpoint },
    'GET /v1/webhook_endpoints': { auth: ['merchant'], handle: listEndpoints },
    'GET /v1/webhook_endpoints/{id}': { auth: ['merchant'], handle: getEndpoint },
    'DELETE /v1/webhook_endpoints/{id}': { auth: ['merchant'], handle: deleteEndpoint },
    'POST /v1/webhook_endpoints/{id}/rotate_secret': { auth: ['merchant'], handle: rotateSecret },
    'POST /v1/webhook_endpoints/{id}/test': { auth: ['merchant'], handle: testEndpoint },
  },
  apiDependencies,
);

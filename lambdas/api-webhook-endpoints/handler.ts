/**
 * Where a merchant's events go: POST /v1/webhook_endpoints (returns the whsec_ signing secret
 * once; stored encrypted), GET /v1/webhook_endpoints[/{id}], DELETE /v1/webhook_endpoints/{id},
 * POST /v1/webhook_endpoints/{id}/rotate_secret (new secret shown once; the old one keeps signing
 * alongside it until the overlap ends). URLs pass the SSRF guard here (422 `unsafe_url`) and again
 * at every connection. Delivery is the saga's NotifyMerchant step plus the webhook dispatcher.
 */
import { z } from 'zod';
import { assertSafeUrl } from '../adapters/url-guard';
import { generateSigningSecret, generateWebhookEndpointId } from '../domain/ids';
import { WEBHOOK_EVENT_TYPES } from '../domain/webhook-events';
import { ConflictError, NotFoundError } from '../errors';
import type { WebhookEndpoint } from '../ports';
import { apiConfig, apiDependencies } from '../shared/api-wiring';
import { requireMerchant } from '../shared/auth';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { integerField, merchantUrlField, parseInput, textField } from '../shared/validation';
import { toListView } from '../shared/views';
import { merchantUrlPolicy, secretCipher, webhookEndpointRepository } from '../shared/wiring';

export { WEBHOOK_EVENT_TYPES };

/** Each event is one DynamoDB transaction with its deliveries: keeps it far below the 100-item limit. */
export const MAX_ENDPOINTS_PER_MERCHANT = 16;

/** Rotation overlap: default 24 h, at most 7 days; 0 retires the old secret at once. */
export const ROTATION_OVERLAP = { defaultSeconds: 86_400, maxSeconds: 604_800 } as const;

const createEndpointSchema = z.strictObject({
  url: merchantUrlField({ allowHttp: apiConfig.allowHttpMerchantUrls || merchantUrlPolicy.allowHttp }),
  enabled_events: z
    .array(z.enum(['*', ...WEBHOOK_EVENT_TYPES], { error: `{param} must be one of *, ${WEBHOOK_EVENT_TYPES.join(', ')}` }))
    .min(1)
    .max(WEBHOOK_EVENT_TYPES.length + 1)
    .optional(),
  description: textField(200).optional(),
});

const rotateSchema = z.strictObject({
  expires_in_seconds: integerField({ min: 0, max: ROTATION_OVERLAP.maxSeconds, code: 'invalid_expires_in_seconds', what: 'a whole number of seconds' }).optional(),
});

function toEndpointView(endpoint: WebhookEndpoint, secret?: string) {
  return {
    id: endpoint.id,
    object: 'webhook_endpoint' as const,
    url: endpoint.url,
    enabled_events: endpoint.enabledEvents,
    status: endpoint.status,
    ...(endpoint.disabledReason !== undefined ? { disabled_reason: endpoint.disabledReason } : {}),
    description: endpoint.description ?? null,
    previous_secret_expires_at: endpoint.previousSecretExpiresAt ?? null,
    created_at: endpoint.createdAt,
    ...(secret !== undefined ? { secret } : {}),
  };
}

async function createEndpoint(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const input = parseInput(createEndpointSchema, request.body);
  await assertSafeUrl(input.url, merchantUrlPolicy, { param: 'url' });
  const existing = await webhookEndpointRepository.listEndpoints(merchant.id);
  if (existing.length >= MAX_ENDPOINTS_PER_MERCHANT) {
    throw new ConflictError(`A merchant can have at most ${MAX_ENDPOINTS_PER_MERCHANT} webhook endpoints`, { code: 'too_many_endpoints' });
  }
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
    createdAt: request.now.toISOString(),
  };
  await webhookEndpointRepository.createEndpoint(endpoint);
  return { statusCode: 201, body: toEndpointView(endpoint, secret) };
}

async function listEndpoints(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const endpoints = await webhookEndpointRepository.listEndpoints(merchant.id);
  return { statusCode: 200, body: toListView(endpoints.map((endpoint) => toEndpointView(endpoint)), undefined) };
}

async function getEndpoint(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const id = request.pathParameters.id ?? '';
  const endpoint = await webhookEndpointRepository.getEndpoint(merchant.id, id);
  if (!endpoint) throw new NotFoundError(`No webhook endpoint ${id}`, { param: 'id' });
  return { statusCode: 200, body: toEndpointView(endpoint) };
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
  const input = parseInput(rotateSchema, request.body);
  const endpoint = await webhookEndpointRepository.getEndpoint(merchant.id, id);
  if (!endpoint) throw new NotFoundError(`No webhook endpoint ${id}`, { param: 'id' });
  const secret = generateSigningSecret();
  const overlapSeconds = input.expires_in_seconds ?? ROTATION_OVERLAP.defaultSeconds;
  const rotated = await webhookEndpointRepository.rotateSecret(merchant.id, id, {
    secretCiphertext: await secretCipher.encrypt(secret),
    previousSecretCiphertext: endpoint.secretCiphertext,
    previousSecretExpiresAt: new Date(request.now.getTime() + overlapSeconds * 1000).toISOString(),
  });
  if (!rotated) throw new ConflictError('The secret was rotated concurrently; read the endpoint and retry', { code: 'concurrent_modification' });
  return { statusCode: 200, body: toEndpointView(rotated, secret) };
}

export const handler = createApiHandler(
  {
    'POST /v1/webhook_endpoints': { auth: ['merchant'], handle: createEndpoint },
    'GET /v1/webhook_endpoints': { auth: ['merchant'], handle: listEndpoints },
    'GET /v1/webhook_endpoints/{id}': { auth: ['merchant'], handle: getEndpoint },
    'DELETE /v1/webhook_endpoints/{id}': { auth: ['merchant'], handle: deleteEndpoint },
    'POST /v1/webhook_endpoints/{id}/rotate_secret': { auth: ['merchant'], handle: rotateSecret },
  },
  apiDependencies,
);

/**
 * Where a merchant's events go: POST /v1/webhook_endpoints (returns the whsec_ signing secret
 * once; stored encrypted), GET /v1/webhook_endpoints, DELETE /v1/webhook_endpoints/{id}.
 * Delivery itself is the saga's NotifyMerchant step (Standard Webhooks signatures).
 */
import { z } from 'zod';
import { generateSigningSecret, generateWebhookEndpointId } from '../domain/ids';
import { NotFoundError } from '../errors';
import type { WebhookEndpoint } from '../ports';
import { apiConfig, apiDependencies } from '../shared/api-wiring';
import { requireMerchant } from '../shared/auth';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { merchantUrlField, parseInput, textField } from '../shared/validation';
import { toListView } from '../shared/views';
import { secretCipher, webhookEndpointRepository } from '../shared/wiring';

/** Event types a merchant can subscribe to; `*` means all. */
export const WEBHOOK_EVENT_TYPES = ['checkout.succeeded', 'checkout.failed'] as const;

const createEndpointSchema = z.strictObject({
  url: merchantUrlField({ allowHttp: apiConfig.allowHttpMerchantUrls }),
  enabled_events: z
    .array(z.enum(['*', ...WEBHOOK_EVENT_TYPES], { error: `{param} must be one of *, ${WEBHOOK_EVENT_TYPES.join(', ')}` }))
    .min(1)
    .max(20)
    .optional(),
  description: textField(200).optional(),
});

function toEndpointView(endpoint: WebhookEndpoint, secret?: string) {
  return {
    id: endpoint.id,
    object: 'webhook_endpoint' as const,
    url: endpoint.url,
    enabled_events: endpoint.enabledEvents,
    status: endpoint.status,
    created_at: endpoint.createdAt,
    ...(secret !== undefined ? { secret } : {}),
  };
}

async function createEndpoint(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const input = parseInput(createEndpointSchema, request.body);
  const secret = generateSigningSecret();
  const endpoint: WebhookEndpoint = {
    id: generateWebhookEndpointId(),
    merchantId: merchant.id,
    url: input.url,
    enabledEvents: input.enabled_events ?? ['*'],
    secretCiphertext: await secretCipher.encrypt(secret),
    status: 'enabled',
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

async function deleteEndpoint(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const id = request.pathParameters.id ?? '';
  if (!(await webhookEndpointRepository.deleteEndpoint(merchant.id, id))) {
    throw new NotFoundError(`No webhook endpoint ${id}`, { param: 'id' });
  }
  return { statusCode: 200, body: { id, object: 'webhook_endpoint', deleted: true } };
}

export const handler = createApiHandler(
  {
    'POST /v1/webhook_endpoints': { auth: ['merchant'], handle: createEndpoint },
    'GET /v1/webhook_endpoints': { auth: ['merchant'], handle: listEndpoints },
    'DELETE /v1/webhook_endpoints/{id}': { auth: ['merchant'], handle: deleteEndpoint },
  },
  apiDependencies,
);

/**
 * Add a webhook endpoint (POST /v1/webhook_endpoints).
 *
 * Primary course:
 * 1. The URL passes the save-time SSRF check (422 `unsafe_url`) with the merchant's allowed ports.
 * 2. Generate its `whsec_` signing secret and keep it encrypted.
 * 3. Store the endpoint; the repository enforces the per-merchant cap atomically (409 `too_many_endpoints`).
 * 4. Return the endpoint and the secret (shown in this answer only).
 */
import { generateSigningSecret, generateWebhookEndpointId } from '../../domain/ids';
import type { Merchant } from '../../domain/model';
import type { WebhookEndpoint } from '../../domain/webhook-endpoint';
import type { SecretCipher } from '../../ports/secrets';
import type { MerchantUrlGuard } from '../../ports/url-guard';
import type { WebhookEndpointRepository } from '../../ports/webhooks';

/** Each event is one DynamoDB transaction with its deliveries: keeps it far below the 100-item limit. */
export const MAX_ENDPOINTS_PER_MERCHANT = 16;

export interface CreateWebhookEndpointDependencies {
  webhookEndpoints: WebhookEndpointRepository;
  cipher: SecretCipher;
  urlGuard: MerchantUrlGuard;
}

export interface CreateWebhookEndpointInput {
  merchant: Merchant;
  url: string;
  /** Absent or containing `*`: every event type. */
  enabledEvents?: readonly string[];
  description?: string;
  apiVersion: string;
  now: Date;
}

export async function createWebhookEndpoint(
  deps: CreateWebhookEndpointDependencies,
  input: CreateWebhookEndpointInput,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const { merchant } = input;
  await deps.urlGuard.assertSafe(input.url, { allowedPorts: merchant.settings.allowedPorts, param: 'url' });
  const secret = generateSigningSecret();
  const enabledEvents = input.enabledEvents?.includes('*') === true ? ['*'] : [...new Set(input.enabledEvents ?? ['*'])];
  const endpoint: WebhookEndpoint = {
    id: generateWebhookEndpointId(),
    merchantId: merchant.id,
    url: input.url,
    enabledEvents,
    secretCiphertext: await deps.cipher.encrypt(secret),
    status: 'enabled',
    ...(input.description !== undefined ? { description: input.description } : {}),
    apiVersion: input.apiVersion,
    createdAt: input.now.toISOString(),
  };
  // The cap is enforced atomically by the repository (counter in the same transaction).
  await deps.webhookEndpoints.createEndpoint(endpoint, { maxPerMerchant: MAX_ENDPOINTS_PER_MERCHANT });
  return { endpoint, secret };
}

/**
 * List the merchant's webhook endpoints (GET /v1/webhook_endpoints).
 *
 * Primary course:
 * 1. Return every endpoint of the merchant (one page: the count is capped).
 */
import type { WebhookEndpoint } from '../../domain/webhook-endpoint';
import type { WebhookEndpointRepository } from '../../ports/webhooks';

export async function listWebhookEndpoints(
  deps: { webhookEndpoints: WebhookEndpointRepository },
  input: { merchantId: string },
): Promise<WebhookEndpoint[]> {
  return deps.webhookEndpoints.listEndpoints(input.merchantId);
}

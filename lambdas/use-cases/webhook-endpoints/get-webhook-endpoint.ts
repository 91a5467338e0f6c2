/**
 * Read one webhook endpoint (GET /v1/webhook_endpoints/{id}).
 *
 * Primary course:
 * 1. Return the merchant's endpoint; 404 when it is unknown or another merchant's.
 */
import type { WebhookEndpoint } from '../../domain/webhook-endpoint';
import { NotFoundError } from '../../errors';
import type { WebhookEndpointRepository } from '../../ports/webhooks';

export async function getWebhookEndpoint(
  deps: { webhookEndpoints: Pick<WebhookEndpointRepository, 'getEndpoint'> },
  input: { merchantId: string; endpointId: string },
): Promise<WebhookEndpoint> {
  const endpoint = await deps.webhookEndpoints.getEndpoint(input.merchantId, input.endpointId);
  if (!endpoint) throw new NotFoundError(`No webhook endpoint ${input.endpointId}`, { param: 'id' });
  return endpoint;
}

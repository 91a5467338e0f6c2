/**
 * Remove a webhook endpoint (DELETE /v1/webhook_endpoints/{id}).
 *
 * Primary course:
 * 1. Delete the merchant's endpoint with a conditional delete; 404 when none matched.
 */
import { NotFoundError } from '../../errors';
import type { WebhookEndpointRepository } from '../../ports/webhooks';

export async function deleteWebhookEndpoint(
  deps: { webhookEndpoints: WebhookEndpointRepository },
  input: { merchantId: string; endpointId: string },
): Promise<void> {
  if (!(await deps.webhookEndpoints.deleteEndpoint(input.merchantId, input.endpointId))) {
    throw new NotFoundError(`No webhook endpoint ${input.endpointId}`, { param: 'id' });
  }
}

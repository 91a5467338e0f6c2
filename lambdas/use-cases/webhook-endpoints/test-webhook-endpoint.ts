/**
 * Send a test event to one endpoint (POST /v1/webhook_endpoints/{id}/test).
 *
 * Primary course:
 * 1. Load the merchant's endpoint (404 when unknown).
 * 2. Queue a signed `webhook_endpoint.test` event for this endpoint alone (409 when it is
 *    disabled); the dispatcher delivers it like any event.
 * 3. Return the event with its pending delivery.
 */
import { randomUUID } from 'node:crypto';
import type { WebhookEndpoint } from '../../domain/webhook-endpoint';
import type { EventWithDeliveries } from '../../ports/events';
import { sendTestEvent, type PublishDependencies } from '../webhook-delivery';
import { getWebhookEndpoint } from './get-webhook-endpoint';

export interface TestWebhookEndpointDependencies extends PublishDependencies {
  /** The endpoint as the API shows it: the test event's data.object. */
  renderEndpoint: (endpoint: WebhookEndpoint) => Record<string, unknown>;
}

export async function testWebhookEndpoint(
  deps: TestWebhookEndpointDependencies,
  input: { merchantId: string; endpointId: string },
): Promise<EventWithDeliveries> {
  const endpoint = await getWebhookEndpoint(deps, input);
  return sendTestEvent(deps, {
    merchantId: input.merchantId,
    endpoint,
    endpointView: deps.renderEndpoint(endpoint),
    nonce: randomUUID(),
  });
}

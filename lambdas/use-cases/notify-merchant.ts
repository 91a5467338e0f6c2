/**
 * The saga's last step: tell the merchant the result with a signed Standard Webhooks event
 * (checkout.succeeded | checkout.failed), the merchant's cue to mark items sold or unblock stock.
 * The event id is derived from the checkout and type, so every retry carries the same id.
 */
import { createHash } from 'node:crypto';
import { WebhookDeliveryError } from '../errors';
import { loadCheckout, type SagaDependencies, type StepInput } from './payment-saga';

/** The result event's id: derived from the checkout and type, so every retry carries the same id. */
export function resultEventId(checkoutId: string, type: string): string {
  return `evt_${createHash('sha256').update(`${checkoutId}:${type}`).digest('hex').slice(0, 24)}`;
}

/**
 * Step 5: the signed result webhook (checkout.succeeded | checkout.failed) to each enabled
 * endpoint of the merchant that subscribes to it. Endpoints that already acknowledged this event
 * are skipped on a retry; any failure is thrown so the state machine retries the rest.
 */
export async function notifyMerchant(deps: SagaDependencies, { checkoutId }: StepInput): Promise<{ eventId?: string; delivered: number; skipped?: string }> {
  const checkout = await loadCheckout(deps, checkoutId);
  if (checkout.status !== 'succeeded' && checkout.status !== 'failed') return { delivered: 0, skipped: `status ${checkout.status}` };
  const type = `checkout.${checkout.status}`;
  const eventId = resultEventId(checkoutId, type);
  const endpoints = (await deps.webhookEndpoints.listEndpoints(checkout.merchantId)).filter(
    (endpoint) => endpoint.status === 'enabled' && (endpoint.enabledEvents.includes('*') || endpoint.enabledEvents.includes(type)),
  );
  if (endpoints.length === 0) return { eventId, delivered: 0, skipped: 'no endpoints' };
  const timeline = await deps.checkouts.listEvents(checkoutId);
  const alreadyDelivered = new Set(
    timeline.filter((row) => row.type === 'webhook_delivered' && row.data?.event_id === eventId).map((row) => String(row.data?.endpoint_id)),
  );
  const body = JSON.stringify({
    type,
    id: eventId,
    created: Math.floor(Date.parse(checkout.updatedAt) / 1000),
    data: { object: deps.renderCheckout(checkout) },
  });
  let delivered = 0;
  const failures: string[] = [];
  for (const endpoint of endpoints) {
    if (alreadyDelivered.has(endpoint.id)) continue;
    const secret = await deps.cipher.decrypt(endpoint.secretCiphertext);
    const attempt = await deps.webhookSender.send(endpoint.url, secret, { id: eventId, timestamp: new Date(), body });
    await deps.checkouts.appendEvent({
      checkoutId,
      type: attempt.ok ? 'webhook_delivered' : 'webhook_failed',
      at: new Date().toISOString(),
      data: {
        event_id: eventId,
        event_type: type,
        endpoint_id: endpoint.id,
        latency_ms: attempt.latencyMs,
        ...(attempt.httpStatus !== undefined ? { http_status: attempt.httpStatus } : {}),
        ...(attempt.error ? { error: attempt.error } : {}),
      },
    });
    if (attempt.ok) delivered += 1;
    else failures.push(`${endpoint.id}: ${attempt.error ?? 'failed'}`);
  }
  if (failures.length > 0) throw new WebhookDeliveryError(`Webhook ${eventId} not delivered to ${failures.join(', ')}`);
  return { eventId, delivered };
}

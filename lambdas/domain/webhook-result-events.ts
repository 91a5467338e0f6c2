/**
 * A checkout's result events (published by the saga's NotifyMerchant,
 * lambdas/use-cases/saga/notify-merchant.ts): which events a checkout publishes, their ids
 * (derived from the checkout and type, so every retry carries the same `webhook-id`), and the
 * `webhook_delivered` / `webhook_failed` timeline rows derived from their attempt logs at read time.
 */
import { capturedBySaga, isVoided } from './payment-attempt';
import { isHeldForManualCapture } from './authorization-hold';
import { reopenedTries } from './payment-tries';
import { deriveEventId, type StoredEvent } from './webhook-events';
import type { DeliveryAttemptRecord, WebhookDelivery, WebhookDeliveryStatus } from './webhook-delivery';
import type { Checkout, CheckoutEvent } from './model';

/** The result event's id: derived from the checkout and type, so every retry carries the same id. */
export function resultEventId(checkoutId: string, type: string): string {
  return deriveEventId(`${checkoutId}:${type}`);
}

/**
 * The event types a terminal checkout publishes, payment facts first, the result last. A
 * manual-capture checkout that succeeded with its authorization held publishes `payment.authorized`
 * (the merchant's cue that it may now capture through the instrument).
 */
export function checkoutEventTypes(checkout: Checkout): string[] {
  const types: string[] = [];
  if (checkout.status === 'succeeded' && isHeldForManualCapture(checkout)) types.push('payment.authorized');
  if (capturedBySaga(checkout.payment)) types.push('payment.captured');
  if (isVoided(checkout.payment)) types.push('payment.voided');
  types.push(`checkout.${checkout.status}`);
  return types;
}

/**
 * Every result event the checkout publishes in its current state (type and source key, the id's
 * origin): one `payment.failed` per try that reopened it, then, once terminal, its result events.
 */
export function resultEventSources(checkout: Checkout): { type: string; sourceKey: string }[] {
  const terminal = checkout.status === 'succeeded' || checkout.status === 'failed';
  const sources = reopenedTries(checkout).map((tryNumber) => ({
    type: 'payment.failed',
    sourceKey: `${checkout.id}:payment.failed:${tryNumber}`,
  }));
  if (terminal) for (const type of checkoutEventTypes(checkout)) sources.push({ type, sourceKey: `${checkout.id}:${type}` });
  return sources;
}

/** The timeline row of one delivery attempt of a checkout event (`webhook_delivered` / `webhook_failed`). */
export function webhookTimelineRow(
  event: StoredEvent,
  endpointId: string,
  record: DeliveryAttemptRecord,
  status: WebhookDeliveryStatus | undefined,
): CheckoutEvent {
  return {
    checkoutId: event.checkoutId as string,
    type: record.ok ? 'webhook_delivered' : 'webhook_failed',
    at: record.at,
    data: {
      event_id: event.id,
      event_type: event.type,
      endpoint_id: endpointId,
      attempt: record.number,
      latency_ms: record.latencyMs,
      ...(record.httpStatus !== undefined ? { http_status: record.httpStatus } : {}),
      ...(record.error !== undefined ? { error: record.error } : {}),
      ...(status === 'dead_lettered' ? { dead_lettered: true } : {}),
      ...(status === 'disabled' ? { endpoint_disabled: true } : {}),
    },
  };
}

/**
 * The `webhook_delivered` / `webhook_failed` rows of a checkout's result events, derived from their
 * deliveries' attempt logs: one row per attempt, oldest first, the last attempt of a dead-lettered
 * or disabled delivery marked as such. Events stored before result events carried their own log
 * (`timelineDerived` unset) had their rows written to the timeline, so they are skipped here.
 */
export function webhookTimelineRows(
  events: readonly { event: StoredEvent; deliveries: readonly WebhookDelivery[] }[],
): CheckoutEvent[] {
  const rows: CheckoutEvent[] = [];
  for (const { event, deliveries } of events) {
    if (event.checkoutId === undefined || event.timelineDerived !== true) continue;
    for (const delivery of deliveries) {
      delivery.attempts.forEach((record, index) => {
        const last = index === delivery.attempts.length - 1;
        rows.push(webhookTimelineRow(event, delivery.endpointId, record, last ? delivery.status : undefined));
      });
    }
  }
  return rows.sort((a, b) => a.at.localeCompare(b.at));
}

/**
 * The checkout's derived webhook timeline rows: one batch read of its result events (none for a
 * checkout that has published nothing yet).
 */
export async function checkoutWebhookRows(
  events: {
    getEvents(eventIds: readonly string[]): Promise<{ event: StoredEvent; deliveries: WebhookDelivery[] }[]>;
  },
  checkout: Checkout,
): Promise<CheckoutEvent[]> {
  const ids = resultEventSources(checkout).map(({ sourceKey }) => deriveEventId(sourceKey));
  if (ids.length === 0) return [];
  return webhookTimelineRows(await events.getEvents(ids));
}

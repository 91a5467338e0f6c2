/**
 * The saga's last step: publish the result events and make the first delivery attempt. Publishes
 * `payment.captured` / `payment.voided` (from the checkout's payment state) and then
 * `checkout.succeeded` | `checkout.failed`, the merchant's cue to mark items sold or unblock stock.
 * Each event and its per-endpoint deliveries are stored before anything is sent, so a failed or
 * interrupted attempt is never lost: the webhook dispatcher retries it on the schedule. A failed
 * delivery therefore does not fail this step. Event ids derive from the checkout and type, so a
 * re-run publishes nothing new and every retry carries the same `webhook-id`.
 */
import { capturedBySaga, isVoided } from '../../domain/payment-attempt';
import { isHeldForManualCapture } from '../../domain/authorization-hold';
import { reopenedTries } from '../../domain/payment-tries';
import { deriveEventId } from '../../domain/webhook-events';
import type { Checkout } from '../../domain/model';
import { instrumentOfPayment } from '../payment-ledger';
import { attemptDelivery, publishEvent, type WebhookDependencies } from '../webhook-delivery';
import { loadCheckout, type SagaPorts, type StepInput } from './shared';

/** The result event's id: derived from the checkout and type, so every retry carries the same id. */
export function resultEventId(checkoutId: string, type: string): string {
  return deriveEventId(`${checkoutId}:${type}`);
}

/** What the saga's NotifyMerchant needs: the checkout, its instrument (the amounts) and rendering, the event store and delivery settings. */
export type NotifyMerchantPorts = WebhookDependencies &
  Pick<SagaPorts, 'checkouts' | 'instruments' | 'renderCheckout' | 'outcomeWatch'>;

export interface NotifyMerchantOutput {
  eventId?: string;
  /** Every event published for this checkout, result event last. */
  eventIds?: string[];
  delivered: number;
  /** Deliveries left for the dispatcher (failed first attempt, or not attempted). */
  pending?: number;
  skipped?: string;
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
 * Step 5: store the events with their pending deliveries, then attempt each due delivery once.
 * Only storage failures are thrown (the state machine retries them); delivery failures are left
 * to the dispatcher's schedule.
 */
export async function notifyMerchant(deps: NotifyMerchantPorts, { checkoutId }: StepInput): Promise<NotifyMerchantOutput> {
  const checkout = await loadCheckout(deps, checkoutId);
  const terminal = checkout.status === 'succeeded' || checkout.status === 'failed';
  const failedTries = reopenedTries(checkout);
  if (!terminal && failedTries.length === 0) return { delivered: 0, skipped: `status ${checkout.status}` };
  const object = deps.renderCheckout(checkout, await instrumentOfPayment(deps.instruments, checkout.payment));
  const occurredAt = new Date(checkout.updatedAt);
  // One payment.failed per try that reopened the checkout (its key names the try, so it is sent once).
  const sources = failedTries.map((tryNumber) => ({
    type: 'payment.failed',
    sourceKey: `${checkout.id}:payment.failed:${tryNumber}`,
  }));
  if (terminal) for (const type of checkoutEventTypes(checkout)) sources.push({ type, sourceKey: `${checkout.id}:${type}` });
  const eventIds: string[] = [];
  for (const { type, sourceKey } of sources) {
    const published = await publishEvent(deps, {
      merchantId: checkout.merchantId,
      type,
      objectId: checkout.id,
      checkoutId: checkout.id,
      data: { object },
      sourceKey,
      occurredAt,
    });
    eventIds.push(published.eventId);
  }
  // Every result event is stored with its deliveries: the dispatcher owns them from here, so the
  // sweep no longer needs to watch this checkout.
  await deps.outcomeWatch?.forgetCheckout(checkout.id);
  let delivered = 0;
  let pending = 0;
  for (const eventId of eventIds) {
    const found = await deps.events.getEvent(eventId);
    for (const delivery of found?.deliveries ?? []) {
      if (delivery.status === 'delivered') {
        delivered += 1;
        continue;
      }
      if (delivery.status !== 'pending') continue;
      const outcome = await attemptDelivery(deps, delivery);
      if (outcome.kind === 'attempted' && outcome.status === 'delivered') delivered += 1;
      else if (outcome.kind === 'skipped' || outcome.status === 'pending') pending += 1;
    }
  }
  const eventId = eventIds[eventIds.length - 1];
  return { ...(eventId !== undefined ? { eventId } : {}), eventIds, delivered, pending };
}

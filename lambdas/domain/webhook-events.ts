/**
 * The event catalogue: every event type a merchant can subscribe a webhook endpoint to, and the
 * envelope every webhook carries (`{"type","id","created","data"}`, docs/design.md). Event ids are
 * derived from what happened (checkout + type, instrument transaction id...), so a saga step that
 * runs twice publishes the same event once and every retry carries the same `webhook-id`.
 */
import { createHash } from 'node:crypto';

/** Catalogue: documented in README "Webhooks". `data.object` is the resource as the API shows it. */
export const WEBHOOK_EVENT_TYPES = [
  /**
   * The checkout succeeded: captured in full after the merchant confirmed inventory, or, with
   * capture_method manual, authorized and confirmed with the authorization held for the merchant
   * (payment.captured_amount 0, payment.capturable_amount > 0). data.object = checkout.
   */
  'checkout.succeeded',
  /** The checkout failed; data.object.failure_reason says why (payment_declined, inventory_rejected, ...). */
  'checkout.failed',
  /** Manual capture: the authorization is held for the merchant to capture (payment.capturable_amount). data.object = checkout. */
  'payment.authorized',
  /** 3-D Secure: the buyer must complete a challenge (data.object.next_action); the result events follow. data.object = checkout. */
  'payment.requires_action',
  /** Money was captured for a checkout. data.object = checkout (payment.captured_amount). */
  'payment.captured',
  /**
   * A try failed (declined, or authentication failed) and the checkout is open again for another
   * card (max_payment_attempts > 1); data.object = checkout with last_payment_error. Once per try.
   */
  'payment.failed',
  /** The authorization was voided (released) for a checkout. data.object = checkout. */
  'payment.voided',
  /** Money was refunded. data.object = the refunded resource (financial instrument or checkout). */
  'payment.refunded',
  /** A financial-instrument transaction (capture, refund, revoke) succeeded. data.object = transaction. */
  'financial_instrument.transaction.succeeded',
  /** A financial-instrument transaction failed at the PSP. data.object = transaction. */
  'financial_instrument.transaction.failed',
  /** The cardholder disputed (charged back) a captured payment; refundable reduced. data.object = dispute. */
  'dispute.created',
  /** A manual-capture authorization nears its expiry; the merchant's expired_authorization_action follows. data.object = checkout. */
  'authorization.expiring',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * The event POST /v1/webhook_endpoints/{id}/test sends to that one endpoint, whatever it subscribes
 * to (so it is not in the subscribable catalogue). data.object = the webhook endpoint.
 */
export const WEBHOOK_TEST_EVENT_TYPE = 'webhook_endpoint.test';

/** Whether `type` is in the catalogue. */
export function isWebhookEventType(type: string): type is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);
}

/** Whether an endpoint subscribed to `enabledEvents` receives `type` (`*` = everything). */
export function endpointReceives(enabledEvents: readonly string[], type: string): boolean {
  return enabledEvents.includes('*') || enabledEvents.includes(type);
}

/**
 * A stable event id from what happened (`<checkout id>:checkout.succeeded`, `<txn id>:...`): the
 * same fact always gets the same `evt_` id, which makes publishing idempotent.
 */
export function deriveEventId(sourceKey: string): string {
  return `evt_${createHash('sha256').update(sourceKey).digest('hex').slice(0, 24)}`;
}

/** The webhook body, serialised once and stored, so every retry sends the same bytes. */
export function renderEventBody(event: { id: string; type: string; created: number; data: Record<string, unknown> }): string {
  return JSON.stringify({ type: event.type, id: event.id, created: event.created, data: event.data });
}

/** One event in a merchant's log (GET /v1/events); its body is what every delivery sends. */
export interface StoredEvent {
  id: string; // evt_...
  merchantId: string;
  type: string;
  /** Unix seconds (the body's `created`). */
  created: number;
  createdAt: string;
  /** The id of the resource in data.object (chk_..., fi_...), for filtering. */
  objectId?: string;
  /** Set for checkout events: delivery attempts also show on this checkout's timeline. */
  checkoutId?: string;
  /**
   * A checkout's result event (lambdas/use-cases/saga/notify-merchant.ts): its deliveries appear
   * on the checkout's timeline derived from the attempt log at read time, not as written rows.
   */
  timelineDerived?: boolean;
  /** The exact JSON body sent on every attempt. */
  body: string;
}

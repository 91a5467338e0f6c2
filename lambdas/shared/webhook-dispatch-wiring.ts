/**
 * Module-scope wiring of the webhook dispatcher (retries, redelivery): the delivery settings and
 * stores (webhook-delivery-wiring.ts) with the whole event store (claims, completions, the due
 * list; the saga steps wire only the event records) and the HTTP sender (webhook-wiring.ts).
 *
 * Env (all optional): see webhook-delivery-wiring.ts and webhook-wiring.ts.
 */
import type { DispatchDependencies } from '../use-cases/webhook-delivery';
import { observeWebhookCompletions } from './observability';
import { eventStore } from './event-wiring';
import { webhookDelivery } from './webhook-delivery-wiring';
import { webhookSender } from './webhook-wiring';

let built: DispatchDependencies | undefined;

/** Built on first use (once). WebhookDeliveryFailed / WebhookDeadLettered are counted at these ports (observability.ts). */
export function webhookDependencies(): DispatchDependencies {
  return (built ??= { ...webhookDelivery(), events: observeWebhookCompletions(eventStore), webhookSender: webhookSender() });
}

/**
 * Module-scope wiring for webhook delivery, shared by the saga's NotifyMerchant step (first
 * attempt, through merchant-http-wiring.ts) and the webhook dispatcher (retries): the delivery
 * settings and stores (webhook-delivery-wiring.ts) plus the HTTP sender behind the SSRF guard.
 *
 * Env (all optional): see webhook-delivery-wiring.ts; PAYSTEP_WEBHOOK_TIMEOUT_MS (default 15 s).
 */
import { HttpWebhookSender, WEBHOOK_TIMEOUT_MS } from '../adapters/http-webhook-sender';
import type { WebhookSender } from '../ports/webhooks';
import type { WebhookDependencies } from '../use-cases/webhook-delivery';
import { observeWebhookSender } from './observability';
import { positiveIntegerEnv, webhookDelivery } from './webhook-delivery-wiring';
import { merchantUrlPolicy } from './wiring';

/** Built on first use (once), so a saga step that sends no webhook never builds the sender. */
let sender: WebhookSender | undefined;

export function webhookSender(): WebhookSender {
  return (sender ??= observeWebhookSender(
    new HttpWebhookSender(positiveIntegerEnv('PAYSTEP_WEBHOOK_TIMEOUT_MS', WEBHOOK_TIMEOUT_MS), merchantUrlPolicy),
  ));
}

let built: WebhookDependencies | undefined;

export function webhookDependencies(): WebhookDependencies {
  return (built ??= { ...webhookDelivery(), webhookSender: webhookSender() });
}

/**
 * The webhook HTTP sender behind the SSRF guard, shared by the saga's NotifyMerchant step (first
 * attempt, through merchant-http-wiring.ts) and the webhook dispatcher (retries,
 * webhook-dispatch-wiring.ts).
 *
 * Env (optional): PAYSTEP_WEBHOOK_TIMEOUT_MS (default 15 s).
 */
import { HttpWebhookSender, WEBHOOK_TIMEOUT_MS } from '../adapters/http-webhook-sender';
import type { WebhookSender } from '../ports/webhooks';
import { observeWebhookSender } from './observability';
import { positiveIntegerEnv } from './webhook-delivery-wiring';
import { merchantUrlPolicy } from './wiring';

/** Built on first use (once), so a saga step that sends no webhook never builds the sender. */
let sender: WebhookSender | undefined;

export function webhookSender(): WebhookSender {
  return (sender ??= observeWebhookSender(
    new HttpWebhookSender(positiveIntegerEnv('PAYSTEP_WEBHOOK_TIMEOUT_MS', WEBHOOK_TIMEOUT_MS), merchantUrlPolicy),
  ));
}

/**
 * Module-scope wiring for webhook delivery, shared by the saga's NotifyMerchant step (first
 * attempt) and the webhook dispatcher (retries): the event store, the HTTP sender behind the SSRF
 * guard, and the retry schedule, read once at cold start.
 *
 * Env (all optional): PAYSTEP_WEBHOOK_RETRY_SCHEDULE_MS (explicit delays, `0,5000,...`) or
 * PAYSTEP_WEBHOOK_SCHEDULE_SCALE (multiplies the design's schedule (docs/design.md); local runs compress it),
 * PAYSTEP_WEBHOOK_LEASE_MS (claim lease, default 60 s), PAYSTEP_WEBHOOK_TIMEOUT_MS (default 15 s).
 */
import { HttpWebhookSender, WEBHOOK_TIMEOUT_MS } from '../adapters/http-webhook-sender';
import { retryScheduleFromConfig } from '../domain/webhook-schedule';
import { DEFAULT_LEASE_MS, type WebhookDependencies } from '../use-cases/webhook-delivery';
import { optionalEnv } from './env';
import { observability, observeWebhookCompletions, observeWebhookSender } from './observability';
import { eventStore } from './event-wiring';
import { webhookEndpointLookup } from './webhook-lookup-wiring';
import { checkoutRepository } from './checkout-wiring';
import { merchantRepository, merchantUrlPolicy, secretCipher } from './wiring';

function positiveIntegerEnv(key: string, fallback: number): number {
  const raw = optionalEnv(key, String(fallback));
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`Environment variable ${key} must be a positive integer, got "${raw}"`);
  return value;
}

/** Built on first use (once), so a saga step that sends no webhook never builds the sender. */
let built: WebhookDependencies | undefined;

export function webhookDependencies(): WebhookDependencies {
  return (built ??= buildWebhookDependencies());
}

const buildWebhookDependencies = (): WebhookDependencies => ({
  // WebhookDeliveryFailed / WebhookDeadLettered are counted at these ports (observability.ts).
  events: observeWebhookCompletions(eventStore),
  webhookEndpoints: webhookEndpointLookup,
  webhookSender: observeWebhookSender(
    new HttpWebhookSender(positiveIntegerEnv('PAYSTEP_WEBHOOK_TIMEOUT_MS', WEBHOOK_TIMEOUT_MS), merchantUrlPolicy),
  ),
  cipher: secretCipher,
  checkouts: checkoutRepository,
  merchants: merchantRepository,
  schedule: retryScheduleFromConfig({
    delaysMs: optionalEnv('PAYSTEP_WEBHOOK_RETRY_SCHEDULE_MS', ''),
    scale: optionalEnv('PAYSTEP_WEBHOOK_SCHEDULE_SCALE', '1'),
  }),
  leaseMs: positiveIntegerEnv('PAYSTEP_WEBHOOK_LEASE_MS', DEFAULT_LEASE_MS),
  log: (message, extra) => observability.logger.warn(message, extra ?? {}),
});

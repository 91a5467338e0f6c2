/**
 * Webhook delivery's settings and stores, without the HTTP sender: the event records (stored and
 * read by id: dynamo-event-records.ts, not the whole event store), the endpoint reader and the
 * retry schedule, read once on first use. webhook-dispatch-wiring.ts adds the whole event store and
 * the sender (webhook-wiring.ts) for the dispatcher; the saga steps take the sender from
 * merchant-http-wiring.ts (CapturePayment, VoidAuthorization) or merchant-http-lazy.ts (the
 * reconciliation sweep), through saga-wiring.ts.
 *
 * Env (all optional): PAYSTEP_WEBHOOK_RETRY_SCHEDULE_MS (explicit delays, `0,5000,...`) or
 * PAYSTEP_WEBHOOK_SCHEDULE_SCALE (multiplies the design's schedule (docs/design.md); local runs compress it),
 * PAYSTEP_WEBHOOK_LEASE_MS (claim lease, default 60 s).
 */
import { retryScheduleFromConfig } from '../domain/webhook-schedule';
import { DEFAULT_LEASE_MS, type WebhookDependencies } from '../use-cases/webhook-delivery';
import { optionalEnv } from './env';
import { DynamoEventRecords } from '../adapters/dynamo-event-records';
import { observability } from './observability';
import { webhookEndpointLookup } from './webhook-lookup-wiring';
import { checkoutRepository } from './checkout-wiring';
import { documentClient, merchantRepository, secretCipher, storeConfig } from './wiring';

export function positiveIntegerEnv(key: string, fallback: number): number {
  const raw = optionalEnv(key, String(fallback));
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`Environment variable ${key} must be a positive integer, got "${raw}"`);
  return value;
}

/** Every webhook delivery dependency but the sender. */
export type WebhookDelivery = Omit<WebhookDependencies, 'webhookSender'>;

/** Built on first use (once), so a saga step that sends no webhook never builds it. */
let built: WebhookDelivery | undefined;

export function webhookDelivery(): WebhookDelivery {
  return (built ??= buildWebhookDelivery());
}

const buildWebhookDelivery = (): WebhookDelivery => ({
  // Stored and read by id only: the saga's notify claims and completes nothing (the dispatcher does,
  // on the whole store, where WebhookDeadLettered is counted: webhook-dispatch-wiring.ts).
  events: new DynamoEventRecords(documentClient, storeConfig.tableName),
  webhookEndpoints: webhookEndpointLookup,
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

/** How webhook event and delivery items read and index, shared by both layouts (dynamo-event-store.ts, dynamo-legacy-deliveries.ts). */
import { createHash } from 'node:crypto';
import type { DeliveryAttemptRecord, WebhookDelivery, WebhookDeliveryStatus } from '../domain/webhook-delivery';
import type { StoredEvent } from '../domain/webhook-events';
import { WEBHOOK_DUE_SHARDS, webhookDueGsiPk } from './dynamo-keys';

/** The due-index shard of a delivery (an event item's: endpoint ''): stable, so every write of one item lands in one shard. */
export function shardOf(eventId: string, endpointId: string): number {
  return createHash('sha256').update(`${eventId}#${endpointId}`).digest()[0]! % WEBHOOK_DUE_SHARDS;
}

export function dueIndexAttributes(delivery: Pick<WebhookDelivery, 'eventId' | 'endpointId' | 'nextAttemptAt'>) {
  return {
    gsi1pk: webhookDueGsiPk(shardOf(delivery.eventId, delivery.endpointId)),
    gsi1sk: `${delivery.nextAttemptAt}#${delivery.eventId}#${delivery.endpointId}`,
  };
}

export function toEvent(item: Record<string, unknown>): StoredEvent {
  return {
    id: String(item.id),
    merchantId: String(item.merchantId),
    type: String(item.type),
    created: Number(item.created),
    createdAt: String(item.createdAt),
    ...(typeof item.objectId === 'string' ? { objectId: item.objectId } : {}),
    ...(typeof item.checkoutId === 'string' ? { checkoutId: item.checkoutId } : {}),
    ...(item.timelineDerived === true ? { timelineDerived: true } : {}),
    body: String(item.body),
  };
}

const STATUSES: readonly WebhookDeliveryStatus[] = ['pending', 'delivered', 'dead_lettered', 'disabled'];

export function toDelivery(item: Record<string, unknown>): WebhookDelivery {
  const status = STATUSES.find((candidate) => candidate === item.status) ?? 'pending';
  return {
    eventId: String(item.eventId),
    endpointId: String(item.endpointId),
    merchantId: String(item.merchantId),
    status,
    attempt: Number(item.attempt ?? 0),
    nextAttemptAt: String(item.nextAttemptAt),
    attempts: Array.isArray(item.attempts) ? (item.attempts as DeliveryAttemptRecord[]) : [],
    updatedAt: String(item.updatedAt ?? item.nextAttemptAt),
  };
}

/**
 * The compact event item (lambdas/adapters/dynamo-event-store.ts), so a result event with its first
 * attempts fits in one KB (1 write unit instead of 3): the webhook body is stored as the raw deflate
 * of lambdas/shared/stored-body.ts (`deflate-v1`, its dictionary of the checkout view) in a binary
 * attribute `bz`, and the embedded deliveries under `dl` with one-letter names. Reading gives back
 * the body byte for byte and the same deliveries, so the API, the timeline rows and every resend
 * are unchanged. The event id is the item's key (`EVENT#<id>`), not repeated.
 *
 * The previous embedded layout (`id`, a plain `body` string, `deliveries` with full names) is read
 * as well: written before this codec, and not migrated until its next change.
 *
 * `bz` always means deflate-v1: a body packed another way would get another attribute name.
 */
import type { DeliveryAttemptRecord, WebhookDelivery, WebhookDeliveryStatus } from '../domain/webhook-delivery';
import type { StoredEvent } from '../domain/webhook-events';
import type { EventWithDeliveries } from '../ports/events';
import { compactBody, expandBody } from '../shared/stored-body';
import { toDelivery, toEvent } from './dynamo-event-items';

/** One delivery as embedded in its event item, in memory (the event id, endpoint and merchant are the item's). */
export interface EmbeddedDelivery {
  status: WebhookDeliveryStatus;
  attempt: number;
  nextAttemptAt: string;
  attempts: DeliveryAttemptRecord[];
  updatedAt: string;
  leaseToken?: string;
}

export type DeliveryMap = Record<string, EmbeddedDelivery>;

/** An attempt record as stored: number, at, ok, latency ms, http status, error, response excerpt. */
interface StoredAttempt {
  n: number;
  t: string;
  ok: boolean;
  ms: number;
  h?: number;
  e?: string;
  x?: string;
}

/** A delivery as stored: status code, attempts this round, next due time, updatedAt (when not `t`), attempt log, lease. */
interface StoredDelivery {
  s: string;
  n: number;
  t: string;
  u?: string;
  a: StoredAttempt[];
  l?: string;
}

const STATUS_CODES: Record<WebhookDeliveryStatus, string> = {
  pending: 'p',
  delivered: 'd',
  dead_lettered: 'x',
  disabled: 'o',
};
const STATUS_OF_CODE = new Map(Object.entries(STATUS_CODES).map(([status, code]) => [code, status as WebhookDeliveryStatus]));

/** The item's layout: compact (this codec), embedded (the previous full-name one), or neither (the legacy item-per-delivery one). */
export function isCompactItem(item: Record<string, unknown>): boolean {
  return item.dl !== null && typeof item.dl === 'object';
}

export function hasEmbeddedDeliveries(item: Record<string, unknown>): boolean {
  return isCompactItem(item) || (item.deliveries !== null && typeof item.deliveries === 'object');
}

/** The event's id, from the item's key (the compact layout does not repeat it). */
export function eventIdOfItem(item: Record<string, unknown>): string {
  return typeof item.id === 'string' ? item.id : String(item.pk).slice('EVENT#'.length);
}

/** The stored attributes of an event (its key, index and revision attributes are the store's). */
export function encodeEvent(event: StoredEvent): Record<string, unknown> {
  return {
    merchantId: event.merchantId,
    type: event.type,
    created: event.created,
    createdAt: event.createdAt,
    objectId: event.objectId,
    checkoutId: event.checkoutId,
    ...(event.timelineDerived === true ? { timelineDerived: true } : {}),
    bz: Buffer.from(compactBody(event.body).body, 'base64'),
  };
}

/** The event of an item of either embedded layout. */
export function decodeEvent(item: Record<string, unknown>): StoredEvent {
  const packed = item.bz;
  const body = packed instanceof Uint8Array ? expandBody(Buffer.from(packed).toString('base64'), 'deflate-v1') : item.body;
  return toEvent({ ...item, id: eventIdOfItem(item), body });
}

export function encodeDeliveries(deliveries: DeliveryMap): Record<string, StoredDelivery> {
  return Object.fromEntries(
    Object.entries(deliveries).map(([endpointId, delivery]) => {
      const stored: StoredDelivery = {
        s: STATUS_CODES[delivery.status],
        n: delivery.attempt,
        t: delivery.nextAttemptAt,
        ...(delivery.updatedAt !== delivery.nextAttemptAt ? { u: delivery.updatedAt } : {}),
        a: delivery.attempts.map(encodeAttempt),
        ...(delivery.leaseToken !== undefined ? { l: delivery.leaseToken } : {}),
      };
      return [endpointId, stored];
    }),
  );
}

/** The deliveries of an item of either embedded layout, by endpoint id. */
export function decodeDeliveries(item: Record<string, unknown>): DeliveryMap {
  if (!isCompactItem(item)) return { ...(item.deliveries as DeliveryMap) };
  return Object.fromEntries(
    Object.entries(item.dl as Record<string, StoredDelivery>).map(([endpointId, stored]) => {
      const delivery: EmbeddedDelivery = {
        status: STATUS_OF_CODE.get(stored.s) ?? 'pending',
        attempt: Number(stored.n),
        nextAttemptAt: stored.t,
        attempts: (stored.a ?? []).map(decodeAttempt),
        updatedAt: stored.u ?? stored.t,
        ...(stored.l !== undefined ? { leaseToken: stored.l } : {}),
      };
      return [endpointId, delivery];
    }),
  );
}

/** The event of an item of either embedded layout with its deliveries, by endpoint id. */
export function eventWithDeliveries(item: Record<string, unknown>): EventWithDeliveries {
  const event = decodeEvent(item);
  const embedded = decodeDeliveries(item);
  const deliveries = Object.keys(embedded)
    .sort()
    .map((endpointId) => embeddedDelivery(item, endpointId, embedded))
    .filter((delivery): delivery is WebhookDelivery => delivery !== undefined);
  return { event, deliveries };
}

/** One delivery of an item of either embedded layout; undefined when the item has none for the endpoint. */
export function embeddedDelivery(
  item: Record<string, unknown>,
  endpointId: string,
  embedded: DeliveryMap = decodeDeliveries(item),
): WebhookDelivery | undefined {
  const delivery = embedded[endpointId];
  if (delivery === undefined) return undefined;
  return toDelivery({ ...delivery, eventId: eventIdOfItem(item), endpointId, merchantId: item.merchantId });
}

function encodeAttempt(record: DeliveryAttemptRecord): StoredAttempt {
  return {
    n: record.number,
    t: record.at,
    ok: record.ok,
    ms: record.latencyMs,
    ...(record.httpStatus !== undefined ? { h: record.httpStatus } : {}),
    ...(record.error !== undefined ? { e: record.error } : {}),
    ...(record.responseExcerpt !== undefined ? { x: record.responseExcerpt } : {}),
  };
}

function decodeAttempt(stored: StoredAttempt): DeliveryAttemptRecord {
  return {
    number: Number(stored.n),
    at: stored.t,
    ok: stored.ok,
    ...(stored.h !== undefined ? { httpStatus: Number(stored.h) } : {}),
    latencyMs: Number(stored.ms),
    ...(stored.e !== undefined ? { error: stored.e } : {}),
    ...(stored.x !== undefined ? { responseExcerpt: stored.x } : {}),
  };
}

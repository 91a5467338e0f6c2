/**
 * The compact event item (lambdas/adapters/dynamo-event-store.ts), so a result event with its first
 * attempts to one or two endpoints fits in one KB (1 write unit instead of 2-3): the webhook body is
 * stored as the raw deflate of lambdas/shared/stored-body.ts (`deflate-v1`, its dictionary of the
 * checkout view) in a binary attribute `bz`, and the embedded deliveries under `dl` with one-letter
 * names and instants as epoch milliseconds. Reading gives back the body byte for byte and the same
 * deliveries, so the API, the timeline rows and every resend are unchanged.
 *
 * What the item holds anyway is not repeated: the event id is the key (`EVENT#<id>`), the merchant
 * the list index's partition key (`gsi2pk`), `createdAt` the start of its sort key (`gsi2sk`),
 * `created` its whole seconds (stored as `cr` only when it is not), and an object id that is also
 * the checkout id (a checkout's result events) is stored once (`oc`). The type is `ty`,
 * `timelineDerived` is `td`. Each value is restored exactly: an instant that is not a canonical
 * `toISOString()` is stored as the string it is.
 *
 * Items of the earlier layouts are read as well, and written compact at their next change: the
 * first compact one (the same `bz` and `dl`, but the event's fields under their full names and ISO
 * instants in `dl`), and the embedded one before it (`id`, a plain `body` string, `deliveries` with
 * full names).
 *
 * `bz` always means deflate-v1: a body packed another way would get another attribute name.
 */
import type { DeliveryAttemptRecord, WebhookDelivery, WebhookDeliveryStatus } from '../domain/webhook-delivery';
import type { StoredEvent } from '../domain/webhook-events';
import type { EventWithDeliveries } from '../ports/events';
import { compactBody, expandBody } from '../shared/stored-body';
import { toDelivery, toEvent } from './dynamo-event-items';
import { compactInstant, instantOf } from './dynamo-instants';
import { merchantEventsGsiPk } from './dynamo-keys';

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

/**
 * An attempt record as stored: number, at (absent: the delivery's updatedAt, as for the attempt
 * that last changed it), ok, latency ms, http status, error, response excerpt.
 */
interface StoredAttempt {
  n: number;
  t?: number | string;
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
  t: number | string;
  u?: number | string;
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

/** The merchant of an event item: its own attribute (earlier layouts), else the list index's key. */
function merchantIdOfItem(item: Record<string, unknown>): string {
  if (typeof item.merchantId === 'string') return item.merchantId;
  const listPk = String(item.gsi2pk);
  const empty = merchantEventsGsiPk('');
  const prefix = empty.slice(0, empty.indexOf('#') + 1);
  return listPk.slice(prefix.length, listPk.length - (empty.length - prefix.length));
}

/** The event's whole seconds when `created` is not exactly those of `createdAt` (then it is stored). */
function impliedCreated(createdAt: string): number {
  return Math.floor(Date.parse(createdAt) / 1000);
}

/**
 * The stored attributes of an event (its key, index and revision attributes are the store's: the
 * list index's keys `gsi2pk` and `gsi2sk` hold its merchant and `createdAt`, see eventItem).
 */
export function encodeEvent(event: StoredEvent): Record<string, unknown> {
  const sameObject = event.objectId !== undefined && event.objectId === event.checkoutId;
  return {
    ty: event.type,
    ...(event.created !== impliedCreated(event.createdAt) ? { cr: event.created } : {}),
    ...(sameObject ? { oc: event.objectId } : { objectId: event.objectId, checkoutId: event.checkoutId }),
    ...(event.timelineDerived === true ? { td: true } : {}),
    bz: Buffer.from(compactBody(event.body).body, 'base64'),
  };
}

/** The event of an item of either embedded layout. */
export function decodeEvent(item: Record<string, unknown>): StoredEvent {
  const packed = item.bz;
  const body = packed instanceof Uint8Array ? expandBody(Buffer.from(packed).toString('base64'), 'deflate-v1') : item.body;
  const id = eventIdOfItem(item);
  const createdAt = typeof item.createdAt === 'string' ? item.createdAt : String(item.gsi2sk).slice(0, -(id.length + 1));
  const created = item.created ?? item.cr ?? impliedCreated(createdAt);
  const objectId = item.oc ?? item.objectId;
  const checkoutId = item.oc ?? item.checkoutId;
  const timelineDerived = item.td ?? item.timelineDerived;
  return toEvent({
    id,
    merchantId: merchantIdOfItem(item),
    type: item.ty ?? item.type,
    created,
    createdAt,
    objectId,
    checkoutId,
    timelineDerived,
    body,
  });
}

export function encodeDeliveries(deliveries: DeliveryMap): Record<string, StoredDelivery> {
  return Object.fromEntries(
    Object.entries(deliveries).map(([endpointId, delivery]) => {
      const stored: StoredDelivery = {
        s: STATUS_CODES[delivery.status],
        n: delivery.attempt,
        t: compactInstant(delivery.nextAttemptAt),
        ...(delivery.updatedAt !== delivery.nextAttemptAt ? { u: compactInstant(delivery.updatedAt) } : {}),
        a: delivery.attempts.map((record) => encodeAttempt(record, delivery.updatedAt)),
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
      const nextAttemptAt = instantOf(stored.t);
      const updatedAt = stored.u !== undefined ? instantOf(stored.u) : nextAttemptAt;
      const delivery: EmbeddedDelivery = {
        status: STATUS_OF_CODE.get(stored.s) ?? 'pending',
        attempt: Number(stored.n),
        nextAttemptAt,
        attempts: (stored.a ?? []).map((attempt) => decodeAttempt(attempt, updatedAt)),
        updatedAt,
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
  return toDelivery({ ...delivery, eventId: eventIdOfItem(item), endpointId, merchantId: merchantIdOfItem(item) });
}

/** `updatedAt`: the delivery's, which the attempt's instant is not repeated when it equals. */
function encodeAttempt(record: DeliveryAttemptRecord, updatedAt: string): StoredAttempt {
  return {
    n: record.number,
    ...(record.at !== updatedAt ? { t: compactInstant(record.at) } : {}),
    ok: record.ok,
    ms: record.latencyMs,
    ...(record.httpStatus !== undefined ? { h: record.httpStatus } : {}),
    ...(record.error !== undefined ? { e: record.error } : {}),
    ...(record.responseExcerpt !== undefined ? { x: record.responseExcerpt } : {}),
  };
}

function decodeAttempt(stored: StoredAttempt, updatedAt: string): DeliveryAttemptRecord {
  return {
    number: Number(stored.n),
    at: stored.t !== undefined ? instantOf(stored.t) : updatedAt,
    ok: stored.ok,
    ...(stored.h !== undefined ? { httpStatus: Number(stored.h) } : {}),
    latencyMs: Number(stored.ms),
    ...(stored.e !== undefined ? { error: stored.e } : {}),
    ...(stored.x !== undefined ? { responseExcerpt: stored.x } : {}),
  };
}

/**
 * Ports: the merchant's event log and its per-endpoint deliveries (`EventStore`), the part of it
 * that stores events and reads them by id (`EventRecords`: publishing and the saga's notify), and
 * publishing an event (`EventPublisher`, lambdas/use-cases/webhook-delivery.ts).
 */
import type { DeliveryAttemptRecord, WebhookDelivery, WebhookDeliveryStatus } from '../domain/webhook-delivery';
import type { StoredEvent } from '../domain/webhook-events';

export interface EventWithDeliveries {
  event: StoredEvent;
  deliveries: WebhookDelivery[];
}

export interface EventListQuery {
  limit: number;
  cursor?: string;
  type?: string;
}

/**
 * Events and their per-endpoint deliveries. Claiming a due delivery is a conditional write (a
 * lease: the claim moves nextAttemptAt to the lease's end), so concurrent dispatchers never send
 * the same attempt twice, and a dispatcher that crashes mid-attempt only delays the retry.
 */
/** What one delivery attempt changed: the delivery's next state and the attempt's record. */
export interface AttemptCompletion {
  status: WebhookDeliveryStatus;
  attempt: number;
  nextAttemptAt: string;
  record?: DeliveryAttemptRecord;
  now: string;
}

export interface EventStore {
  /** Stores the event with its deliveries (one conditional write); false (and no write) if the id exists. */
  createEvent(event: StoredEvent, deliveries: readonly WebhookDelivery[]): Promise<boolean>;
  /**
   * Stores each event with its deliveries as they are (e.g. with a first attempt already made),
   * each on condition that its id is new; returns the ids written. Pending deliveries are due for
   * the dispatcher at their nextAttemptAt; the others never enter the due index.
   */
  createEvents(entries: readonly { event: StoredEvent; deliveries: readonly WebhookDelivery[] }[]): Promise<string[]>;
  /**
   * Stores each event with its first attempts WITHOUT a condition, in as few requests as the store
   * can (BatchWriteItem): only for events whose id and content one writer derives (a checkout's
   * result events, notify-merchant.ts), where a second copy written by a concurrent re-run holds the
   * same event and an equivalent first attempt, so overwriting it loses no delivery. Optional: a
   * store without it is used through createEvents.
   */
  putEvents?(entries: readonly { event: StoredEvent; deliveries: readonly WebhookDelivery[] }[]): Promise<void>;
  /**
   * The events that exist among `eventIds`, in that order, with their deliveries. Strongly
   * consistent unless `options.consistent` is false (then an event stored in the last second may
   * be missed, or read with older deliveries).
   */
  getEvents(eventIds: readonly string[], options?: { consistent?: boolean }): Promise<EventWithDeliveries[]>;
  /** The event with its deliveries; scoped to the merchant when `merchantId` is given. */
  getEvent(eventId: string, merchantId?: string): Promise<EventWithDeliveries | undefined>;
  /** Newest first. */
  listEvents(merchantId: string, query: EventListQuery): Promise<{ events: EventWithDeliveries[]; nextCursor?: string }>;
  /** Keys of pending deliveries whose nextAttemptAt <= now (eventually consistent; claim to be sure). */
  listDueDeliveries(now: Date, limit: number): Promise<{ eventId: string; endpointId: string }[]>;
  /** Conditional: pending and due. Sets the lease; returns the delivery, or undefined if someone else has it. */
  claimDelivery(
    eventId: string,
    endpointId: string,
    now: Date,
    leaseUntil: Date,
    leaseToken: string,
  ): Promise<WebhookDelivery | undefined>;
  /**
   * claimDelivery, also answering the event the claim read (so the attempt needs no second read of
   * the item; no event if it is gone). Optional: without it the caller claims, then reads the event.
   */
  claimDeliveryWithEvent?(
    eventId: string,
    endpointId: string,
    now: Date,
    leaseUntil: Date,
    leaseToken: string,
  ): Promise<{ delivery: WebhookDelivery; event?: StoredEvent } | undefined>;
  /** Conditional on the lease token: records the attempt and the next state. False if the lease was lost. */
  completeAttempt(eventId: string, endpointId: string, leaseToken: string, outcome: AttemptCompletion): Promise<boolean>;
  /** Puts the delivery back to pending, due now, starting a new schedule round (creates it if missing). */
  requeueDelivery(eventId: string, endpointId: string, merchantId: string, now: Date): Promise<void>;
}

/**
 * What publishing and the saga's notify use of the store: events stored, and read back by id. No
 * lists, claims or delivery changes, so an entry that only stores and reads its events (the saga
 * steps, the sweep) wires a store without them (dynamo-event-records.ts).
 */
export type EventRecords = Pick<EventStore, 'createEvent' | 'createEvents' | 'putEvents' | 'getEvents' | 'getEvent'>;

export interface PublishEventInput {
  merchantId: string;
  /** A catalogue type (lambdas/domain/webhook-events.ts). */
  type: string;
  /** Id of the resource in data.object. */
  objectId: string;
  /** The body's `data` (usually `{ object: <resource view> }`). */
  data: Record<string, unknown>;
  /** What makes the event unique (e.g. `<txn id>:financial_instrument.transaction.succeeded`); the id derives from it. */
  sourceKey: string;
  checkoutId?: string;
  /** Defaults to now. */
  occurredAt?: Date;
  /**
   * Deliver to exactly these (enabled) endpoints of the merchant, whatever they subscribe to; for
   * the endpoint test event. Absent = every enabled endpoint subscribed to the type.
   */
  endpointIds?: readonly string[];
}

/** Records an event and queues its deliveries; the dispatcher (or the caller) sends them. Idempotent per sourceKey. */
export interface EventPublisher {
  publishEvent(input: PublishEventInput): Promise<{ eventId: string; created: boolean; deliveries: number }>;
}

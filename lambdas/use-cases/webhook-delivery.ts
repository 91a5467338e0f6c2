/**
 * At-least-once webhook delivery. Publishing stores the event with one pending delivery per
 * subscribed endpoint in one conditional write; each attempt claims its delivery with a conditional
 * write (a lease), sends the signed message, then records the attempt and the next state on the
 * lease token. Whatever crashes between those steps, the delivery stays in the table as pending
 * and the dispatcher (a scheduled Lambda on AWS, a timer locally) picks it up once it is due or
 * its lease has run out. The same send (sendOnce) serves the saga's first attempt of a checkout's
 * result events (made before they are stored, see notify-merchant.ts), the dispatcher's retries and
 * manual redelivery, so there is one delivery path.
 */
import { randomUUID } from 'node:crypto';
import { deriveEventId, endpointReceives, renderEventBody, WEBHOOK_TEST_EVENT_TYPE } from '../domain/webhook-events';
import { LATEST_API_VERSION } from '../domain/api-version';
import { parseRetryAfter, planNextAttempt, type RetrySchedule } from '../domain/webhook-schedule';
import { ConflictError, NotFoundError } from '../errors';
import type { DeliveryAttemptRecord, WebhookDelivery, WebhookDeliveryStatus } from '../domain/webhook-delivery';
import type { WebhookEndpoint } from '../domain/webhook-endpoint';
import type { StoredEvent } from '../domain/webhook-events';
import { webhookTimelineRow } from '../domain/webhook-result-events';
import type { CheckoutRepository } from '../ports/checkouts';
import type { EventPublisher, EventRecords, EventStore, EventWithDeliveries, PublishEventInput } from '../ports/events';
import type { MerchantRepository } from '../ports/merchants';
import type { SecretCipher } from '../ports/secrets';
import type { WebhookEndpointLookup, WebhookSender } from '../ports/webhooks';

/** Lease on a claimed delivery: longer than the 15 s request timeout, so a live attempt never loses it. */
export const DEFAULT_LEASE_MS = 60_000;

export interface WebhookDependencies {
  /**
   * Events stored and read by id: all a first attempt made before storing needs (sendOnce, the
   * saga's notify). Claims, completions and lists are the dispatcher's (DispatchDependencies).
   */
  events: EventRecords;
  webhookEndpoints: WebhookEndpointLookup;
  webhookSender: WebhookSender;
  cipher: SecretCipher;
  /**
   * Checkout events other than the result events also get webhook_delivered / webhook_failed rows
   * written on the checkout's timeline (the result events' rows are derived: webhookTimelineRows).
   */
  checkouts: Pick<CheckoutRepository, 'appendEvent'>;
  /**
   * Read only for an endpoint URL with an explicit port other than 443/80, to pass the merchant's
   * `allowed_ports` to the sender's guard. Without it such a URL is judged with 443/80 only.
   */
  merchants?: Pick<MerchantRepository, 'getMerchant'>;
  schedule: RetrySchedule;
  leaseMs?: number;
  now?: () => Date;
  random?: () => number;
  log?: (message: string, extra?: Record<string, unknown>) => void;
}

/** Attempts by lease, the dispatcher and redelivery: the whole event store (claims, completions, the due list). */
export type DispatchDependencies = Omit<WebhookDependencies, 'events'> & { events: EventStore };

export type PublishDependencies = Pick<WebhookDependencies, 'events' | 'webhookEndpoints' | 'now'>;
/** What publishing alone uses of the event store: createEvent (an entry that only publishes wires the writer). */
type PublishOnlyDependencies = Pick<WebhookDependencies, 'webhookEndpoints' | 'now'> & {
  events: Pick<EventStore, 'createEvent'>;
};

const clock = (deps: { now?: () => Date }): Date => (deps.now ? deps.now() : new Date());

/**
 * Records the event in the merchant's log and queues one delivery per enabled endpoint that
 * subscribes to its type. Idempotent: the id derives from `sourceKey`, and a second publish of
 * the same fact writes nothing (`created: false`).
 */
export async function publishEvent(
  deps: PublishOnlyDependencies,
  input: PublishEventInput,
): Promise<{ eventId: string; created: boolean; deliveries: number }> {
  const now = clock(deps);
  const occurredAt = input.occurredAt ?? now;
  const eventId = deriveEventId(input.sourceKey);
  const created = Math.floor(occurredAt.getTime() / 1000);
  const targets = input.endpointIds;
  const endpoints = (await deps.webhookEndpoints.listEndpoints(input.merchantId)).filter(
    (endpoint) =>
      endpoint.status === 'enabled' &&
      (targets !== undefined ? targets.includes(endpoint.id) : endpointReceives(endpoint.enabledEvents, input.type)),
  );
  const nowIso = now.toISOString();
  const deliveries: WebhookDelivery[] = endpoints.map((endpoint) => ({
    eventId,
    endpointId: endpoint.id,
    merchantId: input.merchantId,
    status: 'pending',
    attempt: 0,
    nextAttemptAt: nowIso,
    attempts: [],
    updatedAt: nowIso,
  }));
  const stored = await deps.events.createEvent(
    {
      id: eventId,
      merchantId: input.merchantId,
      type: input.type,
      created,
      createdAt: occurredAt.toISOString(),
      objectId: input.objectId,
      ...(input.checkoutId !== undefined ? { checkoutId: input.checkoutId } : {}),
      body: renderEventBody({ id: eventId, type: input.type, created, data: input.data }),
    },
    deliveries,
  );
  return { eventId, created: stored, deliveries: stored ? deliveries.length : 0 };
}

/** The EventPublisher port over publishEvent, for use cases that only publish (the dispatcher delivers). */
export function createEventPublisher(deps: PublishOnlyDependencies): EventPublisher {
  return { publishEvent: (input) => publishEvent(deps, input) };
}

export type AttemptOutcome =
  | { kind: 'skipped' }
  | { kind: 'attempted'; status: WebhookDeliveryStatus; record: DeliveryAttemptRecord; nextAttemptAt?: string };

/** The secrets to sign with: the current one, plus the previous one while its rotation overlap lasts. */
async function signingSecrets(cipher: SecretCipher, endpoint: WebhookEndpoint, now: Date): Promise<string[]> {
  const secrets = [await cipher.decrypt(endpoint.secretCiphertext)];
  if (
    endpoint.previousSecretCiphertext !== undefined &&
    endpoint.previousSecretExpiresAt !== undefined &&
    Date.parse(endpoint.previousSecretExpiresAt) > now.getTime()
  ) {
    secrets.push(await cipher.decrypt(endpoint.previousSecretCiphertext));
  }
  return secrets;
}

/** The merchant's `allowed_ports`, read only when `url` names a port other than 443/80. */
async function merchantAllowedPorts(deps: WebhookDependencies, merchantId: string, url: string): Promise<number[] | undefined> {
  if (deps.merchants === undefined) return undefined;
  let port: string;
  try {
    port = new URL(url).port;
  } catch {
    return undefined;
  }
  if (port === '' || port === '443' || port === '80') return undefined;
  return (await deps.merchants.getMerchant(merchantId))?.settings.allowedPorts;
}

/** What one send of one event to one endpoint came to: the attempt record and the delivery's next state. */
export interface SendOutcome {
  status: WebhookDeliveryStatus;
  record: DeliveryAttemptRecord;
  /** When the next attempt is due (status pending); otherwise now. */
  nextAttemptAt: string;
}

/**
 * Sends `event` to the endpoint once (attempt `number` of the delivery's life, `attemptsMade` in
 * this schedule round counting this one) and decides the delivery's next state: 2xx = delivered;
 * 410 Gone disables the endpoint; anything else is retried per the schedule (Retry-After can push
 * it later, bounded), and after the last attempt it is dead-lettered. A missing or disabled
 * endpoint is not sent to (status disabled). Holds no lease: the caller owns the delivery.
 */
export async function sendOnce(
  deps: WebhookDependencies,
  event: StoredEvent | undefined,
  endpoint: WebhookEndpoint | undefined,
  attempt: { number: number; attemptsMade: number },
): Promise<SendOutcome> {
  const now = clock(deps);
  const { number, attemptsMade } = attempt;
  let record: DeliveryAttemptRecord;
  let status: WebhookDeliveryStatus;
  let nextAttemptAt = now.toISOString();
  if (!event || !endpoint || endpoint.status !== 'enabled') {
    const why = !event
      ? 'event not found'
      : !endpoint
        ? 'endpoint deleted'
        : `endpoint disabled${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}`;
    record = { number, at: now.toISOString(), ok: false, latencyMs: 0, error: `not sent: ${why}` };
    status = 'disabled';
  } else {
    const allowedPorts = await merchantAllowedPorts(deps, endpoint.merchantId, endpoint.url);
    const sent = await deps.webhookSender.send(
      endpoint.url,
      await signingSecrets(deps.cipher, endpoint, now),
      { id: event.id, timestamp: now, body: event.body, apiVersion: endpoint.apiVersion ?? LATEST_API_VERSION },
      allowedPorts !== undefined ? { allowedPorts } : {},
    );
    record = {
      number,
      at: now.toISOString(),
      ok: sent.ok,
      latencyMs: sent.latencyMs,
      ...(sent.httpStatus !== undefined ? { httpStatus: sent.httpStatus } : {}),
      ...(sent.error !== undefined ? { error: sent.error } : {}),
      ...(sent.responseExcerpt !== undefined && sent.responseExcerpt !== '' ? { responseExcerpt: sent.responseExcerpt } : {}),
    };
    if (sent.ok) {
      status = 'delivered';
    } else if (sent.httpStatus === 410) {
      status = 'disabled';
      await deps.webhookEndpoints.disableEndpoint(endpoint.merchantId, endpoint.id, 'the receiver answered 410 Gone');
    } else {
      const next = planNextAttempt({
        attemptsMade,
        schedule: deps.schedule,
        now: clock(deps),
        random: deps.random ?? Math.random,
        retryAfterMs: parseRetryAfter(sent.retryAfter, now),
      });
      if (next.kind === 'retry') {
        status = 'pending';
        nextAttemptAt = next.at.toISOString();
      } else {
        status = 'dead_lettered';
      }
    }
  }
  return { status, record, nextAttemptAt };
}

/**
 * One attempt of one delivery, if it is due and nobody else holds it: claim (lease), send, record.
 * The dispatcher's retries and redeliveries go through here (dispatchers may race each other);
 * the saga's first attempt of a checkout's result events needs no lease (notify-merchant.ts).
 */
export async function attemptDelivery(
  deps: DispatchDependencies,
  key: { eventId: string; endpointId: string },
): Promise<AttemptOutcome> {
  const now = clock(deps);
  const leaseToken = randomUUID();
  const leaseUntil = new Date(now.getTime() + (deps.leaseMs ?? DEFAULT_LEASE_MS));
  const claim = deps.events.claimDeliveryWithEvent
    ? await deps.events.claimDeliveryWithEvent(key.eventId, key.endpointId, now, leaseUntil, leaseToken)
    : await claimThenRead(deps.events, key, now, leaseUntil, leaseToken);
  if (!claim) return { kind: 'skipped' };
  const claimed = claim.delivery;
  // The deliveries beside the event are not needed here: the claim's own read of the item serves.
  const found = claim.event ? { event: claim.event } : undefined;
  const endpoint = found ? await deps.webhookEndpoints.getEndpoint(claimed.merchantId, key.endpointId) : undefined;
  const { status, record, nextAttemptAt } = await sendOnce(deps, found?.event, endpoint, {
    number: claimed.attempts.length + 1,
    attemptsMade: claimed.attempt + 1,
  });

  // A result event's attempts show on the timeline from its own log (checkoutWebhookRows).
  if (found?.event.checkoutId !== undefined && found.event.timelineDerived !== true) {
    await appendTimelineRows(deps, found, key.endpointId, record, status);
  }
  const kept = await deps.events.completeAttempt(key.eventId, key.endpointId, leaseToken, {
    status,
    attempt: claimed.attempt + 1,
    nextAttemptAt,
    record,
    now: new Date().toISOString(),
  });
  if (!kept)
    deps.log?.('webhook delivery lease lost before the attempt was recorded', {
      eventId: key.eventId,
      endpointId: key.endpointId,
    });
  return { kind: 'attempted', status, record, ...(status === 'pending' ? { nextAttemptAt } : {}) };
}

/** A store without claimDeliveryWithEvent: claim, then read the event. */
async function claimThenRead(
  events: EventStore,
  key: { eventId: string; endpointId: string },
  now: Date,
  leaseUntil: Date,
  leaseToken: string,
): Promise<{ delivery: WebhookDelivery; event?: StoredEvent } | undefined> {
  const delivery = await events.claimDelivery(key.eventId, key.endpointId, now, leaseUntil, leaseToken);
  if (!delivery) return undefined;
  const found = await events.getEvent(key.eventId);
  return found ? { delivery, event: found.event } : { delivery };
}

async function appendTimelineRows(
  deps: WebhookDependencies,
  found: Pick<EventWithDeliveries, 'event'>,
  endpointId: string,
  record: DeliveryAttemptRecord,
  status: WebhookDeliveryStatus,
): Promise<void> {
  await deps.checkouts.appendEvent(
    webhookTimelineRow(found.event, endpointId, record, status),
    `webhook:${found.event.id}:${endpointId}:${record.number}`,
  );
}

export interface DispatchResult {
  due: number;
  attempted: number;
  delivered: number;
}

/** One pass: every due delivery (up to `limit`), `concurrency` at a time. */
export async function dispatchDueDeliveries(
  deps: DispatchDependencies,
  options: { limit?: number; concurrency?: number } = {},
): Promise<DispatchResult> {
  const due = await deps.events.listDueDeliveries(clock(deps), options.limit ?? 50);
  const result: DispatchResult = { due: due.length, attempted: 0, delivered: 0 };
  const queue = [...due];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      try {
        const outcome = await attemptDelivery(deps, next);
        if (outcome.kind === 'attempted') {
          result.attempted += 1;
          if (outcome.status === 'delivered') result.delivered += 1;
        }
      } catch (error) {
        // The delivery stays pending under its lease and is retried when the lease ends.
        deps.log?.('webhook delivery attempt failed', { ...next, error: error instanceof Error ? error.message : String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, due.length)) }, worker));
  return result;
}

/**
 * The dispatcher's body: passes until `runForMs` has elapsed (0 = a single pass), sleeping
 * `pollMs` between passes. On AWS a once-a-minute schedule runs it for ~40 s polling every 2 s, so
 * the 5 s retry is not stretched to a minute; locally a 250 ms timer runs single passes.
 */
export async function runDispatcher(
  deps: DispatchDependencies,
  options: { runForMs?: number; pollMs?: number; limit?: number; concurrency?: number } = {},
): Promise<DispatchResult & { passes: number }> {
  const deadline = Date.now() + (options.runForMs ?? 0);
  const total = { due: 0, attempted: 0, delivered: 0, passes: 0 };
  for (;;) {
    const pass = await dispatchDueDeliveries(deps, options);
    total.due += pass.due;
    total.attempted += pass.attempted;
    total.delivered += pass.delivered;
    total.passes += 1;
    if (Date.now() + (options.pollMs ?? 2_000) > deadline) return total;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2_000));
  }
}

/**
 * POST /v1/events/{id}/redeliver: puts the event's deliveries back to pending, due now, with a
 * fresh schedule (the attempt log is kept). Targets the given endpoint, or every enabled endpoint
 * that had a delivery of this event or subscribes to its type. The dispatcher sends them.
 */
export async function redeliverEvent(
  deps: Pick<DispatchDependencies, 'events' | 'webhookEndpoints' | 'now'>,
  input: { merchantId: string; eventId: string; endpointId?: string },
): Promise<EventWithDeliveries> {
  const found = await deps.events.getEvent(input.eventId, input.merchantId);
  if (!found) throw new NotFoundError(`No event ${input.eventId}`, { param: 'id' });
  const endpoints = await deps.webhookEndpoints.listEndpoints(input.merchantId);
  const hadDelivery = new Set(found.deliveries.map((delivery) => delivery.endpointId));
  let targets: WebhookEndpoint[];
  if (input.endpointId !== undefined) {
    const endpoint = endpoints.find((candidate) => candidate.id === input.endpointId);
    if (!endpoint) throw new NotFoundError(`No webhook endpoint ${input.endpointId}`, { param: 'endpoint_id' });
    if (endpoint.status !== 'enabled')
      throw new ConflictError(`Webhook endpoint ${endpoint.id} is disabled`, { param: 'endpoint_id', code: 'endpoint_disabled' });
    targets = [endpoint];
  } else {
    targets = endpoints.filter(
      (endpoint) =>
        endpoint.status === 'enabled' &&
        (hadDelivery.has(endpoint.id) || endpointReceives(endpoint.enabledEvents, found.event.type)),
    );
  }
  if (targets.length === 0)
    throw new ConflictError('No enabled webhook endpoint receives this event', { code: 'no_enabled_endpoints' });
  const now = clock(deps);
  for (const endpoint of targets) await deps.events.requeueDelivery(found.event.id, endpoint.id, input.merchantId, now);
  return (await deps.events.getEvent(found.event.id, input.merchantId)) ?? found;
}

/**
 * POST /v1/webhook_endpoints/{id}/test: a `webhook_endpoint.test` event for that endpoint alone,
 * queued like every event (stored, signed and sent by the dispatcher, retried on failure, listed
 * in GET /v1/events), so it exercises the receiver exactly as a real event would. Each call is a
 * new event (`nonce`); the Idempotency-Key layer dedupes retries of one call.
 */
export async function sendTestEvent(
  deps: PublishDependencies,
  input: { merchantId: string; endpoint: WebhookEndpoint; endpointView: Record<string, unknown>; nonce: string },
): Promise<EventWithDeliveries> {
  if (input.endpoint.status !== 'enabled') {
    throw new ConflictError(`Webhook endpoint ${input.endpoint.id} is disabled`, { param: 'id', code: 'endpoint_disabled' });
  }
  const { eventId } = await publishEvent(deps, {
    merchantId: input.merchantId,
    type: WEBHOOK_TEST_EVENT_TYPE,
    objectId: input.endpoint.id,
    data: { object: input.endpointView },
    sourceKey: `${input.endpoint.id}:${WEBHOOK_TEST_EVENT_TYPE}:${input.nonce}`,
    endpointIds: [input.endpoint.id],
  });
  const stored = await deps.events.getEvent(eventId, input.merchantId);
  if (!stored) throw new NotFoundError(`No event ${eventId}`);
  return stored;
}

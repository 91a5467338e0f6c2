/**
 * The saga's last step: publish the result events and make the first delivery attempt. Publishes
 * `payment.captured` / `payment.voided` (from the checkout's payment state) and then
 * `checkout.succeeded` | `checkout.failed`, the merchant's cue to mark items sold or unblock stock.
 *
 * The first attempt is made before the events are stored, with no lease (nobody else can send an
 * event that is not stored yet), and each event is then stored ONCE with its first attempt
 * recorded: delivered, or pending in the dispatcher's due index at the schedule's next time. So a
 * checkout whose merchant answers costs one write request for its events (a BatchWriteItem of
 * items under 1 KB; one conditional Put when there is a single event) and never enters the due
 * index. The batch put is unconditional: the events and their ids derive from the checkout, and
 * only a run of this step that read them as not stored writes them, so another copy can only come
 * from a concurrent re-run that sent the same events with the same `webhook-id` a moment before;
 * replacing it keeps one item per event (listed once) with an equivalent first attempt, and a
 * pending delivery in it is retried: at-least-once either way. (Had the dispatcher already retried
 * the copy, which takes a re-run stalled past the first retry delay, those later attempts drop
 * from the log and the delivery may be sent once more, same `webhook-id`.) A crash between sending and storing loses nothing: the recovery sweep's outcome watch is
 * dropped only after the events are stored, so the sweep runs this step again, which sends the
 * events still unstored with the same ids (`webhook-id`): at-least-once. A failed delivery does
 * not fail this step. Event ids derive from the checkout and type, so a re-run publishes nothing
 * new and every retry carries the same `webhook-id`.
 */
import { deriveEventId, endpointReceives, renderEventBody, type StoredEvent } from '../../domain/webhook-events';
import type { WebhookDelivery } from '../../domain/webhook-delivery';
import type { WebhookEndpoint } from '../../domain/webhook-endpoint';
import type { EventWithDeliveries } from '../../ports/events';
import { resultEventSources } from '../../domain/webhook-result-events';
import type { FinancialInstrument } from '../../domain/instrument-model';
import type { Checkout } from '../../domain/model';
import { instrumentOfPayment } from '../payment-ledger';
import { merchantReadOnce } from '../merchant-read-once';
import { sendOnce, type WebhookDependencies } from '../webhook-delivery';

export { checkoutEventTypes, checkoutWebhookRows, resultEventId } from '../../domain/webhook-result-events';
import { loadCheckout, type SagaPorts, type StepInput } from './shared';

/** What the saga's NotifyMerchant needs: the checkout, its instrument (the amounts) and rendering, the event store and delivery settings. */
export type NotifyMerchantPorts = WebhookDependencies &
  Pick<SagaPorts, 'checkouts' | 'instruments' | 'renderCheckout' | 'outcomeWatch'>;

export interface NotifyMerchantOutput {
  eventId?: string;
  /** Every event published for this checkout, result event last. */
  eventIds?: string[];
  delivered: number;
  /** Deliveries left for the dispatcher (failed first attempt, or not attempted). */
  pending?: number;
  skipped?: string;
}

/**
 * Step 5: send each result event not stored yet to every subscribed endpoint, then store the
 * events with those attempts (one write request), then drop the recovery watch. Only
 * storage failures are thrown (the state machine retries them, sending again with the same
 * `webhook-id`); failed deliveries are left to the dispatcher's schedule. `loaded` is the checkout
 * the caller just wrote (skips a re-read); `loadedInstrument` the checkout's instrument as the
 * caller's own write left it (CapturePayment's capture: the amounts the events report, without
 * reading the instrument again).
 */
export async function notifyMerchant(
  deps: NotifyMerchantPorts,
  { checkoutId }: StepInput,
  loaded?: Checkout,
  loadedInstrument?: FinancialInstrument,
  early?: NotifyReads,
): Promise<NotifyMerchantOutput> {
  const checkout = loaded?.id === checkoutId ? loaded : await loadCheckout(deps, checkoutId);
  const sources = resultEventSources(checkout);
  if (sources.length === 0) return { delivered: 0, skipped: `status ${checkout.status}` };
  const eventIds = sources.map(({ sourceKey }) => deriveEventId(sourceKey));
  // The three reads are independent: they run together (or were started by the caller, beside its
  // terminal write, for the very events and merchant: startNotifyReads, which then reads only the
  // events an earlier try stored). The endpoints and the instrument are only used when an event is
  // still unsent (a first run); a re-run that finds every event stored reads them for nothing, which
  // is rare (a Task retry or the sweep after a crash).
  const reads =
    early !== undefined && early.merchantId === checkout.merchantId && sameIds(early.eventIds, eventIds)
      ? early
      : startNotifyReads(deps, checkout);
  const endpointsRead = reads.endpoints;
  const instrumentRead = settledLater(
    loadedInstrument !== undefined && loadedInstrument.id === checkout.payment?.instrumentId
      ? Promise.resolve(loadedInstrument)
      : instrumentOfPayment(deps.instruments, checkout.payment),
  );
  const found = await reads.found;
  const stored = new Set(found.map(({ event }) => event.id));
  const unsent = sources.filter(({ sourceKey }) => !stored.has(deriveEventId(sourceKey)));
  const states = found.flatMap(({ deliveries }) => deliveries.map((delivery) => delivery.status));
  let delivered = states.filter((status) => status === 'delivered').length;
  let pending = states.filter((status) => status === 'pending').length;
  if (unsent.length > 0) {
    const instrument = await instrumentRead;
    const object = deps.renderCheckout(checkout, instrument);
    const occurredAt = new Date(checkout.updatedAt);
    const created = Math.floor(occurredAt.getTime() / 1000);
    const endpoints = (await endpointsRead).filter((endpoint) => endpoint.status === 'enabled');
    // The merchant (its allowed_ports, for an endpoint on another port) is read once per run.
    const sendDeps = { ...deps, ...(deps.merchants !== undefined ? { merchants: merchantReadOnce(deps.merchants) } : {}) };
    const gone = new Set<string>();
    const entries: { event: StoredEvent; deliveries: WebhookDelivery[] }[] = [];
    // In order (payment facts first, the result last), as the merchant expects them.
    for (const { type, sourceKey } of unsent) {
      const id = deriveEventId(sourceKey);
      const event: StoredEvent = {
        id,
        merchantId: checkout.merchantId,
        type,
        created,
        createdAt: occurredAt.toISOString(),
        objectId: checkout.id,
        checkoutId: checkout.id,
        timelineDerived: true,
        body: renderEventBody({ id, type, created, data: { object } }),
      };
      const deliveries: WebhookDelivery[] = [];
      for (const endpoint of endpoints.filter((candidate) => endpointReceives(candidate.enabledEvents, type))) {
        // An endpoint that answered 410 to an earlier event is disabled now: not sent to again.
        const target = gone.has(endpoint.id)
          ? { ...endpoint, status: 'disabled' as const, disabledReason: 'the receiver answered 410 Gone' }
          : endpoint;
        const outcome = await sendOnce(sendDeps, event, target, { number: 1, attemptsMade: 1 });
        if (outcome.status === 'disabled') gone.add(endpoint.id);
        if (outcome.status === 'delivered') delivered += 1;
        if (outcome.status === 'pending') pending += 1;
        deliveries.push({
          eventId: id,
          endpointId: endpoint.id,
          merchantId: checkout.merchantId,
          status: outcome.status,
          attempt: 1,
          nextAttemptAt: outcome.nextAttemptAt,
          attempts: [outcome.record],
          updatedAt: outcome.record.at,
        });
      }
      entries.push({ event, deliveries });
    }
    // Several events: one unconditional BatchWriteItem (EventStore.putEvents says why that is safe).
    if (entries.length > 1 && deps.events.putEvents !== undefined) await deps.events.putEvents(entries);
    else await deps.events.createEvents(entries);
  }
  // Every result event is stored with its first attempts: the dispatcher owns the retries from
  // here, so the sweep no longer needs to watch this checkout.
  await deps.outcomeWatch?.forgetCheckout(checkout.id);
  const eventId = eventIds[eventIds.length - 1];
  return { ...(eventId !== undefined ? { eventId } : {}), eventIds, delivered, pending };
}

/** `read`, with its rejection observed now (a read left unused must not be an unhandled rejection); awaiting it still throws. */
function settledLater<T>(read: Promise<T>): Promise<T> {
  read.catch(() => undefined);
  return read;
}

/** The reads that open notifyMerchant: which of the checkout's result events are stored, and the merchant's endpoints. */
export interface NotifyReads {
  merchantId: string;
  /** Every result event of the checkout (`found` holds those of them that are stored). */
  eventIds: string[];
  found: Promise<EventWithDeliveries[]>;
  endpoints: Promise<WebhookEndpoint[]>;
}

/**
 * Starts notifyMerchant's first reads for `checkout`, the checkout as it is (or as the caller is
 * about to write it: CapturePayment starts them beside its terminal write, so the notify that
 * follows waits for no read). notifyMerchant uses them only for the same merchant and event ids.
 *
 * Both reads are eventually consistent. The stored events: only an event stored in the last second
 * (a concurrent run's) can be missed, and then it is sent again with the same webhook-id and
 * stored again with an equivalent first attempt; the events of earlier tries were stored long
 * before, and a result event of this try cannot be stored before the terminal write that makes it.
 * The endpoints: one changed in the last second is seen as it was a second before, as if the
 * checkout had finished then (a stale secret after a rotation signs with the previous one, still
 * valid during the overlap). A read left unused (the terminal write lost) is never an unhandled rejection.
 *
 * `ownTerminalWrite`: `checkout` is as the caller's conditional write from `processing` makes it,
 * and the reads are used only once that write landed (CapturePayment). Its terminal result events
 * (`<checkout>:<type>`, checkoutEventTypes) are then known unstored and not read; only the
 * `payment.failed` of earlier tries are (stored when those tries reopened the checkout). Why none
 * can be stored: the only writer of these ids is notifyMerchant (CapturePayment, the failure path,
 * the recovery sweep), which lists them only for a checkout it read or wrote as `succeeded` or
 * `failed` (resultEventSources), and a checkout becomes terminal once (checkout-status.ts: no exit
 * from a terminal status), so not before the caller's write. The other publishers key their events
 * on other sources (3-D Secure's attempt, an instrument operation, a PSP dispute, an authorization
 * expiry, an endpoint's test nonce). A run that could store them concurrently, after the write (the
 * sweep past its bound, a Task retry after this run failed), is the case above: sent again with the
 * same webhook-id, stored again with an equivalent first attempt.
 */
export function startNotifyReads(
  deps: Pick<NotifyMerchantPorts, 'events' | 'webhookEndpoints'>,
  checkout: Checkout,
  { ownTerminalWrite = false }: { ownTerminalWrite?: boolean } = {},
): NotifyReads {
  const sources = resultEventSources(checkout).map(({ type, sourceKey }) => ({ type, id: deriveEventId(sourceKey) }));
  const eventIds = sources.map(({ id }) => id);
  // After the caller's own terminal write only the earlier tries' `payment.failed` can be stored
  // (a terminal checkout's own types never include it: checkoutEventTypes).
  const toRead = ownTerminalWrite ? sources.filter(({ type }) => type === 'payment.failed').map(({ id }) => id) : eventIds;
  return {
    merchantId: checkout.merchantId,
    eventIds,
    found: toRead.length === 0 ? Promise.resolve([]) : settledLater(deps.events.getEvents(toRead, { consistent: false })),
    endpoints: settledLater(deps.webhookEndpoints.listEndpoints(checkout.merchantId, { consistent: false })),
  };
}

function sameIds(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && left.every((id, index) => id === right[index]);
}

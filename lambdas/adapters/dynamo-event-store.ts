/**
 * Merchant events and their webhook deliveries in the single table: ONE item per event
 * (`EVENT#<id>` / `EVENT`) with its per-endpoint delivery states embedded (a map by endpoint id:
 * status, attempt count, next due time, the attempt log, the dispatcher's lease). Items are written
 * compact (dynamo-event-codec.ts: the body deflated, the deliveries with short names), so a result
 * event with its first attempts fits in 1 KB; items of the previous embedded layout (plain `body`,
 * `deliveries`) are read alike and written compact at their next change.
 * The merchant's log lists the items through the keys-only gsi2 (`createdAt#eventId`), so a later
 * update of an event costs no index unit. An event with a pending delivery also sits in the
 * sparse gsi1 "due" index (`<earliest due>#eventId`) the dispatcher queries; an event whose first
 * attempts succeeded never enters it. Every change of a delivery is a conditional write on the
 * item's `revision` (read, change, write if nobody wrote in between), so concurrent dispatchers
 * never send the same attempt twice.
 *
 * Items of the previous layout (an event item plus one `DELIVERY#<endpoint>` item per endpoint,
 * listed through gsi1) are still read, claimed, completed and redelivered on their own items
 * (dynamo-legacy-deliveries.ts).
 */
import { PutCommand, QueryCommand } from './dynamo-client';
import type { WebhookDelivery } from '../domain/webhook-delivery';
import type { StoredEvent } from '../domain/webhook-events';
import type { AttemptCompletion, EventListQuery, EventStore, EventWithDeliveries } from '../ports/events';
import { eventKey, GSI1, GSI2, merchantEventsGsiPk, WEBHOOK_DUE_SHARDS, webhookDueGsiPk } from './dynamo-keys';
import {
  decodeGsiCursor,
  encodeGsiCursor,
  isConditionalCheckFailure,
  translateStoreError,
  withoutUndefined,
} from './dynamo-support';
import {
  decodeDeliveries,
  decodeEvent,
  embeddedDelivery,
  eventIdOfItem,
  hasEmbeddedDeliveries,
  type DeliveryMap,
} from './dynamo-event-codec';
import { eventItem } from './dynamo-event-writer';
import { DynamoEventRecords } from './dynamo-event-records';

const isEmbeddedLayout = hasEmbeddedDeliveries;

const MAX_REVISION_RETRIES = 8;
const MAX_REMEMBERED_CLAIMS = 256;

/**
 * The whole event store: the writer's puts and the reads by id (dynamo-event-records.ts) plus lists,
 * claims and delivery changes.
 */
export class DynamoEventStore extends DynamoEventRecords implements EventStore {
  /**
   * Newest first, through gsi2 (keys only; the items are then read in one batch) and, for events
   * of the previous layout, gsi1: both are read below the cursor's sort key and merged, taking
   * entries only down to where a truncated page leaves the other index's order unknown.
   */
  async listEvents(merchantId: string, query: EventListQuery): Promise<{ events: EventWithDeliveries[]; nextCursor?: string }> {
    const listPk = merchantEventsGsiPk(merchantId);
    let before =
      query.cursor === undefined ? undefined : decodeGsiCursor(query.cursor, listPk, { pkPrefix: 'EVENT#', sk: 'EVENT' }).gsi1sk;
    const found: { entry: EventWithDeliveries; sortKey: string }[] = [];
    // One item more than asked, so a cursor is given only when another page really exists (`has_more`).
    const wanted = query.limit + 1;
    // A type filter may leave pages short: keep reading until the page is full or both indexes end.
    for (;;) {
      const pageSize = wanted - found.length;
      const [current, legacy] = await Promise.all([
        this.listPage(GSI2, 'gsi2pk', 'gsi2sk', listPk, before, pageSize),
        this.listPage(GSI1, 'gsi1pk', 'gsi1sk', listPk, before, pageSize),
      ]);
      const floors = [current, legacy].filter((page) => page.more).map((page) => page.keys[page.keys.length - 1]!.sortKey);
      const floor = floors.sort().at(-1);
      const taken = [...current.keys, ...legacy.keys]
        .sort((a, b) => b.sortKey.localeCompare(a.sortKey))
        .filter((key) => floor === undefined || key.sortKey >= floor);
      if (taken.length === 0) break;
      const entries = new Map((await this.getEvents(taken.map((key) => key.eventId))).map((entry) => [entry.event.id, entry]));
      for (const key of taken) {
        const entry = entries.get(key.eventId);
        if (entry === undefined || (query.type !== undefined && entry.event.type !== query.type)) continue;
        found.push({ entry, sortKey: key.sortKey });
      }
      before = taken[taken.length - 1]!.sortKey;
      if (floor === undefined || found.length >= wanted) break;
    }
    const kept = found.slice(0, query.limit);
    const last = found.length > query.limit ? kept[kept.length - 1] : undefined;
    const events = kept.map(({ entry }) => entry);
    return last === undefined
      ? { events }
      : { events, nextCursor: encodeGsiCursor({ gsi1sk: last.sortKey, pk: eventKey(last.entry.event.id).pk }) };
  }

  /** One page of a merchant's list index below `before`, newest first; `more` when the page was cut short. */
  private async listPage(
    indexName: string,
    pkName: string,
    skName: string,
    listPk: string,
    before: string | undefined,
    limit: number,
  ): Promise<{ keys: { eventId: string; sortKey: string }[]; more: boolean }> {
    try {
      const page = await this.documentClient.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: indexName,
          KeyConditionExpression: before === undefined ? '#pk = :pk' : '#pk = :pk AND #sk < :before',
          ExpressionAttributeNames: { '#pk': pkName, ...(before === undefined ? {} : { '#sk': skName }) },
          ExpressionAttributeValues: { ':pk': listPk, ...(before === undefined ? {} : { ':before': before }) },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      const keys = (page.Items ?? [])
        .filter((item) => item.sk === 'EVENT')
        .map((item) => ({ eventId: String(item.pk).slice('EVENT#'.length), sortKey: String(item[skName]) }));
      return { keys, more: page.LastEvaluatedKey !== undefined && keys.length > 0 };
    } catch (error) {
      return translateStoreError(error);
    }
  }

  async listDueDeliveries(now: Date, limit: number): Promise<{ eventId: string; endpointId: string }[]> {
    const nowIso = now.toISOString();
    const bound = `${nowIso}#~`;
    const perShard = await Promise.all(
      Array.from({ length: WEBHOOK_DUE_SHARDS }, async (_, shard) => {
        try {
          const page = await this.documentClient.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: GSI1,
              KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk <= :bound',
              ExpressionAttributeValues: { ':pk': webhookDueGsiPk(shard), ':bound': bound },
              Limit: limit,
            }),
          );
          return (page.Items ?? []).flatMap((item) => {
            if (!isEmbeddedLayout(item))
              return [{ eventId: String(item.eventId), endpointId: String(item.endpointId), due: String(item.gsi1sk) }];
            // An event item: its deliveries that are due now (one under a live lease is not).
            const eventId = eventIdOfItem(item);
            return Object.entries(decodeDeliveries(item))
              .filter(([, delivery]) => delivery.status === 'pending' && delivery.nextAttemptAt <= nowIso)
              .map(([endpointId, delivery]) => ({ eventId, endpointId, due: delivery.nextAttemptAt }));
          });
        } catch (error) {
          return translateStoreError(error);
        }
      }),
    );
    return perShard
      .flat()
      .sort((a, b) => a.due.localeCompare(b.due))
      .slice(0, limit)
      .map(({ eventId, endpointId }) => ({ eventId, endpointId }));
  }

  async claimDelivery(
    eventId: string,
    endpointId: string,
    now: Date,
    leaseUntil: Date,
    leaseToken: string,
  ): Promise<WebhookDelivery | undefined> {
    return (await this.claimDeliveryWithEvent(eventId, endpointId, now, leaseUntil, leaseToken))?.delivery;
  }

  /** The claim's own write holds the event: a previous-layout event alone is read again (its own item). */
  async claimDeliveryWithEvent(
    eventId: string,
    endpointId: string,
    now: Date,
    leaseUntil: Date,
    leaseToken: string,
  ): Promise<{ delivery: WebhookDelivery; event?: StoredEvent } | undefined> {
    const nextAttemptAt = leaseUntil.toISOString();
    const nowIso = now.toISOString();
    const result = await this.changeDeliveries(eventId, (deliveries) => {
      const delivery = deliveries[endpointId];
      if (!delivery || delivery.status !== 'pending' || delivery.nextAttemptAt > nowIso) return undefined;
      deliveries[endpointId] = { ...delivery, nextAttemptAt, leaseToken };
      return true;
    });
    if (result.kind === 'legacy') {
      const delivery = await this.legacy.claim(eventId, endpointId, nowIso, nextAttemptAt, leaseToken);
      if (!delivery) return undefined;
      const found = await this.legacy.getEvent(eventId);
      return found ? { delivery, event: found.event } : { delivery };
    }
    if (result.kind !== 'changed') return undefined;
    this.rememberClaim(leaseToken, result.item);
    const delivery = embeddedDelivery(result.item, endpointId);
    return delivery ? { delivery, event: decodeEvent(result.item) } : undefined;
  }

  async completeAttempt(eventId: string, endpointId: string, leaseToken: string, outcome: AttemptCompletion): Promise<boolean> {
    const claimed = this.claims.get(leaseToken);
    this.claims.delete(leaseToken);
    const result = await this.changeDeliveries(
      eventId,
      (deliveries) => {
        const delivery = deliveries[endpointId];
        if (!delivery || delivery.leaseToken !== leaseToken) return undefined;
        deliveries[endpointId] = {
          status: outcome.status,
          attempt: outcome.attempt,
          nextAttemptAt: outcome.nextAttemptAt,
          attempts: outcome.record !== undefined ? [...delivery.attempts, withoutUndefined(outcome.record)] : delivery.attempts,
          updatedAt: outcome.now,
        };
        return true;
      },
      claimed !== undefined && eventIdOfItem(claimed) === eventId ? claimed : undefined,
    );
    if (result.kind === 'legacy') return this.legacy.complete(eventId, endpointId, leaseToken, outcome);
    return result.kind === 'changed';
  }

  async requeueDelivery(eventId: string, endpointId: string, merchantId: string, now: Date): Promise<void> {
    const nextAttemptAt = now.toISOString();
    const result = await this.changeDeliveries(eventId, (deliveries) => {
      deliveries[endpointId] = {
        status: 'pending',
        attempt: 0,
        nextAttemptAt,
        attempts: deliveries[endpointId]?.attempts ?? [],
        updatedAt: nextAttemptAt,
      };
      return true;
    });
    if (result.kind === 'legacy') await this.legacy.requeue(eventId, endpointId, merchantId, now);
  }

  /**
   * Local tooling (`paystep fast-forward`): makes a pending delivery due now, keeping its place in
   * the retry schedule, if it is still due at `expectedNextAttemptAt` (not claimed or attempted
   * since). True when it was moved.
   */
  async bringDeliveryForward(eventId: string, endpointId: string, expectedNextAttemptAt: string, now: Date): Promise<boolean> {
    const nowIso = now.toISOString();
    const result = await this.changeDeliveries(eventId, (deliveries) => {
      const delivery = deliveries[endpointId];
      if (!delivery || delivery.status !== 'pending' || delivery.nextAttemptAt !== expectedNextAttemptAt) return undefined;
      deliveries[endpointId] = { ...delivery, nextAttemptAt: nowIso };
      return true;
    });
    if (result.kind !== 'legacy') return result.kind === 'changed';
    return this.legacy.bringForward(eventId, endpointId, expectedNextAttemptAt, nowIso);
  }

  /**
   * Read, change, write back on the revision read: the item's deliveries go through `change`
   * (undefined = nothing to do); a concurrent writer makes it start over on the fresh item.
   */
  private async changeDeliveries(
    eventId: string,
    change: (deliveries: DeliveryMap) => true | undefined,
    known?: Record<string, unknown>,
  ): Promise<{ kind: 'missing' | 'legacy' | 'unchanged' } | { kind: 'changed'; item: Record<string, unknown> }> {
    for (let round = 0; round < MAX_REVISION_RETRIES; round += 1) {
      // The first round may start from the item as this store last wrote it (`known`): if anyone
      // wrote since, the conditional write fails and the next round reads the item.
      const item = round === 0 && known !== undefined ? known : await this.getItem(eventId);
      if (!item) return { kind: 'missing' };
      if (!isEmbeddedLayout(item)) return { kind: 'legacy' };
      const deliveries = decodeDeliveries(item);
      if (change(deliveries) === undefined) return { kind: 'unchanged' };
      const revision = Number(item.revision ?? 0);
      const next = eventItem(decodeEvent(item), deliveries, revision + 1);
      try {
        await this.documentClient.send(
          new PutCommand({
            TableName: this.tableName,
            Item: next,
            ConditionExpression: 'revision = :revision',
            ExpressionAttributeValues: { ':revision': revision },
          }),
        );
        return { kind: 'changed', item: next };
      } catch (error) {
        if (!isConditionalCheckFailure(error)) return translateStoreError(error);
      }
    }
    throw new Error(`Event ${eventId} kept changing under ${MAX_REVISION_RETRIES} writes in a row`);
  }

  /**
   * The item as a claim wrote it, by lease token, until the attempt completes: the completion starts
   * from it instead of reading the item again (one read less per attempt when nobody wrote in
   * between). At most MAX_REMEMBERED_CLAIMS (an attempt that never completes is forgotten).
   */
  private readonly claims = new Map<string, Record<string, unknown>>();

  private rememberClaim(leaseToken: string, item: Record<string, unknown>): void {
    this.claims.set(leaseToken, item);
    if (this.claims.size > MAX_REMEMBERED_CLAIMS) this.claims.delete(this.claims.keys().next().value as string);
  }

  /** For tests: writes an event in the previous layout (an event item plus one item per delivery). */
  async putLegacyEvent(event: StoredEvent, deliveries: readonly WebhookDelivery[]): Promise<void> {
    await this.legacy.putEvent(event, deliveries);
  }

  /** For tests and tools: one delivery as stored (embedded in its event item, or a previous-layout item). */
  async getDelivery(eventId: string, endpointId: string): Promise<WebhookDelivery | undefined> {
    const found = await this.getEvent(eventId);
    return found?.deliveries.find((delivery) => delivery.endpointId === endpointId);
  }
}

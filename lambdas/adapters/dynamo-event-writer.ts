/**
 * The put half of the event store (dynamo-event-store.ts): a new event item, compact layout, with
 * its deliveries embedded (conditional Put per event, or unconditional Puts in one BatchWriteItem).
 * An entry that only publishes events (the API entries that move instruments) bundles this module,
 * not the store's reads, lists, claims and delivery changes; DynamoEventStore extends it, so both
 * write the same items.
 */
import { BatchWriteCommand, PutCommand, type DynamoDBDocumentClient } from './dynamo-client';
import type { WebhookDelivery } from '../domain/webhook-delivery';
import type { StoredEvent } from '../domain/webhook-events';
import type { EventStore } from '../ports/events';
import { eventKey, merchantEventsGsiPk, webhookDueGsiPk } from './dynamo-keys';
import { isConditionalCheckFailure, translateStoreError, withoutUndefined } from './dynamo-support';
import { shardOf } from './dynamo-event-items';
import { encodeDeliveries, encodeEvent, type DeliveryMap, type EmbeddedDelivery } from './dynamo-event-codec';

/** The due-index entry of an event item: its earliest pending delivery, or none (then it leaves the index). */
function eventDueAttributes(eventId: string, deliveries: DeliveryMap): { gsi1pk: string; gsi1sk: string } | undefined {
  const due = Object.values(deliveries)
    .filter((delivery) => delivery.status === 'pending')
    .map((delivery) => delivery.nextAttemptAt)
    .sort()[0];
  if (due === undefined) return undefined;
  return { gsi1pk: webhookDueGsiPk(shardOf(eventId, '')), gsi1sk: `${due}#${eventId}` };
}

function embed(delivery: WebhookDelivery): EmbeddedDelivery {
  return {
    status: delivery.status,
    attempt: delivery.attempt,
    nextAttemptAt: delivery.nextAttemptAt,
    attempts: delivery.attempts,
    updatedAt: delivery.updatedAt,
  };
}

/** The whole event item (compact layout): the event, its embedded deliveries, list and due index keys, revision. */
export function eventItem(event: StoredEvent, deliveries: DeliveryMap, revision: number): Record<string, unknown> {
  return withoutUndefined({
    ...eventKey(event.id),
    entity: 'event',
    gsi2pk: merchantEventsGsiPk(event.merchantId),
    gsi2sk: `${event.createdAt}#${event.id}`,
    ...eventDueAttributes(event.id, deliveries),
    ...encodeEvent(event),
    dl: encodeDeliveries(deliveries),
    revision,
  });
}

const MAX_BATCH_ROUNDS = 10;

/** Writes new event items (EventStore's createEvent, createEvents, putEvents). */
export class DynamoEventWriter implements Pick<EventStore, 'createEvent' | 'createEvents' | 'putEvents'> {
  constructor(
    protected readonly documentClient: DynamoDBDocumentClient,
    protected readonly tableName: string,
  ) {}

  async createEvent(event: StoredEvent, deliveries: readonly WebhookDelivery[]): Promise<boolean> {
    const [created] = await this.createEvents([{ event, deliveries }]);
    return created === event.id;
  }

  /** One conditional Put per event (sent together): an id that exists is left as it is. */
  async createEvents(entries: readonly { event: StoredEvent; deliveries: readonly WebhookDelivery[] }[]): Promise<string[]> {
    const created = await Promise.all(
      entries.map(async ({ event, deliveries }) => {
        const map: DeliveryMap = Object.fromEntries(deliveries.map((delivery) => [delivery.endpointId, embed(delivery)]));
        try {
          await this.documentClient.send(
            new PutCommand({
              TableName: this.tableName,
              Item: eventItem(event, map, 0),
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
          return event.id;
        } catch (error) {
          if (isConditionalCheckFailure(error)) return undefined;
          return translateStoreError(error);
        }
      }),
    );
    return created.filter((id): id is string => id !== undefined);
  }

  /**
   * Unconditional Puts, up to 25 in one BatchWriteItem (what DynamoDB leaves unprocessed is sent
   * again): see EventStore.putEvents for when that is correct.
   */
  async putEvents(entries: readonly { event: StoredEvent; deliveries: readonly WebhookDelivery[] }[]): Promise<void> {
    const items = entries.map(({ event, deliveries }) =>
      eventItem(event, Object.fromEntries(deliveries.map((delivery) => [delivery.endpointId, embed(delivery)])), 0),
    );
    for (let start = 0; start < items.length; start += 25) {
      let requests: Record<string, unknown>[] = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let round = 0; requests.length > 0; round += 1) {
        if (round >= MAX_BATCH_ROUNDS) throw new Error(`${requests.length} event items stayed unprocessed`);
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** round)));
        try {
          const result = await this.documentClient.send(
            new BatchWriteCommand({ RequestItems: { [this.tableName]: requests as never } }),
          );
          requests = (result.UnprocessedItems?.[this.tableName] as Record<string, unknown>[] | undefined) ?? [];
        } catch (error) {
          return translateStoreError(error);
        }
      }
    }
  }
}

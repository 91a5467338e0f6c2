/**
 * Merchant events and their webhook deliveries in the single table. One partition per event
 * (`EVENT#<id>`): the event item (`EVENT`, listed per merchant through gsi1) and one item per
 * endpoint (`DELIVERY#<endpoint id>`) holding status, attempt count, next due time and the attempt
 * log. Pending deliveries also sit in a sparse gsi1 "due" index the dispatcher queries. Every state
 * change of a delivery is a conditional write: claim (a lease) and completion (on the lease token).
 */
import { createHash } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DeliveryAttemptRecord, WebhookDelivery, WebhookDeliveryStatus } from '../domain/webhook-delivery';
import type { StoredEvent } from '../domain/webhook-events';
import type { EventListQuery, EventStore, EventWithDeliveries } from '../ports/events';
import {
  eventKey,
  GSI1,
  merchantEventsGsiPk,
  WEBHOOK_DELIVERY_SK_PREFIX,
  WEBHOOK_DUE_SHARDS,
  webhookDeliveryKey,
  webhookDueGsiPk,
} from './dynamo-keys';
import {
  decodeGsiCursor,
  encodeGsiCursor,
  isConditionalCheckFailure,
  queryItems,
  transactWrite,
  translateStoreError,
  withoutUndefined,
} from './dynamo-support';

/** The due-index shard of a delivery: stable, so every write of one delivery lands in one shard. */
function shardOf(eventId: string, endpointId: string): number {
  return createHash('sha256').update(`${eventId}#${endpointId}`).digest()[0]! % WEBHOOK_DUE_SHARDS;
}

function dueIndexAttributes(delivery: Pick<WebhookDelivery, 'eventId' | 'endpointId' | 'nextAttemptAt'>) {
  return {
    gsi1pk: webhookDueGsiPk(shardOf(delivery.eventId, delivery.endpointId)),
    gsi1sk: `${delivery.nextAttemptAt}#${delivery.eventId}#${delivery.endpointId}`,
  };
}

export class DynamoEventStore implements EventStore {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createEvent(event: StoredEvent, deliveries: readonly WebhookDelivery[]): Promise<boolean> {
    const result = await transactWrite(this.documentClient, {
      TransactItems: [
        {
          Put: {
            TableName: this.tableName,
            Item: withoutUndefined({
              ...eventKey(event.id),
              entity: 'event',
              gsi1pk: merchantEventsGsiPk(event.merchantId),
              gsi1sk: `${event.createdAt}#${event.id}`,
              ...event,
            }),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        ...deliveries.map((delivery) => ({
          Put: {
            TableName: this.tableName,
            Item: withoutUndefined({
              ...webhookDeliveryKey(delivery.eventId, delivery.endpointId),
              entity: 'webhook_delivery',
              ...dueIndexAttributes(delivery),
              ...delivery,
            }),
          },
        })),
      ],
    });
    if (result.ok) return true;
    if (result.codes[0] === 'ConditionalCheckFailed') return false;
    throw new Error(`Storing event ${event.id} failed: ${result.codes.join(', ')}`);
  }

  async getEvent(eventId: string, merchantId?: string): Promise<EventWithDeliveries | undefined> {
    const items = await queryItems(this.documentClient, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': eventKey(eventId).pk },
      ConsistentRead: true,
    });
    const eventItem = items.find((item) => item.sk === 'EVENT');
    if (!eventItem) return undefined;
    const event = toEvent(eventItem);
    if (merchantId !== undefined && event.merchantId !== merchantId) return undefined;
    const deliveries = items.filter((item) => String(item.sk).startsWith(WEBHOOK_DELIVERY_SK_PREFIX)).map(toDelivery);
    return { event, deliveries };
  }

  async listEvents(merchantId: string, query: EventListQuery): Promise<{ events: EventWithDeliveries[]; nextCursor?: string }> {
    const gsi1pk = merchantEventsGsiPk(merchantId);
    const startKey =
      query.cursor === undefined ? undefined : decodeGsiCursor(query.cursor, gsi1pk, { pkPrefix: 'EVENT#', sk: 'EVENT' });
    const found: Record<string, unknown>[] = [];
    let lastKey: Record<string, unknown> | undefined = startKey;
    // One item more than asked, so a cursor is given only when another page really exists (`has_more`).
    const wanted = query.limit + 1;
    try {
      // A type filter may leave pages short: keep reading until the page is full or the index ends.
      do {
        const page = await this.documentClient.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: GSI1,
            KeyConditionExpression: 'gsi1pk = :pk',
            ExpressionAttributeValues: { ':pk': gsi1pk, ...(query.type !== undefined ? { ':type': query.type } : {}) },
            ...(query.type !== undefined
              ? { FilterExpression: '#type = :type', ExpressionAttributeNames: { '#type': 'type' } }
              : {}),
            ScanIndexForward: false,
            Limit: wanted - found.length,
            ...(lastKey ? { ExclusiveStartKey: lastKey } : {}),
          }),
        );
        found.push(...(page.Items ?? []));
        lastKey = page.LastEvaluatedKey;
      } while (lastKey !== undefined && found.length < wanted);
    } catch (error) {
      translateStoreError(error);
    }
    const kept = found.slice(0, query.limit);
    const events = await Promise.all(
      kept.map(toEvent).map(async (event) => (await this.getEvent(event.id)) ?? { event, deliveries: [] }),
    );
    const last = found.length > query.limit ? kept[kept.length - 1] : undefined;
    return last === undefined ? { events } : { events, nextCursor: encodeGsiCursor(last) };
  }

  async listDueDeliveries(now: Date, limit: number): Promise<{ eventId: string; endpointId: string }[]> {
    const bound = `${now.toISOString()}#~`;
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
          return (page.Items ?? []).map((item) => ({
            eventId: String(item.eventId),
            endpointId: String(item.endpointId),
            due: String(item.gsi1sk),
          }));
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
    const nextAttemptAt = leaseUntil.toISOString();
    try {
      const result = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: webhookDeliveryKey(eventId, endpointId),
          UpdateExpression: 'SET nextAttemptAt = :lease, gsi1sk = :gsi1sk, leaseToken = :token',
          ConditionExpression: '#status = :pending AND nextAttemptAt <= :now',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':lease': nextAttemptAt,
            ':gsi1sk': dueIndexAttributes({ eventId, endpointId, nextAttemptAt }).gsi1sk,
            ':token': leaseToken,
            ':pending': 'pending',
            ':now': now.toISOString(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? toDelivery(result.Attributes) : undefined;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return undefined;
      return translateStoreError(error);
    }
  }

  async completeAttempt(
    eventId: string,
    endpointId: string,
    leaseToken: string,
    outcome: {
      status: WebhookDeliveryStatus;
      attempt: number;
      nextAttemptAt: string;
      record?: DeliveryAttemptRecord;
      now: string;
    },
  ): Promise<boolean> {
    const pending = outcome.status === 'pending';
    const sets = ['#status = :status', 'attempt = :attempt', 'nextAttemptAt = :next', 'updatedAt = :now'];
    const values: Record<string, unknown> = {
      ':status': outcome.status,
      ':attempt': outcome.attempt,
      ':next': outcome.nextAttemptAt,
      ':now': outcome.now,
      ':token': leaseToken,
    };
    if (outcome.record !== undefined) {
      sets.push('attempts = list_append(if_not_exists(attempts, :empty), :record)');
      values[':empty'] = [];
      values[':record'] = [withoutUndefined(outcome.record)];
    }
    if (pending) {
      sets.push('gsi1pk = :gsi1pk', 'gsi1sk = :gsi1sk');
      const due = dueIndexAttributes({ eventId, endpointId, nextAttemptAt: outcome.nextAttemptAt });
      values[':gsi1pk'] = due.gsi1pk;
      values[':gsi1sk'] = due.gsi1sk;
    }
    const removes = pending ? ['leaseToken'] : ['leaseToken', 'gsi1pk', 'gsi1sk'];
    try {
      await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: webhookDeliveryKey(eventId, endpointId),
          UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
          ConditionExpression: 'leaseToken = :token',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  async requeueDelivery(eventId: string, endpointId: string, merchantId: string, now: Date): Promise<void> {
    const nextAttemptAt = now.toISOString();
    const due = dueIndexAttributes({ eventId, endpointId, nextAttemptAt });
    try {
      await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: webhookDeliveryKey(eventId, endpointId),
          UpdateExpression:
            'SET #status = :pending, attempt = :zero, nextAttemptAt = :next, updatedAt = :next, gsi1pk = :gsi1pk, gsi1sk = :gsi1sk, ' +
            'eventId = :eventId, endpointId = :endpointId, merchantId = :merchantId, entity = :entity, attempts = if_not_exists(attempts, :empty) REMOVE leaseToken',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':pending': 'pending',
            ':zero': 0,
            ':next': nextAttemptAt,
            ':gsi1pk': due.gsi1pk,
            ':gsi1sk': due.gsi1sk,
            ':eventId': eventId,
            ':endpointId': endpointId,
            ':merchantId': merchantId,
            ':entity': 'webhook_delivery',
            ':empty': [],
          },
        }),
      );
    } catch (error) {
      translateStoreError(error);
    }
  }

  /** For tests and tools: the raw delivery item. */
  async getDelivery(eventId: string, endpointId: string): Promise<WebhookDelivery | undefined> {
    const result = await this.documentClient.send(
      new GetCommand({ TableName: this.tableName, Key: webhookDeliveryKey(eventId, endpointId), ConsistentRead: true }),
    );
    return result.Item ? toDelivery(result.Item) : undefined;
  }

  /** For tests: writes a delivery item as is (e.g. to simulate a crashed dispatcher's lease). */
  async putDelivery(delivery: WebhookDelivery & { leaseToken?: string }): Promise<void> {
    await this.documentClient.send(
      new PutCommand({
        TableName: this.tableName,
        Item: withoutUndefined({
          ...webhookDeliveryKey(delivery.eventId, delivery.endpointId),
          entity: 'webhook_delivery',
          ...(delivery.status === 'pending' ? dueIndexAttributes(delivery) : {}),
          ...delivery,
        }),
      }),
    );
  }
}

function toEvent(item: Record<string, unknown>): StoredEvent {
  return {
    id: String(item.id),
    merchantId: String(item.merchantId),
    type: String(item.type),
    created: Number(item.created),
    createdAt: String(item.createdAt),
    ...(typeof item.objectId === 'string' ? { objectId: item.objectId } : {}),
    ...(typeof item.checkoutId === 'string' ? { checkoutId: item.checkoutId } : {}),
    body: String(item.body),
  };
}

const STATUSES: readonly WebhookDeliveryStatus[] = ['pending', 'delivered', 'dead_lettered', 'disabled'];

function toDelivery(item: Record<string, unknown>): WebhookDelivery {
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

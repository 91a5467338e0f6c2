/**
 * Webhook events of the previous layout (lambdas/adapters/dynamo-event-store.ts reads both): an
 * event item plus one `DELIVERY#<endpoint>` item per endpoint, each delivery in the gsi1 due index
 * while pending. Still read, claimed, completed, requeued and brought forward on their own items
 * with conditional UpdateItems; nothing new is written in this layout (tests aside).
 */
import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from './dynamo-client';
import type { WebhookDelivery } from '../domain/webhook-delivery';
import type { StoredEvent } from '../domain/webhook-events';
import type { AttemptCompletion, EventWithDeliveries } from '../ports/events';
import { dueIndexAttributes, toDelivery, toEvent } from './dynamo-event-items';
import { eventKey, merchantEventsGsiPk, WEBHOOK_DELIVERY_SK_PREFIX, webhookDeliveryKey } from './dynamo-keys';
import { isConditionalCheckFailure, queryItems, translateStoreError, withoutUndefined } from './dynamo-support';

export class LegacyDeliveries {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getEvent(eventId: string): Promise<EventWithDeliveries | undefined> {
    const items = await queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': eventKey(eventId).pk },
      ConsistentRead: true,
    });
    const item = items.find((candidate) => candidate.sk === 'EVENT');
    if (!item) return undefined;
    const deliveries = items.filter((candidate) => String(candidate.sk).startsWith(WEBHOOK_DELIVERY_SK_PREFIX)).map(toDelivery);
    return { event: toEvent(item), deliveries };
  }

  async claim(
    eventId: string,
    endpointId: string,
    nowIso: string,
    nextAttemptAt: string,
    leaseToken: string,
  ): Promise<WebhookDelivery | undefined> {
    try {
      const result = await this.client.send(
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
            ':now': nowIso,
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

  async complete(eventId: string, endpointId: string, leaseToken: string, outcome: AttemptCompletion): Promise<boolean> {
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
      await this.client.send(
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

  async requeue(eventId: string, endpointId: string, merchantId: string, now: Date): Promise<void> {
    const nextAttemptAt = now.toISOString();
    const due = dueIndexAttributes({ eventId, endpointId, nextAttemptAt });
    try {
      await this.client.send(
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

  /** Makes a pending delivery due at `nowIso` if it is still due at `expectedNextAttemptAt`; true when moved. */
  async bringForward(eventId: string, endpointId: string, expectedNextAttemptAt: string, nowIso: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: webhookDeliveryKey(eventId, endpointId),
          UpdateExpression: 'SET nextAttemptAt = :now, gsi1sk = :due',
          ConditionExpression: '#status = :pending AND nextAttemptAt = :old AND attribute_exists(gsi1pk)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':now': nowIso,
            ':due': dueIndexAttributes({ eventId, endpointId, nextAttemptAt: nowIso }).gsi1sk,
            ':pending': 'pending',
            ':old': expectedNextAttemptAt,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  /** For tests: writes an event in this layout. */
  async putEvent(event: StoredEvent, deliveries: readonly WebhookDelivery[]): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: withoutUndefined({
          ...eventKey(event.id),
          entity: 'event',
          gsi1pk: merchantEventsGsiPk(event.merchantId),
          gsi1sk: `${event.createdAt}#${event.id}`,
          ...event,
        }),
      }),
    );
    for (const delivery of deliveries)
      await this.client.send(
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

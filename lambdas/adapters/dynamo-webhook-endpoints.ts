/**
 * Webhook endpoints in the single table: `MERCHANT#<merchant id>` / `WEBHOOK_ENDPOINT#<id>`, so
 * one Query lists a merchant's endpoints and no other merchant's. Secrets stay encrypted; a
 * rotation keeps the previous secret (encrypted) until its overlap ends.
 *
 * An eventually consistent list (`{ consistent: false }`, the saga's result notify) is served from a
 * per-container cache (settings-read-cache.ts, 1 s by default): an empty list is never cached (a
 * merchant's first endpoint gets its webhooks at once), and every write through this class in this
 * process drops the merchant's cached list. Consistent reads never use the cache.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from './dynamo-client';
import type { WebhookEndpoint } from '../domain/webhook-endpoint';
import type { WebhookEndpointRepository } from '../ports/webhooks';
import { ConflictError } from '../errors';
import { isConditionalCheckFailure, transactWrite, withoutUndefined } from './dynamo-support';
import { merchantKey, webhookEndpointKey } from './dynamo-keys';
import { DynamoWebhookEndpointReader, toEndpoint } from './dynamo-webhook-endpoint-reader';

export { clearWebhookEndpointCache } from './dynamo-webhook-endpoint-reader';

type SecretRotation = { secretCiphertext: string; previousSecretCiphertext: string; previousSecretExpiresAt: string };

/** The merchant's endpoint counter (its sort key does not start with the endpoint prefix, so lists skip it). */
const endpointCounterKey = (merchantId: string) => ({ pk: merchantKey(merchantId).pk, sk: 'WEBHOOK_ENDPOINT_COUNT' });

/** Concurrent creates all update the one counter item: allow more conflict retries than usual. */
const COUNTER_TRANSACTION_ATTEMPTS = 30;

/** Every endpoint operation: the reader's (dynamo-webhook-endpoint-reader.ts) plus create, rotate and delete. */
export class DynamoWebhookEndpointRepository extends DynamoWebhookEndpointReader implements WebhookEndpointRepository {
  /**
   * Creates the endpoint. With `maxPerMerchant`, the cap holds under concurrency: the endpoint and
   * the merchant's endpoint counter are written in one TransactWriteItems whose counter update is
   * conditional on `count < max` (a check-then-write let 40 concurrent creates make 17 of 16).
   * A merchant without a counter (endpoints made before it existed) gets one seeded from a
   * consistent count first. Throws ConflictError `too_many_endpoints` at the cap.
   */
  async createEndpoint(endpoint: WebhookEndpoint, options: { maxPerMerchant?: number } = {}): Promise<void> {
    try {
      await this.writeEndpoint(endpoint, options);
    } finally {
      this.forget(endpoint.merchantId);
    }
  }

  private async writeEndpoint(endpoint: WebhookEndpoint, options: { maxPerMerchant?: number }): Promise<void> {
    const item = withoutUndefined({
      ...webhookEndpointKey(endpoint.merchantId, endpoint.id),
      entity: 'webhook_endpoint',
      ...endpoint,
    });
    const max = options.maxPerMerchant;
    if (max === undefined) {
      await this.documentClient.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return;
    }
    for (let seeded = false; ; seeded = true) {
      const result = await transactWrite(
        this.documentClient,
        {
          TransactItems: [
            { Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Update: {
                TableName: this.tableName,
                Key: endpointCounterKey(endpoint.merchantId),
                UpdateExpression: 'ADD endpointCount :one',
                ConditionExpression: 'attribute_exists(endpointCount) AND endpointCount < :max',
                ExpressionAttributeValues: { ':one': 1, ':max': max },
              },
            },
          ],
        },
        COUNTER_TRANSACTION_ATTEMPTS,
      );
      if (result.ok) return;
      if (result.codes[1] === 'ConditionalCheckFailed' && !seeded && (await this.seedCounter(endpoint.merchantId))) continue;
      if (result.codes[1] === 'ConditionalCheckFailed') {
        throw new ConflictError(`A merchant can have at most ${max} webhook endpoints`, { code: 'too_many_endpoints' });
      }
      throw new ConflictError('An endpoint with this id already exists', { code: 'concurrent_modification' });
    }
  }

  /** Writes the counter from a consistent count if it is missing; true when it was missing (seeded by us or a peer). */
  private async seedCounter(merchantId: string): Promise<boolean> {
    const { Item } = await this.documentClient.send(
      new GetCommand({ TableName: this.tableName, Key: endpointCounterKey(merchantId), ConsistentRead: true }),
    );
    if (Item !== undefined && typeof Item['endpointCount'] === 'number') return false;
    const count = (await this.listEndpoints(merchantId)).length;
    try {
      await this.documentClient.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...endpointCounterKey(merchantId), entity: 'webhook_endpoint_counter', endpointCount: count },
          ConditionExpression: 'attribute_not_exists(endpointCount)',
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
    return true;
  }

  async rotateSecret(merchantId: string, endpointId: string, rotation: SecretRotation): Promise<WebhookEndpoint | undefined> {
    try {
      return await this.rotateStoredSecret(merchantId, endpointId, rotation);
    } finally {
      this.forget(merchantId);
    }
  }

  async deleteEndpoint(merchantId: string, endpointId: string): Promise<boolean> {
    try {
      return await this.deleteStoredEndpoint(merchantId, endpointId);
    } finally {
      this.forget(merchantId);
    }
  }

  private async rotateStoredSecret(
    merchantId: string,
    endpointId: string,
    rotation: SecretRotation,
  ): Promise<WebhookEndpoint | undefined> {
    try {
      const result = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: webhookEndpointKey(merchantId, endpointId),
          UpdateExpression:
            'SET secretCiphertext = :secret, previousSecretCiphertext = :previous, previousSecretExpiresAt = :expires',
          // Conditional on the secret we rotate away from: two concurrent rotations cannot both keep "their" previous secret.
          ConditionExpression: 'attribute_exists(pk) AND secretCiphertext = :previous',
          ExpressionAttributeValues: {
            ':secret': rotation.secretCiphertext,
            ':previous': rotation.previousSecretCiphertext,
            ':expires': rotation.previousSecretExpiresAt,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? toEndpoint(result.Attributes) : undefined;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return undefined;
      throw error;
    }
  }

  /** Deletes the endpoint and, in the same transaction, lowers the merchant's endpoint counter (if it has one). */
  private async deleteStoredEndpoint(merchantId: string, endpointId: string): Promise<boolean> {
    const result = await transactWrite(
      this.documentClient,
      {
        TransactItems: [
          {
            Delete: {
              TableName: this.tableName,
              Key: webhookEndpointKey(merchantId, endpointId),
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
          {
            Update: {
              TableName: this.tableName,
              Key: endpointCounterKey(merchantId),
              UpdateExpression: 'ADD endpointCount :minusOne',
              ConditionExpression: 'endpointCount > :zero',
              ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
            },
          },
        ],
      },
      COUNTER_TRANSACTION_ATTEMPTS,
    );
    if (result.ok) return true;
    if (result.codes[0] === 'ConditionalCheckFailed') return false;
    // No counter yet (endpoints made before it existed): a plain conditional delete.
    try {
      await this.documentClient.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: webhookEndpointKey(merchantId, endpointId),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }
}

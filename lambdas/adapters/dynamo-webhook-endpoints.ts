/**
 * Webhook endpoints in the single table: `MERCHANT#<merchant id>` / `WEBHOOK_ENDPOINT#<id>`, so
 * one Query lists a merchant's endpoints and no other merchant's. Secrets stay encrypted; a
 * rotation keeps the previous secret (encrypted) until its overlap ends.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { WebhookEndpoint, WebhookEndpointRepository } from '../ports';
import { queryItems, withoutUndefined } from './dynamo-support';
import { merchantKey, WEBHOOK_ENDPOINT_SK_PREFIX as SK_PREFIX, webhookEndpointKey } from './dynamo-keys';

export class DynamoWebhookEndpointRepository implements WebhookEndpointRepository {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.documentClient.send(
      new PutCommand({
        TableName: this.tableName,
        Item: withoutUndefined({ ...webhookEndpointKey(endpoint.merchantId, endpoint.id), entity: 'webhook_endpoint', ...endpoint }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async listEndpoints(merchantId: string): Promise<WebhookEndpoint[]> {
    const items = await queryItems(this.documentClient, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': merchantKey(merchantId).pk, ':prefix': SK_PREFIX },
      ConsistentRead: true,
    });
    const endpoints = items.map(toEndpoint);
    return endpoints.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async getEndpoint(merchantId: string, endpointId: string): Promise<WebhookEndpoint | undefined> {
    const result = await this.documentClient.send(
      new GetCommand({ TableName: this.tableName, Key: webhookEndpointKey(merchantId, endpointId), ConsistentRead: true }),
    );
    return result.Item ? toEndpoint(result.Item) : undefined;
  }

  async rotateSecret(
    merchantId: string,
    endpointId: string,
    rotation: { secretCiphertext: string; previousSecretCiphertext: string; previousSecretExpiresAt: string },
  ): Promise<WebhookEndpoint | undefined> {
    try {
      const result = await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: webhookEndpointKey(merchantId, endpointId),
          UpdateExpression: 'SET secretCiphertext = :secret, previousSecretCiphertext = :previous, previousSecretExpiresAt = :expires',
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
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async disableEndpoint(merchantId: string, endpointId: string, reason: string): Promise<void> {
    try {
      await this.documentClient.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: webhookEndpointKey(merchantId, endpointId),
          UpdateExpression: 'SET #status = :disabled, disabledReason = :reason',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':disabled': 'disabled', ':reason': reason },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }

  async deleteEndpoint(merchantId: string, endpointId: string): Promise<boolean> {
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
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function toEndpoint(item: Record<string, unknown>): WebhookEndpoint {
  return {
    id: String(item.id),
    merchantId: String(item.merchantId),
    url: String(item.url),
    enabledEvents: Array.isArray(item.enabledEvents) ? item.enabledEvents.map(String) : ['*'],
    secretCiphertext: String(item.secretCiphertext),
    status: item.status === 'disabled' ? 'disabled' : 'enabled',
    ...(typeof item.previousSecretCiphertext === 'string' ? { previousSecretCiphertext: item.previousSecretCiphertext } : {}),
    ...(typeof item.previousSecretExpiresAt === 'string' ? { previousSecretExpiresAt: item.previousSecretExpiresAt } : {}),
    ...(typeof item.disabledReason === 'string' ? { disabledReason: item.disabledReason } : {}),
    ...(typeof item.description === 'string' ? { description: item.description } : {}),
    ...(typeof item.apiVersion === 'string' ? { apiVersion: item.apiVersion } : {}),
    createdAt: String(item.createdAt),
  };
}

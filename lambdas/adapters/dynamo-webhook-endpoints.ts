/**
 * Webhook endpoints in the single table: `MERCHANT#<merchant id>` / `WEBHOOK_ENDPOINT#<id>`, so
 * one Query lists a merchant's endpoints and no other merchant's. Secrets stay encrypted.
 */
import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { WebhookEndpoint, WebhookEndpointRepository } from '../ports';
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
        Item: { ...webhookEndpointKey(endpoint.merchantId, endpoint.id), entity: 'webhook_endpoint', ...endpoint },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async listEndpoints(merchantId: string): Promise<WebhookEndpoint[]> {
    const endpoints: WebhookEndpoint[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documentClient.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': merchantKey(merchantId).pk, ':prefix': SK_PREFIX },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) endpoints.push(toEndpoint(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return endpoints.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
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
    createdAt: String(item.createdAt),
  };
}

/**
 * The webhook endpoints as delivery reads them (dynamo-webhook-endpoints.ts has the layout): the
 * merchant's list (eventually consistent lists from the per-container cache), one endpoint, and the
 * disable a 410 Gone answer makes. The entries that publish or deliver events bundle this module;
 * create, rotate and delete (api-webhook-endpoints) are in DynamoWebhookEndpointRepository, which
 * extends this class, so both share the cache and its invalidation.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from './dynamo-client';
import type { WebhookEndpoint } from '../domain/webhook-endpoint';
import type { WebhookEndpointLookup } from '../ports/webhooks';
import { isConditionalCheckFailure, queryItems } from './dynamo-support';
import { merchantKey, WEBHOOK_ENDPOINT_SK_PREFIX as SK_PREFIX, webhookEndpointKey } from './dynamo-keys';
import { createSettingsCache } from './settings-read-cache';

/** A merchant's endpoints (eventually consistent reads only) by `<table>|<merchant id>`; module-wide. */
const endpointListCache = createSettingsCache<WebhookEndpoint[]>();

/** Empties this process's endpoint cache (tests that write the table behind the repository's back). */
export function clearWebhookEndpointCache(): void {
  endpointListCache.clear();
}

/** Lists, reads and disables endpoints (what webhook publishing and delivery use). */
export class DynamoWebhookEndpointReader implements WebhookEndpointLookup {
  constructor(
    protected readonly documentClient: DynamoDBDocumentClient,
    protected readonly tableName: string,
  ) {}

  /** Drops the merchant's cached list: a write through this class in this process is seen at once. */
  protected forget(merchantId: string): void {
    endpointListCache.invalidate(`${this.tableName}|${merchantId}`);
  }

  async listEndpoints(merchantId: string, options: { consistent?: boolean } = {}): Promise<WebhookEndpoint[]> {
    const consistent = options.consistent ?? true;
    if (consistent) return await this.queryEndpoints(merchantId, true);
    const cached = await endpointListCache.read(`${this.tableName}|${merchantId}`, async () => {
      const endpoints = await this.queryEndpoints(merchantId, false);
      return endpoints.length === 0 ? undefined : endpoints;
    });
    return cached ?? [];
  }

  protected async queryEndpoints(merchantId: string, consistent: boolean): Promise<WebhookEndpoint[]> {
    const items = await queryItems(this.documentClient, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': merchantKey(merchantId).pk, ':prefix': SK_PREFIX },
      ConsistentRead: consistent,
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

  async disableEndpoint(merchantId: string, endpointId: string, reason: string): Promise<void> {
    try {
      await this.disableStoredEndpoint(merchantId, endpointId, reason);
    } finally {
      this.forget(merchantId);
    }
  }

  private async disableStoredEndpoint(merchantId: string, endpointId: string, reason: string): Promise<void> {
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
      if (isConditionalCheckFailure(error)) return;
      throw error;
    }
  }
}

export function toEndpoint(item: Record<string, unknown>): WebhookEndpoint {
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

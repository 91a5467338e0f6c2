/**
 * Module-scope wiring of the merchants' webhook endpoints with their management operations
 * (create, rotate, delete), on top of wiring.ts, for the API entries that serve them
 * (api-webhook-endpoints, api-events). Publishing and delivery use webhook-lookup-wiring.ts.
 */
import { DynamoWebhookEndpointRepository } from '../adapters/dynamo-webhook-endpoints';
import type { WebhookEndpointRepository } from '../ports/webhooks';
import { documentClient, storeConfig } from './wiring';

export const webhookEndpointRepository: WebhookEndpointRepository = new DynamoWebhookEndpointRepository(
  documentClient,
  storeConfig.tableName,
);

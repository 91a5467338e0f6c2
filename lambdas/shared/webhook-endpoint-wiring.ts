/**
 * Module-scope wiring of the merchants' webhook endpoints, on top of wiring.ts: shared by
 * event-wiring.ts (the whole event store) and event-publisher-wiring.ts (publish only).
 */
import { DynamoWebhookEndpointRepository } from '../adapters/dynamo-webhook-endpoints';
import type { WebhookEndpointRepository } from '../ports/webhooks';
import { documentClient, storeConfig } from './wiring';

export const webhookEndpointRepository: WebhookEndpointRepository = new DynamoWebhookEndpointRepository(
  documentClient,
  storeConfig.tableName,
);

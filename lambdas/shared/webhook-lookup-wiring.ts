/**
 * Module-scope wiring of the webhook endpoints as publishing and delivery use them (list, read,
 * disable on 410 Gone: dynamo-webhook-endpoint-reader.ts), on top of wiring.ts. The endpoint
 * management operations (create, rotate, delete) are wired in webhook-endpoint-wiring.ts, for the
 * API entries that serve them.
 */
import { DynamoWebhookEndpointReader } from '../adapters/dynamo-webhook-endpoint-reader';
import type { WebhookEndpointLookup } from '../ports/webhooks';
import { documentClient, storeConfig } from './wiring';

export const webhookEndpointLookup: WebhookEndpointLookup = new DynamoWebhookEndpointReader(
  documentClient,
  storeConfig.tableName,
);

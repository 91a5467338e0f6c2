/**
 * Module-scope wiring of the event publisher alone, for the entries that publish merchant events
 * and never read, list or deliver them (api-instruments, api-newstore): the event item writer
 * (dynamo-event-writer.ts, the same items DynamoEventStore writes) and the webhook endpoints, so
 * they do not bundle the event store's reads, claims and delivery changes.
 */
import { DynamoEventWriter } from '../adapters/dynamo-event-writer';
import type { EventPublisher } from '../ports/events';
import { createEventPublisher } from '../use-cases/webhook-delivery';
import { webhookEndpointLookup } from './webhook-lookup-wiring';
import { documentClient, storeConfig } from './wiring';

/** Publishes a merchant event (stored, deliveries queued; the webhook dispatcher sends them). */
export const eventPublisher: EventPublisher = createEventPublisher({
  events: new DynamoEventWriter(documentClient, storeConfig.tableName),
  webhookEndpoints: webhookEndpointLookup,
});

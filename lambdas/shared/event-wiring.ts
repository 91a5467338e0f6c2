/**
 * Module-scope wiring of merchant events, for the entries that read or publish them: the webhook
 * endpoints, the event store and the event publisher (stored, deliveries queued; the webhook
 * dispatcher sends them), on top of wiring.ts.
 */
import { DynamoEventStore } from '../adapters/dynamo-event-store';
import type { EventPublisher, EventStore } from '../ports/events';
import { createEventPublisher } from '../use-cases/webhook-delivery';
import { webhookEndpointLookup } from './webhook-lookup-wiring';
import { documentClient, storeConfig } from './wiring';

export const eventStore: EventStore = new DynamoEventStore(documentClient, storeConfig.tableName);
/** Publishes a merchant event (stored, deliveries queued; the webhook dispatcher sends them). */
export const eventPublisher: EventPublisher = createEventPublisher({
  events: eventStore,
  webhookEndpoints: webhookEndpointLookup,
});

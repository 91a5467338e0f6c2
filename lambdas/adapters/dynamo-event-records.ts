/**
 * The event store's writer (dynamo-event-writer.ts) plus reading events by id (one, or a batch): what publishing and
 * the saga's notify use (EventRecords, lambdas/ports/events.ts). The saga steps and the sweep
 * bundle this, not the store's lists, claims and delivery changes (dynamo-event-store.ts, which
 * extends it, so both read and write the same items).
 */
import { BatchGetCommand, GetCommand, type DynamoDBDocumentClient } from './dynamo-client';
import type { EventRecords, EventWithDeliveries } from '../ports/events';
import { eventKey } from './dynamo-keys';
import { translateStoreError } from './dynamo-support';
import { eventWithDeliveries, hasEmbeddedDeliveries } from './dynamo-event-codec';
import { LegacyDeliveries } from '../shared/legacy-deliveries-lazy';
import { DynamoEventWriter } from './dynamo-event-writer';

/** Event items written, and read back by id (either embedded layout here, the previous one through `legacy`). */
export class DynamoEventRecords extends DynamoEventWriter implements EventRecords {
  protected readonly legacy: LegacyDeliveries;

  constructor(documentClient: DynamoDBDocumentClient, tableName: string) {
    super(documentClient, tableName);
    this.legacy = new LegacyDeliveries(documentClient, tableName);
  }

  async getEvent(eventId: string, merchantId?: string): Promise<EventWithDeliveries | undefined> {
    const item = await this.getItem(eventId);
    if (!item) return undefined;
    const found = hasEmbeddedDeliveries(item) ? eventWithDeliveries(item) : await this.legacy.getEvent(eventId);
    if (!found || (merchantId !== undefined && found.event.merchantId !== merchantId)) return undefined;
    return found;
  }

  async getEvents(eventIds: readonly string[], options: { consistent?: boolean } = {}): Promise<EventWithDeliveries[]> {
    const items = await this.batchGet(eventIds, options.consistent ?? true);
    const found = await Promise.all(
      items.map(async (item) =>
        hasEmbeddedDeliveries(item) ? eventWithDeliveries(item) : await this.legacy.getEvent(String(item.id)),
      ),
    );
    const byId = new Map(found.filter((entry) => entry !== undefined).map((entry) => [entry.event.id, entry]));
    return eventIds.map((id) => byId.get(id)).filter((entry): entry is EventWithDeliveries => entry !== undefined);
  }

  /** The event's item, strongly consistent. */
  protected async getItem(eventId: string): Promise<Record<string, unknown> | undefined> {
    try {
      const result = await this.documentClient.send(
        new GetCommand({ TableName: this.tableName, Key: eventKey(eventId), ConsistentRead: true }),
      );
      return result.Item;
    } catch (error) {
      return translateStoreError(error);
    }
  }

  /** The event items of `eventIds` (100 at a time; what DynamoDB leaves unprocessed is asked again). */
  protected async batchGet(eventIds: readonly string[], consistent = true): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    const unique = [...new Set(eventIds)];
    for (let start = 0; start < unique.length; start += 100) {
      let keys: Record<string, unknown>[] = unique.slice(start, start + 100).map((id) => eventKey(id));
      for (let round = 0; keys.length > 0; round += 1) {
        try {
          const result = await this.documentClient.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: consistent } } }),
          );
          items.push(...(result.Responses?.[this.tableName] ?? []));
          keys = (result.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
        } catch (error) {
          return translateStoreError(error);
        }
        if (keys.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** round)));
      }
    }
    return items;
  }
}

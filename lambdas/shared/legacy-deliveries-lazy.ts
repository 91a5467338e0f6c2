/**
 * The reader of the previous webhook-delivery layout (lambdas/adapters/dynamo-legacy-deliveries.ts:
 * one item per delivery beside the event) for DynamoEventStore, imported on first use as a chunk of
 * its own (lib/bundling.ts), not at the cold start. The store calls it only for an event still kept
 * in that layout (written before the embedded layout and not yet expired), never for an event the
 * current code wrote: the saga's notify, the dispatcher and the publishers run without it.
 */
import type { DynamoDBDocumentClient } from '../adapters/dynamo-client';
import { importOnce } from './import-once';

type Reader = import('../adapters/dynamo-legacy-deliveries').LegacyDeliveries;

/** Same constructor and methods as the adapter's LegacyDeliveries; each call awaits the adapter's chunk once. */
export class LegacyDeliveries implements Pick<Reader, keyof Reader> {
  /** The adapter, imported once; a failed import is retried on the next call. */
  private readonly load: () => Promise<Reader>;

  constructor(documentClient: DynamoDBDocumentClient, tableName: string) {
    this.load = importOnce(
      async () => new (await import('../adapters/dynamo-legacy-deliveries')).LegacyDeliveries(documentClient, tableName),
    );
  }

  async getEvent(...args: Parameters<Reader['getEvent']>): ReturnType<Reader['getEvent']> {
    return (await this.load()).getEvent(...args);
  }

  async claim(...args: Parameters<Reader['claim']>): ReturnType<Reader['claim']> {
    return (await this.load()).claim(...args);
  }

  async complete(...args: Parameters<Reader['complete']>): ReturnType<Reader['complete']> {
    return (await this.load()).complete(...args);
  }

  async requeue(...args: Parameters<Reader['requeue']>): ReturnType<Reader['requeue']> {
    return (await this.load()).requeue(...args);
  }

  async bringForward(...args: Parameters<Reader['bringForward']>): ReturnType<Reader['bringForward']> {
    return (await this.load()).bringForward(...args);
  }

  async putEvent(...args: Parameters<Reader['putEvent']>): ReturnType<Reader['putEvent']> {
    return (await this.load()).putEvent(...args);
  }
}

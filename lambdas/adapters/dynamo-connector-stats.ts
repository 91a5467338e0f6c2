/**
 * The operator view's counters on DynamoDB. Each connector has one partition
 * (`CONNSTATS#<connector>`) of small counter items, one per UTC minute and shard
 * (`MINUTE#<YYYY-MM-DDTHH:MM>#<shard>`), expiring after two days.
 *
 * Writes: the checkout repository sends `counterUpdates` (ADD, no condition) as their own small
 * UpdateItems beside the checkout's conditional write (not after it: one round trip less on the
 * saga's path), and `countBeside` takes each back (the ADD negated) when that write fails, so a count stands
 * only when the attempt change it counts was stored (a lost condition or a re-run counts nothing).
 * An attempt is counted with its first answer (lambdas/domain/connector-stats.ts), so a successful
 * checkout sends one counter update (at authorization), none at pay or capture. A process that
 * dies between a failed checkout write and the undo keeps that count: the operator view is a rate
 * over the last hour and tolerates it, and the checkout write stays one single-item write instead
 * of a transaction (which would double its units). The shard, picked from the checkout id, spreads
 * concurrent payments over several items.
 * Reads: one Query per connector over the last 60 minutes (at most 60 x shards small items).
 */
import { UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from './dynamo-client';
import {
  COUNTER_NAMES,
  minuteBucket,
  summarizeConnectorStats,
  windowBuckets,
  type ConnectorCounts,
  type ConnectorStats,
} from '../domain/connector-stats';
import type { ConnectorStatsReader } from '../ports/connector-stats';
import { queryItems } from './dynamo-support';
import { CONNECTOR_STATS_SHARDS, connectorStatsKey, connectorStatsPk } from './dynamo-keys';

/** How long a minute's counters are kept (the view reads one hour of them). */
const RETENTION_SECONDS = 2 * 24 * 3600;

/** A stable shard for a checkout, so one checkout's writes in a minute land on one item. */
function shardOf(checkoutId: string): number {
  let hash = 0;
  for (let index = 0; index < checkoutId.length; index += 1) hash = (hash * 31 + checkoutId.charCodeAt(index)) >>> 0;
  return hash % CONNECTOR_STATS_SHARDS;
}

/** `update` with every ADD negated: takes back counts sent beside a checkout write that then failed. */
function undoCounterUpdate(update: UpdateCommandInput): UpdateCommandInput {
  const values = { ...update.ExpressionAttributeValues };
  for (const name of COUNTER_NAMES) {
    const value = values[`:${name}`];
    if (typeof value === 'number') values[`:${name}`] = -value;
  }
  return { ...update, ExpressionAttributeValues: values };
}

/** The unconditional ADD updates that record `deltas` in the minute of `now`, one item per connector. */
export function counterUpdates(
  tableName: string,
  checkoutId: string,
  deltas: ReadonlyMap<string, ConnectorCounts>,
  now: Date,
): UpdateCommandInput[] {
  const minute = minuteBucket(now);
  const updates: UpdateCommandInput[] = [];
  for (const [connector, counts] of deltas) {
    const names = COUNTER_NAMES.filter((name) => counts[name] > 0);
    if (names.length === 0) continue;
    const values: Record<string, unknown> = {
      ':connector': connector,
      ':minute': minute,
      ':entity': 'connector_stats',
      ':expiresAt': Math.floor(now.getTime() / 1000) + RETENTION_SECONDS,
    };
    for (const name of names) values[`:${name}`] = counts[name];
    updates.push({
      TableName: tableName,
      Key: connectorStatsKey(connector, minute, shardOf(checkoutId)),
      UpdateExpression: `SET entity = :entity, connector = :connector, #minute = :minute, expiresAt = :expiresAt ADD ${names
        .map((name) => `${name} :${name}`)
        .join(', ')}`,
      ExpressionAttributeNames: { '#minute': 'minute' },
      ExpressionAttributeValues: values,
    });
  }
  return updates;
}

/**
 * Runs `write` (the checkout's conditional write: true if it landed) with `counters` sent beside it,
 * and takes back each counter that landed when the write did not (false or thrown). Returns or
 * throws what `write` does; the counters' own failures never fail it.
 */
export async function countBeside(
  client: DynamoDBDocumentClient,
  counters: readonly UpdateCommandInput[],
  write: () => Promise<boolean>,
): Promise<boolean> {
  const counting = counters.map((counter) =>
    client.send(new UpdateCommand(counter)).then(
      () => true,
      () => false,
    ),
  );
  const settle = async (written: boolean): Promise<void> => {
    const landed = await Promise.all(counting);
    if (written) return;
    await Promise.allSettled(
      counters.filter((_, index) => landed[index]).map((counter) => client.send(new UpdateCommand(undoCounterUpdate(counter)))),
    );
  };
  let written: boolean;
  try {
    written = await write();
  } catch (error) {
    await settle(false);
    throw error;
  }
  await settle(written);
  return written;
}

export class DynamoConnectorStats implements ConnectorStatsReader {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async readConnectorStats(connectors: readonly string[], now: Date): Promise<ConnectorStats[]> {
    const { first, last } = windowBuckets(now);
    const rows = await Promise.all(
      connectors.map((connector) =>
        queryItems(this.client, {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last',
          ExpressionAttributeValues: {
            ':pk': connectorStatsPk(connector),
            ':first': `MINUTE#${first}`,
            ':last': `MINUTE#${last}#~`,
          },
          ConsistentRead: true,
        }),
      ),
    );
    return summarizeConnectorStats(
      connectors,
      rows.flat().map((item) => ({ ...(item as Partial<ConnectorCounts>), connector: item['connector'] as string })),
    );
  }
}

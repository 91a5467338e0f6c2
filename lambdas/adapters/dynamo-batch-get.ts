/**
 * BatchGetItem by key list, in chunks of 100, retrying unprocessed keys, answering in the order
 * of `keys` (missing items are left out). Used where a keys-only index gives the keys and the
 * reader needs the items (the checkout listing on gsi2, the recovery watch's checkout statuses).
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from './dynamo-client';
import { translateStoreError } from './dynamo-support';

type Key = { pk: string; sk: string };

const CHUNK = 100;
const ROUNDS = 8;

export async function batchGetItems(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Key[],
  options: { projection?: readonly string[] } = {},
): Promise<Record<string, unknown>[]> {
  const found = new Map<string, Record<string, unknown>>();
  const id = (key: { pk: unknown; sk: unknown }) => `${String(key.pk)}\u0000${String(key.sk)}`;
  const projection =
    options.projection === undefined
      ? {}
      : {
          ProjectionExpression: ['pk', 'sk', ...options.projection].map((_, index) => `#p${index}`).join(', '),
          ExpressionAttributeNames: Object.fromEntries(
            ['pk', 'sk', ...options.projection].map((name, index) => [`#p${index}`, name]),
          ),
        };
  try {
    for (let start = 0; start < keys.length; start += CHUNK) {
      let pending: Record<string, unknown>[] = keys.slice(start, start + CHUNK).map((key) => ({ pk: key.pk, sk: key.sk }));
      for (let round = 0; pending.length > 0; round += 1) {
        if (round >= ROUNDS)
          throw Object.assign(new Error('BatchGetItem left keys unprocessed'), { name: 'ThrottlingException' });
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** round));
        const answer = await client.send(
          new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ...projection } } }),
        );
        for (const item of answer.Responses?.[tableName] ?? []) found.set(id(item as Key), item);
        pending = (answer.UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
  } catch (error) {
    return translateStoreError(error);
  }
  return keys.flatMap((key) => {
    const item = found.get(id(key));
    return item === undefined ? [] : [item];
  });
}

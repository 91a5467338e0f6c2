/**
 * Binary attribute values through the lean document client (lambdas/adapters/dynamo-client.ts) on
 * DynamoDB Local: bytes at the top of an item, inside a map, inside a list and in a binary set
 * are sent as base64 and come back as the same bytes from every command that answers items
 * (GetItem, Query, BatchGetItem, UpdateItem's ALL_NEW), while strings that merely look like
 * base64 stay strings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchGetCommand,
  createDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '../../lambdas/adapters/dynamo-client';
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';

let db: DynamoDbLocal;
let client: DynamoDBDocumentClient;

beforeAll(async () => {
  db = await startDynamoDbLocal();
  client = createDocumentClient({ ...LOCAL_AWS, endpoint: db.endpoint });
}, 60_000);

afterAll(async () => {
  await db?.stop();
});

const key = { pk: 'BINARY#1', sk: 'ITEM' };
const bytes = (...values: number[]) => Uint8Array.from(values);
const item = {
  ...key,
  top: bytes(0, 1, 2, 255),
  nested: { hash: bytes(9, 8, 7), label: 'AAEC/w==' },
  listed: [bytes(128), 'AAEC/w==', { inner: bytes(42, 43) }],
  set: new Set([bytes(1), bytes(2, 3)]),
};

/** The item with every binary value as a plain array of numbers (what comparing bytes needs). */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: [...value] };
  if (value instanceof Set) return [...value].map(plain).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

describe('binary values through the document client', () => {
  it('come back as the same bytes from GetItem, Query, BatchGetItem and UpdateItem', async () => {
    // Prepare
    await client.send(new PutCommand({ TableName: db.tableName, Item: item }));
    // Act
    const got = await client.send(new GetCommand({ TableName: db.tableName, Key: key, ConsistentRead: true }));
    const queried = await client.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': key.pk },
        ConsistentRead: true,
      }),
    );
    const batch = await client.send(
      new BatchGetCommand({ RequestItems: { [db.tableName]: { Keys: [key], ConsistentRead: true } } }),
    );
    const updated = await client.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: key,
        UpdateExpression: 'SET extra = :extra',
        ConditionExpression: 'top = :top',
        ExpressionAttributeValues: { ':extra': bytes(5), ':top': bytes(0, 1, 2, 255) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    // Assess
    expect(got.Item!['top']).toBeInstanceOf(Uint8Array);
    expect(plain(got.Item)).toEqual(plain(item));
    expect(plain(queried.Items)).toEqual([plain(item)]);
    expect(plain(batch.Responses![db.tableName])).toEqual([plain(item)]);
    expect(plain(updated.Attributes)).toEqual(plain({ ...item, extra: bytes(5) }));
    expect((got.Item!['nested'] as Record<string, unknown>)['label']).toBe('AAEC/w==');
    expect((got.Item!['listed'] as unknown[])[1]).toBe('AAEC/w==');
  });
});

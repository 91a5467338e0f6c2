/**
 * The bench's DynamoDB counting by AWS's own unit rules (bench/instrumentation.ts): item sizes as
 * DynamoDB bills them, write units from the item before and after each write (twice inside a
 * transaction, plus the index entry), read units from what a read returned, and nothing sized
 * while sizing is off.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  countDynamoDbCalls,
  dynamoItemBytes,
  resetCounters,
  setWriteSizing,
  snapshotCounters,
  type DynamoCallCounts,
} from '../../../bench/instrumentation';

type Next = (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;
type Middleware = (next: Next, context: { commandName?: string }) => Next;

const INDEX = [{ partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }];

/** An item of about `bytes` bytes (attribute names and values), optionally in the index. */
function item(sk: string, bytes: number, indexed: boolean): Record<string, unknown> {
  const base: Record<string, unknown> = { pk: 'CHK#1', sk, ...(indexed ? { gsi1pk: 'M#1', gsi1sk: sk } : {}) };
  return { ...base, pad: 'x'.repeat(Math.max(0, bytes - dynamoItemBytes(base) - 3)) };
}

describe('bench DynamoDB counting by AWS rules', () => {
  let middleware: Middleware;
  let table: Map<string, Record<string, unknown>>;

  const call = async (commandName: string, input: Record<string, unknown>, apply: () => Record<string, unknown>) =>
    await middleware(async () => ({ output: apply() }), { commandName })({ input });
  const counts = (command: string): DynamoCallCounts => snapshotCounters().entries['(outside a handler)']!.dynamodb[command]!;

  beforeEach(() => {
    // Prepare: the counting middleware on a stand-in client, a table in a Map.
    const client = { middlewareStack: { add: (added: Middleware) => void (middleware = added) } };
    countDynamoDbCalls(client as unknown as Parameters<typeof countDynamoDbCalls>[0]);
    table = new Map();
    resetCounters();
  });

  afterEach(() => {
    setWriteSizing(undefined);
  });

  it('sizes an item by attribute names and values as DynamoDB bills them', () => {
    // Act / Assess: 'pk'+'ab' = 4, 'n' + 12345 (3 digit pairs + 1) = 5, 'flag' + true = 5, 'list' + [1] = 4 + 3 + 1 + 2.
    expect(dynamoItemBytes({ pk: 'ab', n: 12345, flag: true, list: [1] })).toBe(4 + 5 + 5 + 10);
    expect(dynamoItemBytes({ s: 'é' })).toBe(1 + 2);
  });

  it('counts a transactional put twice per KB plus its index entry, an update by the larger image', async () => {
    // Prepare
    setWriteSizing(async (_table, key) => table.get(String(key.sk)), INDEX);
    const created = item('A', 1500, true);
    const grown = item('A', 2100, true);
    // Act: a 1.5 KB indexed item put in a transaction, then updated to 2.1 KB outside one.
    await call('TransactWriteItemsCommand', { TransactItems: [{ Put: { TableName: 't', Item: created } }] }, () => {
      table.set('A', created);
      return {};
    });
    await call('UpdateItemCommand', { TableName: 't', Key: { pk: 'CHK#1', sk: 'A' } }, () => {
      table.set('A', grown);
      return {};
    });
    // Assess: 2 KB x 2 (transaction) + 2 KB index entry; 3 KB (the larger image) + 3 KB index entry.
    expect(counts('TransactWriteItemsCommand').writeUnitsAws).toBe(2 * 2 + 2);
    expect(counts('UpdateItemCommand').writeUnitsAws).toBe(3 + 3);
    expect(counts('UpdateItemCommand').sizedCalls).toBe(1);
    expect(counts('TransactWriteItemsCommand').indexWriteUnitsAws).toBe(2);
    expect(counts('UpdateItemCommand').indexWriteUnitsAws).toBe(3);
  });

  it('bills a refused conditional write by the item it read, and sizes nothing while sizing is off', async () => {
    // Prepare
    table.set('B', item('B', 300, false));
    setWriteSizing(async (_table, key) => table.get(String(key.sk)), INDEX);
    // Act: a refused put (the condition failed), then sizing off and an unindexed put.
    await expect(
      middleware(
        async () => {
          throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
        },
        { commandName: 'PutItemCommand' },
      )({ input: { TableName: 't', Item: item('B', 300, false) } }),
    ).rejects.toThrow('conditional');
    setWriteSizing(undefined);
    await call('PutItemCommand', { TableName: 't', Item: item('C', 300, false) }, () => ({}));
    // Assess
    expect(counts('PutItemCommand')).toMatchObject({ calls: 2, failed: 1, writeUnitsAws: 1, sizedCalls: 1 });
  });

  it('counts read units from what a read returned: 4 KB units, half when eventually consistent', async () => {
    // Act
    await call('GetItemCommand', { TableName: 't', Key: {} }, () => ({ Item: item('D', 5000, false) }));
    await call('GetItemCommand', { TableName: 't', Key: {}, ConsistentRead: true }, () => ({ Item: item('D', 5000, false) }));
    await call('QueryCommand', { TableName: 't' }, () => ({ Items: [item('E', 3000, false), item('F', 3000, false)] }));
    await call('GetItemCommand', { TableName: 't', Key: {} }, () => ({}));
    // Assess: 2 x 0.5 + 2 x 1 + 0.5 (a missing item still costs the minimum); the Query: 6 KB -> 2 x 0.5.
    expect(counts('GetItemCommand').readUnitsAws).toBe(1 + 2 + 0.5);
    expect(counts('QueryCommand').readUnitsAws).toBe(1);
  });
});

/**
 * The bench's DynamoDB counting by AWS's own unit rules (bench/instrumentation.ts): item sizes as
 * DynamoDB bills them, write units from the item before and after each write (twice inside a
 * transaction, plus the index entry; a keys-only index entry 1 unit only when its keys change),
 * read units from what a read returned, and nothing sized while sizing is off; invocations told
 * apart by how they are called (a timer run that found no work is idle); webhook deliveries
 * counted where they leave the process, whoever sends them.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  awsWriteUnits,
  countDynamoDbCalls,
  dynamoItemBytes,
  installInvocationCounting,
  installWebhookDeliveryCounting,
  resetCounters,
  setWriteSizing,
  snapshotCounters,
  whenResultWebhookDelivered,
  type DynamoCallCounts,
} from '../../../bench/instrumentation';
import { invocationScope, type InvocationScope } from '../../../bench/latency-trace';
import { LOCAL_INVOCATION_HOOK, type LocalInvocationHook } from '../../../local/handlers';

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

describe('bench index units for a keys-only index (AWS rule)', () => {
  const KEYS_ONLY = [{ indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', projection: 'KEYS_ONLY' as const }];
  const write = { kind: 'update' as const, transactional: false };
  const base = { pk: 'CHK#1', sk: 'A', pad: 'x'.repeat(1500) };
  const keyed = (sk: string) => ({ ...base, gsi2pk: 'WATCH', gsi2sk: sk });

  it('costs 1 unit when the entry is put, 0 when only other attributes change, 1 when removed, 2 when moved', () => {
    // Act
    const put = awsWriteUnits(write, base, keyed('1'), KEYS_ONLY);
    const unchanged = awsWriteUnits(write, keyed('1'), { ...keyed('1'), pad: 'y'.repeat(2500) }, KEYS_ONLY);
    const removed = awsWriteUnits(write, keyed('1'), base, KEYS_ONLY);
    const moved = awsWriteUnits(write, keyed('1'), keyed('2'), KEYS_ONLY);
    const untouched = awsWriteUnits(write, base, base, KEYS_ONLY);
    // Assess: the item itself is 2 KB (3 KB for the grown one) in each case.
    expect(put).toEqual({ total: 2 + 1, index: 1, byIndex: { gsi2: 1 } });
    expect(unchanged).toEqual({ total: 3, index: 0, byIndex: { gsi2: 0 } });
    expect(removed).toEqual({ total: 2 + 1, index: 1, byIndex: { gsi2: 1 } });
    expect(moved).toEqual({ total: 2 + 2, index: 2, byIndex: { gsi2: 2 } });
    expect(untouched).toEqual({ total: 2, index: 0, byIndex: {} });
  });

  it('still counts an ALL index by the item size beside it', () => {
    // Act
    const units = awsWriteUnits(write, keyed('1'), { ...keyed('1'), gsi1pk: 'M#1', gsi1sk: 'A' }, [
      { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection: 'ALL' },
      ...KEYS_ONLY,
    ]);
    // Assess: the 2 KB item, a new 2 KB gsi1 entry, the unchanged gsi2 entry free.
    expect(units).toEqual({ total: 2 + 2, index: 2, byIndex: { gsi1: 2, gsi2: 0 } });
  });
});

describe('bench invocation and delivery counting', () => {
  let server: Server | undefined;

  /** A merchant endpoint on a loopback port that answers 204 to everything; its port. */
  async function merchantEndpoint(): Promise<number> {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(204);
        response.end();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  /** POSTs `body` with `headers` to that endpoint over node:http; resolves once the answer ended. */
  function postTo(port: number, headers: Record<string, string>, body: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/webhooks', headers }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  afterEach(async () => {
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
    server = undefined;
  });

  it('keeps a scheduled run that wrote nothing apart as idle, and counts one that wrote as work', async () => {
    // Prepare: the hook installed, a middleware on a stand-in client.
    installInvocationCounting();
    let middleware: Middleware | undefined;
    countDynamoDbCalls({ middlewareStack: { add: (added: Middleware) => void (middleware = added) } } as never);
    const hook = (globalThis as Record<symbol, unknown>)[LOCAL_INVOCATION_HOOK] as LocalInvocationHook;
    const send = (commandName: string) => middleware!(async () => ({ output: {} }), { commandName })({ input: {} });
    const timer = hook('some-timer', async () => {
      await send('QueryCommand');
    });
    const working = hook('some-timer', async () => {
      await send('QueryCommand');
      await send('UpdateItemCommand');
    });
    const step = hook('some-step', async (_input: unknown) => {
      await send('GetItemCommand');
    });
    resetCounters();
    // Act: two idle timer runs, one that wrote, one invoked step.
    await timer();
    await timer();
    await working();
    await step({ checkoutId: 'chk_1' });
    // Assess
    const entries = snapshotCounters().entries;
    expect(entries['some-timer (idle)']).toMatchObject({ kind: 'scheduled', idle: true, invocations: 2 });
    expect(entries['some-timer (idle)']!.dynamodb.QueryCommand!.calls).toBe(2);
    expect(entries['some-timer']).toMatchObject({ kind: 'scheduled', invocations: 1 });
    expect(entries['some-timer']!.dynamodb.UpdateItemCommand!.calls).toBe(1);
    expect(entries['some-step']).toMatchObject({ kind: 'invoked', invocations: 1 });
    delete (globalThis as Record<symbol, unknown>)[LOCAL_INVOCATION_HOOK];
  });

  it('keeps one invocation scope: the counters and the latency span of a counted invocation share one storage', async () => {
    // Prepare: the hook installed (each enabled AsyncLocalStorage costs work on every promise on Node 20).
    installInvocationCounting();
    const hook = (globalThis as Record<symbol, unknown>)[LOCAL_INVOCATION_HOOK] as LocalInvocationHook;
    let seen: InvocationScope | undefined;
    const step = hook('some-step', async (_input: unknown) => {
      await Promise.resolve();
      seen = invocationScope.getStore();
    });
    resetCounters();
    // Act
    await step({ checkoutId: 'chk_1' });
    // Assess: one store holds both; the span was kept under the entry's name.
    expect(seen?.counting).toBeDefined();
    expect(seen?.span).toMatchObject({ entry: 'some-step', kind: 'invoked' });
    expect(snapshotCounters().spans?.map((span) => span.entry)).toEqual(['some-step']);
    delete (globalThis as Record<symbol, unknown>)[LOCAL_INVOCATION_HOOK];
  });

  it('counts a webhook delivery by its webhook-id header and tells when a result webhook was delivered', async () => {
    // Prepare: a merchant endpoint answering 204, the counting installed.
    installWebhookDeliveryCounting();
    const port = await merchantEndpoint();
    const post = (headers: Record<string, string>, body: string) => postTo(port, headers, body);
    resetCounters();
    const waiting = whenResultWebhookDelivered('chk_delivered', 5_000);
    // Act: the same webhook twice (a retry), a request that is not a webhook, and a signed merchant call that is no event.
    const event = JSON.stringify({ type: 'checkout.succeeded', data: { object: { id: 'chk_delivered' } } });
    await post({ 'webhook-id': 'msg_1' }, event);
    await post({ 'webhook-id': 'msg_1' }, event);
    await post({}, '{}');
    await post({ 'webhook-id': 'msg_confirm_1' }, JSON.stringify({ order_ref: 'chk_delivered', amount_minor: 1000 }));
    // Assess
    await expect(waiting).resolves.toBe(true);
    await expect(whenResultWebhookDelivered('chk_never', 10)).resolves.toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(snapshotCounters().webhooks).toEqual({ attempts: 2, delivered: 2, distinctWebhookIds: 1 });
    expect(snapshotCounters().entries['(outside a handler)']?.webhookDeliveries).toBe(2);
  });

  it('tells of a result webhook sent inside an invocation only once that invocation has returned', async () => {
    // Prepare: both hooks installed, a merchant endpoint answering 204, a step that stores its record after the answer.
    installInvocationCounting();
    installWebhookDeliveryCounting();
    const port = await merchantEndpoint();
    const hook = (globalThis as Record<symbol, unknown>)[LOCAL_INVOCATION_HOOK] as LocalInvocationHook;
    const moments: string[] = [];
    let finishStep: () => void = () => undefined;
    const step = hook('some-step', async (_input: unknown) => {
      const body = JSON.stringify({ type: 'checkout.succeeded', data: { object: { id: 'chk_after_step' } } });
      await postTo(port, { 'webhook-id': 'msg_step' }, body);
      moments.push('answered');
      await new Promise<void>((resolve) => (finishStep = resolve));
      moments.push('stored');
    });
    resetCounters();
    const told = whenResultWebhookDelivered('chk_after_step', 5_000).then((seen) => moments.push(`told ${seen}`));
    // Act
    const running = step({ checkoutId: 'chk_after_step' });
    while (!moments.includes('answered')) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const beforeReturn = [...moments];
    finishStep();
    await running;
    await told;
    // Assess
    expect(beforeReturn).toEqual(['answered']);
    expect(moments).toEqual(['answered', 'stored', 'told true']);
    delete (globalThis as Record<symbol, unknown>)[LOCAL_INVOCATION_HOOK];
  });
});

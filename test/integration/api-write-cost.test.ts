/**
 * What the API's writes cost, counted on DynamoDB Local with the bench's counting middleware
 * (bench/instrumentation.ts) on the handlers' own document client: write requests, and write
 * units by AWS's rules (1 per KB per item, twice inside a transaction, plus index entries).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '../../lambdas/adapters/dynamo-client';
import {
  countDynamoDbCalls,
  dynamoItemBytes,
  resetCounters,
  setWriteSizing,
  snapshotCounters,
  type DynamoCallCounts,
} from '../../bench/instrumentation';
import { TABLE_SCHEMA } from '../../lib/table-schema';
import { createDocumentClient } from '../../lambdas/adapters/dynamo-client';
import { idempotencyKey, instrumentKey } from '../../lambdas/adapters/dynamo-keys';
import { withoutUndefined } from '../../lambdas/adapters/dynamo-support';
import { DynamoInstrumentRepository } from '../../lambdas/adapters/dynamo-instrument-repository';
import {
  applyChange,
  instrumentIdForCheckout,
  newAuthorizedInstrument,
  planOperation,
  settlementChange,
} from '../../lambdas/domain/instrument-ledger';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { apiEvent, checkoutBody, startApiTestEnv, type ApiTestEnv, type Handler } from './api-test-kit';

let env: ApiTestEnv;
let shop: { id: string; secretKey: string };

const WRITES = ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand'];

interface Cost {
  writeRequests: number;
  writeUnitsAws: number;
  indexWriteUnitsAws: number;
  readRequests: number;
  byCommand: Record<string, number>;
}

function costOf(calls: Record<string, DynamoCallCounts>): Cost {
  const cost: Cost = { writeRequests: 0, writeUnitsAws: 0, indexWriteUnitsAws: 0, readRequests: 0, byCommand: {} };
  for (const [command, counts] of Object.entries(calls)) {
    cost.byCommand[command] = counts.calls;
    if (WRITES.includes(command)) {
      cost.writeRequests += counts.calls;
      cost.writeUnitsAws += counts.writeUnitsAws;
      cost.indexWriteUnitsAws += counts.indexWriteUnitsAws;
    } else {
      cost.readRequests += counts.calls;
    }
  }
  return cost;
}

/** Runs `act` with counting on and returns what its DynamoDB calls cost. */
async function measure(act: () => Promise<unknown>): Promise<Cost> {
  resetCounters();
  await act();
  const snapshot = snapshotCounters();
  const calls: Record<string, DynamoCallCounts> = {};
  for (const entry of Object.values(snapshot.entries)) Object.assign(calls, entry.dynamodb);
  return costOf(calls);
}

/** Step Functions' StartExecution, answered by a stub (awsJson1_0): these tests count DynamoDB calls only. */
let stepFunctions: Server;
const startedExecutions: string[] = [];
let payHandler: Handler;

async function startStepFunctionsStub(): Promise<string> {
  stepFunctions = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const { stateMachineArn, name } = JSON.parse(body) as { stateMachineArn: string; name: string };
      startedExecutions.push(name);
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(
        JSON.stringify({
          executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
          startDate: Date.now() / 1000,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => stepFunctions.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(stepFunctions.address() as AddressInfo).port}`;
}

async function pay(checkout: { id: string; clientSecret: string }, key?: string) {
  const result = await payHandler(
    apiEvent('POST', `/v1/checkouts/${checkout.id}/pay`, {
      token: checkout.clientSecret,
      body: { payment_token: 'tok_cost' },
      ...(key !== undefined ? { headers: { 'Idempotency-Key': key } } : {}),
    }),
    {} as Context,
  );
  return { status: result.statusCode, body: result.body ?? '', headers: (result.headers ?? {}) as Record<string, string> };
}

beforeAll(async () => {
  env = await startApiTestEnv({
    STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:paystep-cost',
    SFN_ENDPOINT: await startStepFunctionsStub(),
  });
  payHandler = (await import('../../lambdas/api-pay/handler')).handler as Handler;
  shop = await env.createMerchant('Cost shop');
  const wiring = await import('../../lambdas/shared/wiring');
  countDynamoDbCalls(wiring.documentClient as unknown as Parameters<typeof countDynamoDbCalls>[0]);
  const sizingClient = createDocumentClient({ endpoint: env.db.endpoint });
  setWriteSizing(
    async (tableName, key) =>
      (await sizingClient.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item,
    TABLE_SCHEMA.globalSecondaryIndexes.map((index) => ({ ...index })),
  );
});

afterAll(async () => {
  setWriteSizing(undefined);
  await env?.stop();
  await new Promise((resolve) => stepFunctions?.close(resolve));
});

describe('write cost of POST /v1/checkouts', () => {
  it('creates a checkout with an Idempotency-Key in one write request, its record complete, encrypted and under 1 KB', async () => {
    // Prepare
    const key = `cost-${randomUUID()}`;
    let created: { json: { client_secret: string } } | undefined;
    // Act
    const cost = await measure(async () => {
      created = await env.call('POST', '/v1/checkouts', {
        token: shop.secretKey,
        body: checkoutBody(),
        headers: { 'Idempotency-Key': key },
      });
    });
    const { Item: record } = await createDocumentClient({ endpoint: env.db.endpoint }).send(
      new GetCommand({ TableName: env.db.tableName, Key: idempotencyKey(`merchant:${shop.id}`, key), ConsistentRead: true }),
    );
    // Assess
    console.log('create with Idempotency-Key', JSON.stringify(cost));
    expect(cost.writeRequests).toBe(1);
    expect(cost.byCommand['TransactWriteItemsCommand']).toBe(1);
    expect(record).toMatchObject({ state: 'completed', binding: 'POST /v1/checkouts', response: { statusCode: 201 } });
    expect(record?.['lockedUntil']).toBeUndefined();
    expect(JSON.stringify(record)).not.toContain(created!.json.client_secret);
    expect(dynamoItemBytes(record!)).toBeLessThanOrEqual(1024);
  });

  it('answers a duplicate with one cancelled transaction and a read, writing nothing', async () => {
    // Prepare
    const merchant = await env.createMerchant('Duplicate shop');
    const key = `dup-${randomUUID()}`;
    const first = await env.call('POST', '/v1/checkouts', {
      token: merchant.secretKey,
      body: checkoutBody(),
      headers: { 'Idempotency-Key': key },
    });
    let again: { rawBody: string; headers: Record<string, string> } | undefined;
    // Act
    const cost = await measure(async () => {
      again = await env.call('POST', '/v1/checkouts', {
        token: merchant.secretKey,
        body: checkoutBody(),
        headers: { 'Idempotency-Key': key },
      });
    });
    const list = await env.call('GET', '/v1/checkouts?limit=10', { token: merchant.secretKey });
    // Assess
    console.log('duplicate create with Idempotency-Key', JSON.stringify(cost));
    expect(again!.rawBody).toBe(first.rawBody);
    expect(again!.headers['idempotent-replayed']).toBe('true');
    expect(cost.writeRequests).toBe(1);
    expect(list.json.data).toHaveLength(1);
  });

  it('creates a checkout without a key in one write request', async () => {
    // Act
    const cost = await measure(() => env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody() }));
    // Assess
    console.log('create without a key', JSON.stringify(cost));
    expect(cost.writeRequests).toBe(1);
  });
});

describe('write and read cost of POST /v1/checkouts/{id}/pay', () => {
  async function newCheckout(): Promise<{ id: string; clientSecret: string }> {
    const created = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody() });
    return { id: created.json.id as string, clientSecret: created.json.client_secret as string };
  }

  it('pays with the checkout authentication read: one GetItem and one write, the checkout with its recovery watch (the attempt is counted at its answer)', async () => {
    // Prepare
    const checkout = await newCheckout();
    // Act
    const cost = await measure(() => pay(checkout));
    // Assess
    console.log('pay without a key', JSON.stringify(cost));
    expect(cost.byCommand['GetItemCommand']).toBe(1);
    expect(cost.byCommand['UpdateItemCommand']).toBe(1);
    expect(cost.writeRequests).toBe(1);
    expect(cost.writeUnitsAws).toBe(2); // the checkout item (under 1 KB) and its gsi3 entry
    expect(cost.indexWriteUnitsAws).toBe(1);
  });

  it('records an Idempotency-Key on the checkout: no idempotency write, one read of the key, a retry writes nothing', async () => {
    // Prepare
    const checkout = await newCheckout();
    const key = `pay-cost-${randomUUID()}`;
    let first: Awaited<ReturnType<typeof pay>> | undefined;
    let again: Awaited<ReturnType<typeof pay>> | undefined;
    // Act
    const cost = await measure(async () => {
      first = await pay(checkout, key);
    });
    const retryCost = await measure(async () => {
      again = await pay(checkout, key);
    });
    const reader = createDocumentClient({ endpoint: env.db.endpoint });
    const { Item: record } = await reader.send(
      new GetCommand({ TableName: env.db.tableName, Key: idempotencyKey(`checkout:${checkout.id}`, key), ConsistentRead: true }),
    );
    const { Item: item } = await reader.send(
      new GetCommand({
        TableName: env.db.tableName,
        Key: { pk: `CHECKOUT#${checkout.id}`, sk: 'CHECKOUT' },
        ConsistentRead: true,
      }),
    );
    // Assess: what the key adds to the checkout item, which every later saga write pays for by size
    expect(dynamoItemBytes({ payRequests: item?.['payRequests'] })).toBeLessThanOrEqual(64);
    console.log('pay with Idempotency-Key', JSON.stringify(cost), 'its retry', JSON.stringify(retryCost));
    expect(first?.status).toBe(202);
    expect(again).toMatchObject({ status: 202, body: first?.body, headers: { 'idempotent-replayed': 'true' } });
    expect(record).toBeUndefined();
    expect(cost.byCommand['PutItemCommand']).toBeUndefined();
    expect(cost.writeRequests).toBe(1);
    expect(cost.byCommand['GetItemCommand']).toBe(2); // the checkout (authentication) and the key's record
    expect(retryCost.writeRequests).toBe(0);
    expect(startedExecutions.filter((name) => name === checkout.id)).toHaveLength(2); // the retry starts it again: same name
  });
});

describe('read cost of the status poll', () => {
  it('answers GET /v1/checkouts/{id}/status from the checkout authentication read', async () => {
    // Prepare
    const created = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody() });
    let answer: { statusCode?: number; body?: string } | undefined;
    // Act
    const cost = await measure(async () => {
      answer = await payHandler(
        apiEvent('GET', `/v1/checkouts/${created.json.id as string}/status`, { token: created.json.client_secret as string }),
        {} as Context,
      );
    });
    // Assess
    expect(answer?.statusCode).toBe(200);
    expect(JSON.parse(answer?.body ?? '{}')).toMatchObject({ id: created.json.id, status: 'open' });
    expect(cost).toMatchObject({ readRequests: 1, writeRequests: 0 });
  });
});

describe('CheckoutRepository.createCheckout with a companion write', () => {
  it("throws the companion's error and writes nothing when the companion's condition fails", async () => {
    // Prepare: a companion whose condition cannot hold (its item exists)
    const { checkoutRepository } = await import('../../lambdas/shared/checkout-wiring');
    const client = createDocumentClient({ endpoint: env.db.endpoint });
    const taken = { pk: `TEST#${randomUUID()}`, sk: 'TEST' };
    await client.send(new PutCommand({ TableName: env.db.tableName, Item: taken }));
    const companionError = new Error('companion condition failed');
    const checkout = {
      id: `chk_${randomUUID().replace(/-/g, '').slice(0, 22)}`,
      merchantId: shop.id,
      merchantOrderRef: `order_${randomUUID()}`,
      amount: 100,
      currency: 'USD',
      items: [{ sku: 'a', quantity: 1 }],
      successUrl: 'https://shop.example/ok',
      failureUrl: 'https://shop.example/ko',
      status: 'open' as const,
      clientSecretHash: 'x'.repeat(64),
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      version: 1,
    };
    // Act
    const attempt = checkoutRepository.createCheckout(checkout, {
      companion: {
        write: { Put: { TableName: env.db.tableName, Item: taken, ConditionExpression: 'attribute_not_exists(pk)' } },
        conditionFailed: () => companionError,
      },
    });
    // Assess
    await expect(attempt).rejects.toBe(companionError);
    expect(await checkoutRepository.getCheckout(checkout.id)).toBeUndefined();
    expect(await checkoutRepository.findCheckoutByOrderRef(shop.id, checkout.merchantOrderRef)).toBeUndefined();
  });
});

/** The saga's instrument for a new checkout, as AuthorizePayment opens it, and its full capture as runSagaOperation plans it. */
async function sagaInstrumentWithCapture() {
  const { documentClient } = await import('../../lambdas/shared/wiring');
  const repository = new DynamoInstrumentRepository(documentClient, env.db.tableName);
  const checkoutId = `chk_${randomUUID().replace(/-/g, '').slice(0, 22)}`;
  const now = new Date();
  const instrument = newAuthorizedInstrument({
    id: instrumentIdForCheckout(checkoutId),
    merchantId: shop.id,
    type: 'authorized',
    status: 'pending',
    amount: 10050,
    currency: 'USD',
    connector: 'sandbox',
    pspReference: `auth_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    pspPaymentReference: checkoutId,
    checkoutId,
    now,
  });
  const { operation, guard } = planOperation(
    instrument,
    { kind: 'capture', amount: 10050, currency: 'USD' },
    { operationId: 'saga_capture', pspIdempotencyKey: `${checkoutId}:capture`, now, allowedStatuses: ['pending'] },
  );
  return { repository, now, instrument, operation, guard };
}

describe("write cost of the saga's instrument", () => {
  it('authorizes, reserves and settles a capture with every instrument write under 1 KB, read back whole', async () => {
    // Prepare: the saga's instrument for a checkout, as AuthorizePayment opens it
    const { repository, now, instrument, operation, guard } = await sagaInstrumentWithCapture();
    // Act
    const created = await measure(() => repository.createInstrument(instrument));
    const reserve = await measure(() => repository.reserveOperation(instrument.id, operation, guard, now));
    const settle = await measure(() =>
      repository.settleOperation(
        {
          instrumentId: instrument.id,
          operationId: operation.id,
          change: settlementChange(operation, 'succeeded'),
          patch: { status: 'succeeded', settledAt: now.toISOString(), pspOperationId: 'op_218712b18e0e1fe36e4dc33b' },
        },
        now,
      ),
    );
    const read = await repository.getInstrument(instrument.id);
    // Assess
    console.log(
      'instrument create',
      JSON.stringify(created),
      'reserve',
      JSON.stringify(reserve),
      'settle',
      JSON.stringify(settle),
    );
    // One plain Put: the instrument (1 KB) and its gsi2 entry by PSP reference (keys only, 1 unit); no claim item
    expect(created.writeRequests).toBe(1);
    expect(created.byCommand['PutItemCommand']).toBe(1);
    expect(created.writeUnitsAws).toBe(2);
    expect(created.indexWriteUnitsAws).toBe(1);
    expect(reserve.writeUnitsAws).toBe(1);
    expect(settle.writeUnitsAws).toBe(1);
    const expected = applyChange(
      applyChange(
        {
          ...instrument,
          operations: {
            ...instrument.operations,
            [operation.id]: {
              ...operation,
              status: 'succeeded',
              settledAt: now.toISOString(),
              pspOperationId: 'op_218712b18e0e1fe36e4dc33b',
            },
          },
        },
        operation.reservation,
      ),
      settlementChange(operation, 'succeeded'),
    );
    expect(read).toEqual({ ...expected, updatedAt: now.toISOString(), version: instrument.version + 2 });
  });

  it("records the saga's full capture reserved and settled in one write under 1 KB, with the balances of reserve plus settle", async () => {
    // Prepare: the saga's instrument, and the capture as runSagaOperation plans it
    const { repository, now, instrument, operation, guard } = await sagaInstrumentWithCapture();
    const settled = {
      ...operation,
      status: 'succeeded' as const,
      settledAt: now.toISOString(),
      pspOperationId: 'op_218712b18e0e1fe36e4dc33b',
    };
    const success = settlementChange(operation, 'succeeded');
    const change = {
      capturableDelta: operation.reservation.capturableDelta + success.capturableDelta,
      refundableDelta: operation.reservation.refundableDelta + success.refundableDelta,
      pendingCapturesDelta: operation.reservation.pendingCapturesDelta + success.pendingCapturesDelta,
      status: 'active' as const,
    };
    await repository.createInstrument(instrument);
    // Act
    const oneWrite = await measure(() => repository.reserveAndSettleOperation(instrument.id, settled, change, guard, now));
    const again = await repository.reserveAndSettleOperation(instrument.id, settled, change, guard, now);
    const read = await repository.getInstrument(instrument.id);
    // Assess
    expect(oneWrite.writeRequests).toBe(1);
    expect(oneWrite.writeUnitsAws).toBe(1);
    expect(oneWrite.indexWriteUnitsAws).toBe(0); // gsi2 keys unchanged: no index write
    expect(again.kind).toBe('exists');
    const twoWrites = applyChange(
      applyChange({ ...instrument, operations: { ...instrument.operations, [operation.id]: settled } }, operation.reservation),
      success,
    );
    expect(read).toEqual({ ...twoWrites, updatedAt: now.toISOString(), version: instrument.version + 1 });
  });

  it('reads an instrument item written in full by the previous version as it was', async () => {
    // Prepare
    const client = createDocumentClient({ endpoint: env.db.endpoint });
    const repository = new DynamoInstrumentRepository(client, env.db.tableName);
    const checkoutId = `chk_${randomUUID().replace(/-/g, '').slice(0, 22)}`;
    const instrument = newAuthorizedInstrument({
      id: instrumentIdForCheckout(checkoutId),
      merchantId: shop.id,
      type: 'authorized',
      status: 'pending',
      amount: 500,
      currency: 'EUR',
      connector: 'sandbox',
      pspReference: `auth_${randomUUID().replace(/-/g, '')}`,
      pspPaymentReference: checkoutId,
      checkoutId,
      now: new Date(),
    });
    await client.send(
      new PutCommand({
        TableName: env.db.tableName,
        Item: withoutUndefined({ ...instrumentKey(instrument.id), entity: 'instrument', ...instrument }),
      }),
    );
    // Act
    const read = await repository.getInstrument(instrument.id);
    // Assess
    expect(read).toEqual(instrument);
  });
});

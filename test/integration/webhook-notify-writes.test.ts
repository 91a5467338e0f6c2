/**
 * NotifyMerchant on DynamoDB Local with a real HTTP receiver on loopback: what one notify of a
 * succeeded checkout writes (counted on the document client: requests and write units by AWS's
 * rules), that a crash between sending and storing is covered by running the step again (the
 * sweep's re-run) with the same webhook-id, and that an event stored in the previous layout (an
 * event item plus one delivery item per endpoint) is still listed for the dispatcher, delivered
 * and read back with its attempt, and listed in the merchant's log beside current-layout events.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDocumentClient, type DynamoDBDocumentClient } from '../../lambdas/adapters/dynamo-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';
import { DynamoEventStore } from '../../lambdas/adapters/dynamo-event-store';
import { DynamoWebhookEndpointRepository } from '../../lambdas/adapters/dynamo-webhook-endpoints';
import { HttpWebhookSender } from '../../lambdas/adapters/http-webhook-sender';
import { LOCAL_URL_POLICY } from '../../lambdas/adapters/url-guard';
import { DEFAULT_RETRY_SCHEDULE } from '../../lambdas/domain/webhook-schedule';
import { deriveEventId, renderEventBody } from '../../lambdas/domain/webhook-events';
import type { EventStore } from '../../lambdas/ports/events';
import { notifyMerchant, resultEventId, type NotifyMerchantPorts } from '../../lambdas/use-cases/saga/notify-merchant';
import { dispatchDueDeliveries, type DispatchDependencies } from '../../lambdas/use-cases/webhook-delivery';
import { aCheckout, FakeCheckouts, fakeCipher, FakeInstruments } from '../unit/fakes';
import { awsReadUnits, awsWriteUnits, dynamoItemBytes, type IndexKeys, writeTargets } from '../../bench/capacity-units';
import { aPayment } from '../support/payments';

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);
const READ_COMMANDS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand']);
/** The table's indexes as the units count them (lib/table-schema.ts): gsi1 projects ALL, gsi2 keys only. */
const INDEXES: IndexKeys[] = [
  { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection: 'ALL' },
  { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', projection: 'KEYS_ONLY' },
];

interface WriteLog {
  requests: string[];
  /** Table and index write units by AWS's rules (bench/capacity-units.ts), items taken as new. */
  units: number;
  /** Bytes of each item put, as DynamoDB bills them. */
  itemBytes: number[];
  /** Read requests, with `(consistent)` when strongly consistent. */
  reads: string[];
  /** Read units by AWS's rules. */
  readUnits: number;
}

/** A document client that records every write and read request and its units (native values, before marshalling). */
function countingClient(db: DynamoDbLocal, log: WriteLog): DynamoDBDocumentClient {
  const client = createDocumentClient({ ...LOCAL_AWS, endpoint: db.endpoint });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context as { commandName?: string }).commandName ?? 'unknown';
      const input = args.input as Record<string, unknown>;
      if (WRITE_COMMANDS.has(name)) {
        log.requests.push(name);
        for (const target of writeTargets(name, input)) {
          const item = putItemOf(name, input, target.key);
          if (item !== undefined) log.itemBytes.push(dynamoItemBytes(item));
          log.units += awsWriteUnits(target, undefined, item, INDEXES).total;
        }
      }
      const result = await next(args);
      if (READ_COMMANDS.has(name)) {
        const consistent =
          input.ConsistentRead === true ||
          Object.values((input.RequestItems ?? {}) as Record<string, { ConsistentRead?: boolean }>).some((r) => r.ConsistentRead);
        log.reads.push(`${name}${consistent ? ' (consistent)' : ''}`);
        log.readUnits += awsReadUnits(name, input, result.output as Record<string, unknown>);
      }
      return result;
    },
    { step: 'initialize', name: 'countWrites' },
  );
  return client;
}

/** The item a Put or a batch PutRequest writes under `key`. */
function putItemOf(name: string, input: Record<string, unknown>, key: Record<string, unknown>) {
  if (name === 'PutItemCommand') return input.Item as Record<string, unknown>;
  if (name !== 'BatchWriteItemCommand') return undefined;
  const requests = Object.values(
    input.RequestItems as Record<string, { PutRequest?: { Item: Record<string, unknown> } }[]>,
  ).flat();
  return requests.map((request) => request.PutRequest?.Item).find((item) => item?.pk === key.pk && item?.sk === key.sk);
}

let db: DynamoDbLocal;
let receiver: Server;
let received: { id: string; type: string }[];
let answer: number;
let receiverUrl: string;
const log: WriteLog = { requests: [], units: 0, itemBytes: [], reads: [], readUnits: 0 };
let store: DynamoEventStore;
let deps: NotifyMerchantPorts & DispatchDependencies;
let forgotten: string[];
let checkoutNumber = 0;

beforeAll(async () => {
  db = await startDynamoDbLocal();
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ id: String(request.headers['webhook-id']), type: String(JSON.parse(body).type) });
      response.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  const client = countingClient(db, log);
  store = new DynamoEventStore(client, db.tableName);
  const endpoints = new DynamoWebhookEndpointRepository(client, db.tableName);
  await endpoints.createEndpoint({
    id: 'we_writes',
    merchantId: 'mer_writes',
    url: receiverUrl,
    enabledEvents: ['*'],
    secretCiphertext: 'enc(whsec_writes)',
    status: 'enabled',
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  forgotten = [];
  deps = {
    events: store,
    webhookEndpoints: endpoints,
    webhookSender: new HttpWebhookSender(5_000, LOCAL_URL_POLICY),
    cipher: fakeCipher,
    checkouts: new FakeCheckouts(),
    instruments: new FakeInstruments(),
    // About the size of the API's checkout view (lambdas/shared/views.ts), so the units are realistic.
    renderCheckout: (checkout) => ({
      ...checkout,
      line_items: [{ name: 'A blue T-shirt, size M', quantity: 1, unit_amount: 10050 }],
    }),
    outcomeWatch: { forgetCheckout: async (id) => void forgotten.push(id) },
    schedule: DEFAULT_RETRY_SCHEDULE,
    random: () => 0.5,
  };
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
  await db?.stop();
});

beforeEach(() => {
  received = [];
  answer = 204;
  log.requests.length = 0;
  log.units = 0;
  log.itemBytes.length = 0;
  log.reads.length = 0;
  log.readUnits = 0;
});

function succeededCheckout() {
  checkoutNumber += 1;
  return aCheckout({
    id: `chk_writes_${checkoutNumber}`,
    merchantId: 'mer_writes',
    status: 'succeeded',
    updatedAt: new Date().toISOString(),
    payment: aPayment({
      paymentToken: 'tok_1',
      connector: 'fake',
      pspReference: 'auth_1',
      authorizedAmount: 10050,
      capturedAmount: 10050,
    }),
  });
}

describe('NotifyMerchant writes on DynamoDB Local', () => {
  it('one notify of a succeeded checkout whose merchant answers: both events in one batch write of two items under 1 KB (4 units), two eventually consistent reads', async () => {
    // Prepare
    const checkout = succeededCheckout();
    // Act
    const result = await notifyMerchant(deps, { checkoutId: checkout.id }, checkout);
    // Assess
    expect(result).toMatchObject({ delivered: 2, pending: 0 });
    expect(received.map((r) => r.type)).toEqual(['payment.captured', 'checkout.succeeded']);
    expect(log.requests).toEqual(['BatchWriteItemCommand']);
    // Each event item (body deflated, deliveries compact) is under 1 KB: 1 unit, its keys-only gsi2 entry 1.
    expect(log.itemBytes).toHaveLength(2);
    for (const bytes of log.itemBytes) expect(bytes).toBeLessThan(1024);
    expect(log.units).toBe(4);
    // The events already stored (none) and the merchant's endpoints, both eventually consistent.
    expect(log.reads.sort()).toEqual(['BatchGetItemCommand', 'QueryCommand']);
    expect(log.readUnits).toBe(0.5);
    expect(await store.listDueDeliveries(new Date(Date.now() + 86_400_000), 100)).not.toContainEqual(
      expect.objectContaining({ eventId: resultEventId(checkout.id, 'checkout.succeeded') }),
    );
    expect(forgotten).toContain(checkout.id);
  });

  it('a failed first attempt is stored pending in the due index and the dispatcher retries it with the same webhook-id', async () => {
    // Prepare
    const checkout = succeededCheckout();
    answer = 503;
    await notifyMerchant(deps, { checkoutId: checkout.id }, checkout);
    const first = received.map((r) => r.id);
    const due = await store.getEvent(resultEventId(checkout.id, 'checkout.succeeded'));
    answer = 204;
    log.reads.length = 0;
    // Act
    const later = new Date(Date.parse(due!.deliveries[0]!.nextAttemptAt) + 1);
    const pass = await dispatchDueDeliveries({ ...deps, now: () => later });
    // Assess
    expect(due!.deliveries[0]).toMatchObject({ status: 'pending', attempt: 1 });
    expect(pass.delivered).toBeGreaterThanOrEqual(2);
    // Per attempt: the claim's read of the event item (which also serves the send and the
    // completion, nobody having written it in between) and the endpoint's.
    expect(log.reads.filter((read) => read.startsWith('GetItemCommand'))).toHaveLength(2 * pass.attempted);
    expect(
      received
        .slice(2)
        .map((r) => r.id)
        .sort(),
    ).toEqual([...first].sort());
    const after = await store.getEvent(resultEventId(checkout.id, 'checkout.succeeded'));
    expect(after!.deliveries[0]).toMatchObject({ status: 'delivered', attempt: 2 });
    expect(after!.deliveries[0]!.attempts.map((a) => a.ok)).toEqual([false, true]);
  });

  it('a crash after sending and before storing: the sweep re-run sends again with the same webhook-id and stores the events', async () => {
    // Prepare: the store write dies once (the host is killed between the send and the write)
    const checkout = succeededCheckout();
    let crash = true;
    const crashing = new Proxy(store, {
      get(target, property, receiverObject) {
        const value = Reflect.get(target, property, receiverObject) as unknown;
        if ((property === 'createEvents' || property === 'putEvents') && crash) {
          return async () => {
            crash = false;
            throw new Error('host killed');
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as EventStore;
    const crashed = await notifyMerchant({ ...deps, events: crashing }, { checkoutId: checkout.id }, checkout).catch(
      (error: unknown) => error,
    );
    const beforeRerun = received.map((r) => r.id);
    // Act: the recovery sweep still watches the checkout and runs the step again
    await notifyMerchant({ ...deps, events: crashing }, { checkoutId: checkout.id }, checkout);
    // Assess
    expect(crashed).toBeInstanceOf(Error);
    expect(forgotten.filter((id) => id === checkout.id)).toHaveLength(1);
    expect(received.slice(beforeRerun.length).map((r) => r.id)).toEqual(beforeRerun);
    expect(beforeRerun).toEqual([
      resultEventId(checkout.id, 'payment.captured'),
      resultEventId(checkout.id, 'checkout.succeeded'),
    ]);
    const stored = await store.getEvents(beforeRerun);
    expect(stored.map((s) => s.deliveries[0]!.status)).toEqual(['delivered', 'delivered']);
  });

  it('an event stored in the previous layout is still due for the dispatcher, delivered, and read back with its attempt', async () => {
    // Prepare
    const id = deriveEventId(`legacy:${Date.now()}`);
    const now = new Date();
    await store.putLegacyEvent(
      {
        id,
        merchantId: 'mer_writes',
        type: 'payment.refunded',
        created: Math.floor(now.getTime() / 1000),
        createdAt: now.toISOString(),
        body: renderEventBody({ id, type: 'payment.refunded', created: Math.floor(now.getTime() / 1000), data: { object: {} } }),
      },
      [
        {
          eventId: id,
          endpointId: 'we_writes',
          merchantId: 'mer_writes',
          status: 'pending',
          attempt: 0,
          nextAttemptAt: now.toISOString(),
          attempts: [],
          updatedAt: now.toISOString(),
        },
      ],
    );
    // Act
    const pass = await dispatchDueDeliveries({ ...deps, now: () => new Date(now.getTime() + 1) });
    // Assess
    expect(pass.delivered).toBeGreaterThanOrEqual(1);
    expect(received.map((r) => r.id)).toContain(id);
    const found = await store.getEvent(id, 'mer_writes');
    expect(found!.deliveries).toEqual([expect.objectContaining({ endpointId: 'we_writes', status: 'delivered', attempt: 1 })]);
  });

  it('the merchant log lists events of both layouts together, newest first, page by page', async () => {
    // Prepare: previous-layout events at t1 and t3, current-layout events at t2 and t4
    const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second));
    const event = (second: number) => {
      const id = deriveEventId(`list:${second}`);
      const created = Math.floor(at(second).getTime() / 1000);
      return {
        id,
        merchantId: 'mer_list',
        type: second % 2 === 0 ? 'payment.captured' : 'payment.refunded',
        created,
        createdAt: at(second).toISOString(),
        body: renderEventBody({ id, type: 'payment.refunded', created, data: { object: {} } }),
      };
    };
    await store.putLegacyEvent(event(1), []);
    await store.createEvent(event(2), []);
    await store.putLegacyEvent(event(3), []);
    await store.createEvent(event(4), []);
    // Act
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listEvents('mer_list', { limit: 1, ...(cursor !== undefined ? { cursor } : {}) });
      ids.push(...page.events.map((entry) => entry.event.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    const refunds = await store.listEvents('mer_list', { limit: 10, type: 'payment.refunded' });
    // Assess
    expect(ids).toEqual([4, 3, 2, 1].map((second) => event(second).id));
    expect(refunds.events.map((entry) => entry.event.id)).toEqual([event(3).id, event(1).id]);
    expect(refunds.nextCursor).toBeUndefined();
  });
});

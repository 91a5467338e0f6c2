/**
 * The DynamoDB adapters against DynamoDB Local: conditional writes, transactions and the
 * idempotency claim behave as the ports promise under races.
 */
import { aPayment } from '../support/payments';
import { paymentBalances } from '../../lambdas/domain/authorization-hold';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createDocumentClient,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '../../lambdas/adapters/dynamo-client';
import { DynamoRecoveryStore } from '../../lambdas/adapters/dynamo-recovery-store';
import { dynamoItemBytes } from '../../bench/instrumentation';
import { startDynamoDbLocal, LOCAL_AWS, type DynamoDbLocal } from '../../local/dynamodb-local';
import { freePort } from '../../local/net';
import { DynamoCheckoutRepository } from '../../lambdas/adapters/dynamo-checkout-repository';
import { DynamoCheckoutListing } from '../../lambdas/adapters/dynamo-checkout-listing';
import { DynamoIdempotencyStore } from '../../lambdas/adapters/dynamo-idempotency-store';
import { DynamoMerchantRepository, clearMerchantCaches } from '../../lambdas/adapters/dynamo-merchant-repository';
import { DynamoWebhookEndpointRepository } from '../../lambdas/adapters/dynamo-webhook-endpoints';
import type { WebhookEndpoint } from '../../lambdas/domain/webhook-endpoint';
import {
  ConcurrentModificationError,
  DuplicateOrderRefError,
  InvalidTransitionError,
  NotFoundError,
  StoreUnavailableError,
} from '../../lambdas/errors';
import { generateCheckoutId, generateMerchantId, sha256Hex } from '../../lambdas/domain/ids';
import type { Checkout, Merchant } from '../../lambdas/domain/model';
import { newAttempt } from '../../lambdas/domain/payment-attempt';
import { toCheckoutView, toEventView } from '../../lambdas/shared/views';
import { instrumentIdForCheckout } from '../../lambdas/domain/instrument-ledger';

// A settings cache entry outlives any pause of this file (the cache tests must not depend on timing).
vi.hoisted(() => {
  process.env['PAYSTEP_SETTINGS_CACHE_TTL_MS'] = '600000';
});

let db: DynamoDbLocal;
let documentClient: DynamoDBDocumentClient;
let merchants: DynamoMerchantRepository;
let checkouts: DynamoCheckoutRepository;
let listing: DynamoCheckoutListing;
let idempotency: DynamoIdempotencyStore;

function newMerchant(overrides: Partial<Merchant> = {}): Merchant {
  const id = generateMerchantId();
  return {
    id,
    name: 'Shop',
    merchantKey: `mk_${id}`,
    secretKeyHash: sha256Hex(`sk_test_${id}`),
    signingSecretCiphertext: 'v1:a:b:c',
    settings: { inventoryConfirmationEnabled: false },
    createdAt: new Date().toISOString(),
    version: 1,
    ...overrides,
  };
}

function newCheckout(overrides: Partial<Checkout> = {}): Checkout {
  const now = new Date().toISOString();
  return {
    id: generateCheckoutId(),
    merchantId: 'mer_store_test',
    merchantOrderRef: `ref_${Math.random().toString(36).slice(2)}`,
    amount: 10050,
    currency: 'USD',
    items: [{ sku: 'A', quantity: 1 }],
    successUrl: 'https://s.example/ok',
    failureUrl: 'https://s.example/ko',
    status: 'open',
    clientSecretHash: sha256Hex('cs_x'),
    createdAt: now,
    updatedAt: now,
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    version: 1,
    ...overrides,
  };
}

/** A document client on the same table that records each call's command name and ConsistentRead flag. */
function recordingClient(): { client: DynamoDBDocumentClient; calls: { command: string; consistent: boolean | undefined }[] } {
  const calls: { command: string; consistent: boolean | undefined }[] = [];
  const client = createDocumentClient({ ...LOCAL_AWS, endpoint: db.endpoint });
  client.middlewareStack.add((next, context) => async (args) => {
    const input = args.input as { ConsistentRead?: boolean };
    calls.push({ command: context.commandName ?? '?', consistent: input.ConsistentRead });
    return await next(args);
  });
  return { client, calls };
}

beforeAll(async () => {
  db = await startDynamoDbLocal();
  documentClient = createDocumentClient({ ...LOCAL_AWS, endpoint: db.endpoint });
  merchants = new DynamoMerchantRepository(documentClient, db.tableName);
  checkouts = new DynamoCheckoutRepository(documentClient, db.tableName);
  listing = new DynamoCheckoutListing(documentClient, db.tableName);
  idempotency = new DynamoIdempotencyStore(documentClient, db.tableName);
});

afterAll(async () => {
  documentClient?.destroy();
  await db?.stop();
});

describe('DynamoMerchantRepository', () => {
  it('finds a merchant by the sha256 of its secret key and never stores the key', async () => {
    // Prepare
    const merchant = newMerchant();
    // Act
    await merchants.createMerchant(merchant);
    const found = await merchants.findMerchantBySecretKeyHash(merchant.secretKeyHash);
    const missing = await merchants.findMerchantBySecretKeyHash(sha256Hex('sk_test_unknown'));
    // Assess
    expect(found).toEqual(merchant);
    expect(missing).toBeUndefined();
  });

  it('rejects a settings update made against a stale version', async () => {
    // Prepare
    const merchant = newMerchant();
    await merchants.createMerchant(merchant);
    const first = await merchants.updateSettings(
      merchant.id,
      { inventoryConfirmationEnabled: false, defaultSuccessUrl: 'https://a.example' },
      1,
    );
    // Act
    const stale = merchants.updateSettings(merchant.id, { inventoryConfirmationEnabled: false }, 1);
    // Assess
    expect(first.version).toBe(2);
    expect(first.settings.defaultSuccessUrl).toBe('https://a.example');
    await expect(stale).rejects.toBeInstanceOf(ConcurrentModificationError);
    expect((await merchants.getMerchant(merchant.id))?.settings.defaultSuccessUrl).toBe('https://a.example');
  });

  it('reads profiles eventually consistent and the key lookup item strongly only when the cheap read misses', async () => {
    // Prepare
    const merchant = newMerchant();
    await merchants.createMerchant(merchant);
    const { client, calls } = recordingClient();
    const recorded = new DynamoMerchantRepository(client, db.tableName);
    // Act (each lookup on an empty cache)
    clearMerchantCaches();
    const profile = await recorded.getMerchant(merchant.id);
    const profileReads = calls.splice(0);
    clearMerchantCaches();
    const byKey = await recorded.findMerchantBySecretKeyHash(merchant.secretKeyHash);
    const keyReads = calls.splice(0);
    const unknown = await recorded.findMerchantBySecretKeyHash(sha256Hex('sk_test_nobody'));
    const unknownReads = calls.splice(0);
    const missing = await recorded.getMerchant('mer_nobody');
    const missingReads = calls.splice(0);
    client.destroy();
    // Assess: a stale profile is harmless to its readers; authentication reads an uncached profile
    // strongly (its version guards versioned writes); a miss is always confirmed strongly
    expect(profile).toEqual(merchant);
    expect(byKey).toEqual(merchant);
    expect(unknown).toBeUndefined();
    expect(missing).toBeUndefined();
    expect(profileReads.map((call) => call.consistent)).toEqual([false]);
    expect(keyReads.map((call) => call.consistent)).toEqual([false, true]);
    expect(unknownReads.map((call) => call.consistent)).toEqual([false, true]);
    expect(missingReads.map((call) => call.consistent)).toEqual([false, true]);
  });

  it('serves profiles and key lookups from the process cache, never caches a miss, and sees its own writes at once', async () => {
    // Prepare
    const merchant = newMerchant();
    const { client, calls } = recordingClient();
    const recorded = new DynamoMerchantRepository(client, db.tableName);
    const before = await recorded.findMerchantBySecretKeyHash(merchant.secretKeyHash);
    const beforeProfile = await recorded.getMerchant(merchant.id);
    await merchants.createMerchant(merchant); // another instance in the same process
    calls.splice(0);
    // Act
    const first = await recorded.findMerchantBySecretKeyHash(merchant.secretKeyHash);
    const firstReads = calls.splice(0);
    const again = await recorded.findMerchantBySecretKeyHash(merchant.secretKeyHash);
    const viaGet = await recorded.getMerchant(merchant.id);
    const cachedReads = calls.splice(0);
    await merchants.updateSettings(merchant.id, { inventoryConfirmationEnabled: true }, 1);
    const afterWrite = await recorded.getMerchant(merchant.id);
    const afterWriteReads = calls.splice(0);
    client.destroy();
    // Assess
    expect(before).toBeUndefined();
    expect(beforeProfile).toBeUndefined();
    expect(first).toEqual(merchant);
    expect(firstReads.map((call) => call.consistent)).toEqual([false, true]);
    expect(again).toEqual(merchant);
    expect(viaGet).toEqual(merchant);
    expect(cachedReads).toEqual([]);
    expect(afterWrite?.settings.inventoryConfirmationEnabled).toBe(true);
    expect(afterWrite?.version).toBe(2);
    expect(afterWriteReads).toEqual([]);
  });

  it('refuses a write guarded by a cached version another container moved, and the retry reads the current profile', async () => {
    // Prepare: this process caches version 1, then "another container" moves the merchant to 2
    const merchant = newMerchant();
    await merchants.createMerchant(merchant);
    const cached = await merchants.findMerchantBySecretKeyHash(merchant.secretKeyHash);
    await documentClient.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: { pk: `MERCHANT#${merchant.id}`, sk: 'PROFILE' },
        UpdateExpression: 'SET settings.defaultSuccessUrl = :url, version = version + :one',
        ExpressionAttributeValues: { ':url': 'https://other.example', ':one': 1 },
      }),
    );
    // Act
    const stale = merchants.updateSettings(merchant.id, { inventoryConfirmationEnabled: true }, cached!.version);
    await expect(stale).rejects.toBeInstanceOf(ConcurrentModificationError);
    const reread = await merchants.findMerchantBySecretKeyHash(merchant.secretKeyHash);
    // Assess
    expect(cached?.version).toBe(1);
    expect(reread?.version).toBe(2);
    expect(reread?.settings.defaultSuccessUrl).toBe('https://other.example');
  });

  it('reports an unknown merchant as not found on update', async () => {
    await expect(merchants.updateSettings('mer_nope', { inventoryConfirmationEnabled: false }, 1)).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});

describe('DynamoWebhookEndpointRepository cache', () => {
  function anEndpoint(merchantId: string, id: string): WebhookEndpoint {
    return {
      id,
      merchantId,
      url: `https://hooks.example/${id}`,
      enabledEvents: ['*'],
      secretCiphertext: 'v1:a:b:c',
      status: 'enabled',
      createdAt: new Date().toISOString(),
    };
  }

  it('caches the eventually consistent list (never an empty one), drops it on writes, and leaves consistent reads alone', async () => {
    // Prepare
    const merchantId = generateMerchantId();
    const { client, calls } = recordingClient();
    const recorded = new DynamoWebhookEndpointRepository(client, db.tableName);
    const writer = new DynamoWebhookEndpointRepository(documentClient, db.tableName);
    // Act
    const empty = await recorded.listEndpoints(merchantId, { consistent: false });
    await writer.createEndpoint(anEndpoint(merchantId, 'we_1'));
    const firstList = await recorded.listEndpoints(merchantId, { consistent: false });
    const cachedList = await recorded.listEndpoints(merchantId, { consistent: false });
    const listReads = calls.splice(0);
    await writer.disableEndpoint(merchantId, 'we_1', 'test');
    const afterDisable = await recorded.listEndpoints(merchantId, { consistent: false });
    await writer.createEndpoint(anEndpoint(merchantId, 'we_2'));
    const afterCreate = await recorded.listEndpoints(merchantId, { consistent: false });
    await writer.deleteEndpoint(merchantId, 'we_1');
    const afterDelete = await recorded.listEndpoints(merchantId, { consistent: false });
    calls.splice(0);
    const strong = await recorded.listEndpoints(merchantId);
    const strongReads = calls.splice(0);
    client.destroy();
    // Assess
    expect(empty).toEqual([]);
    expect(firstList.map((endpoint) => endpoint.id)).toEqual(['we_1']);
    expect(cachedList).toEqual(firstList);
    expect(listReads.map((call) => [call.command, call.consistent])).toEqual([
      ['QueryCommand', false],
      ['QueryCommand', false],
    ]);
    expect(afterDisable.map((endpoint) => endpoint.status)).toEqual(['disabled']);
    expect(afterCreate.map((endpoint) => endpoint.id)).toEqual(['we_1', 'we_2']);
    expect(afterDelete.map((endpoint) => endpoint.id)).toEqual(['we_2']);
    expect(strong.map((endpoint) => endpoint.id)).toEqual(['we_2']);
    expect(strongReads.map((call) => [call.command, call.consistent])).toEqual([['QueryCommand', true]]);
  });
});

describe('DynamoCheckoutRepository', () => {
  it('creates a checkout with its created row and finds it by order ref', async () => {
    // Prepare
    const checkout = newCheckout();
    // Act
    await checkouts.createCheckout(checkout);
    // Assess
    expect(await checkouts.getCheckout(checkout.id)).toEqual(checkout);
    expect(await checkouts.findCheckoutByOrderRef(checkout.merchantId, checkout.merchantOrderRef)).toEqual(checkout);
    expect(await checkouts.findCheckoutByOrderRef('mer_other', checkout.merchantOrderRef)).toBeUndefined();
    expect((await checkouts.listEvents(checkout.id)).map((event) => event.type)).toEqual(['created']);
  });

  it('stores the checkout expiry apart from the TTL attribute so checkouts are never reaped', async () => {
    // Prepare
    const checkout = newCheckout();
    // Act
    await checkouts.createCheckout(checkout);
    const { Item } = await documentClient.send(
      new GetCommand({ TableName: db.tableName, Key: { pk: `CHECKOUT#${checkout.id}`, sk: 'CHECKOUT' } }),
    );
    // Assess
    expect(Item?.['expiresAt']).toBeUndefined();
    // Stored as `cx`, epoch milliseconds (dynamo-checkout-layout.ts), which restore the very same string.
    expect(Item?.['cx']).toBe(Date.parse(checkout.expiresAt));
    expect((await checkouts.getCheckout(checkout.id))?.expiresAt).toBe(checkout.expiresAt);
    expect(Item?.['gsi2pk']).toBe(`MERCHANT#${checkout.merchantId}#CHECKOUTS`);
    expect(Item?.['gsi1pk']).toBeUndefined();
  });

  it('lets exactly one of two concurrent creates claim a merchant_order_ref', async () => {
    // Prepare
    const a = newCheckout({ merchantOrderRef: 'same-ref' });
    const b = newCheckout({ merchantOrderRef: 'same-ref' });
    // Act
    const results = await Promise.allSettled([checkouts.createCheckout(a), checkouts.createCheckout(b)]);
    // Assess
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected?.reason).toBeInstanceOf(DuplicateOrderRefError);
    expect((rejected?.reason as DuplicateOrderRefError).param).toBe('merchant_order_ref');
  });

  it('refuses a transition from a status outside `from` and leaves the record alone', async () => {
    // Prepare
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    await checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['open'], to: 'canceled', event: { type: 'canceled' } });
    // Act
    const attempt = checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['open'], to: 'processing' });
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidTransitionError);
    const stored = await checkouts.getCheckout(checkout.id);
    expect(stored?.status).toBe('canceled');
    expect(stored?.version).toBe(2);
  });

  it('refuses a transition the status machine does not allow before writing', async () => {
    // Prepare
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    // Act
    const attempt = checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['open'], to: 'succeeded' });
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidTransitionError);
    expect((await checkouts.getCheckout(checkout.id))?.status).toBe('open');
  });

  it('lets exactly one of two concurrent version-pinned transitions win', async () => {
    // Prepare
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    // Act
    const results = await Promise.allSettled([
      checkouts.transitionCheckout({
        checkoutId: checkout.id,
        from: ['open'],
        to: 'processing',
        expectedVersion: 1,
        event: { type: 'payment_started' },
      }),
      checkouts.transitionCheckout({
        checkoutId: checkout.id,
        from: ['open'],
        to: 'canceled',
        expectedVersion: 1,
        event: { type: 'canceled' },
      }),
    ]);
    // Assess
    const won = results.filter((r): r is PromiseFulfilledResult<Checkout> => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason instanceof InvalidTransitionError || lost[0]!.reason instanceof ConcurrentModificationError).toBe(
      true,
    );
    const stored = await checkouts.getCheckout(checkout.id);
    expect(stored?.status).toBe(won[0]!.value.status);
    expect(stored?.version).toBe(2);
    const events = (await checkouts.listEvents(checkout.id)).map((event) => event.type);
    expect(events).toHaveLength(2); // created + the winner's row only
  });

  it('lets exactly one of two concurrent payment updates on the same version win', async () => {
    // Prepare
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    const processing = await checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['open'], to: 'processing' });
    const payment = { paymentToken: 'tok_1', connector: 'sandbox', authorizedAmount: 10050, capturedAmount: 0, voided: false };
    // Act
    const results = await Promise.allSettled([
      checkouts.updatePayment(checkout.id, aPayment({ ...payment, pspReference: 'psp_a' }), processing.version),
      checkouts.updatePayment(checkout.id, aPayment({ ...payment, pspReference: 'psp_b' }), processing.version),
    ]);
    // Assess
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected?.reason).toBeInstanceOf(ConcurrentModificationError);
    expect((await checkouts.getCheckout(checkout.id))?.version).toBe(processing.version + 1);
  });

  it('throws ConcurrentModificationError when the pinned version moved but the status still fits', async () => {
    // Prepare
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    const processing = await checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['open'], to: 'processing' });
    await checkouts.updatePayment(
      checkout.id,
      aPayment({ paymentToken: 'tok_1', connector: 'sandbox', authorizedAmount: 1, capturedAmount: 0, voided: false }),
      processing.version,
    );
    // Act
    const attempt = checkouts.transitionCheckout({
      checkoutId: checkout.id,
      from: ['processing'],
      to: 'succeeded',
      expectedVersion: processing.version,
    });
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ConcurrentModificationError);
  });

  it('applies a patch and writes the timeline row in the same transition', async () => {
    // Prepare
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    await checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['open'], to: 'processing' });
    // Act
    const failed = await checkouts.transitionCheckout({
      checkoutId: checkout.id,
      from: ['processing'],
      to: 'failed',
      patch: { failureReason: 'payment_declined', failureMessage: 'Card declined' },
      event: { type: 'failed', data: { reason: 'payment_declined' } },
    });
    // Assess
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'payment_declined', version: 3 });
    expect(await checkouts.getCheckout(checkout.id)).toEqual(failed);
    const events = await checkouts.listEvents(checkout.id);
    expect(events.at(-1)).toMatchObject({ type: 'failed', data: { reason: 'payment_declined' } });
  });

  it('reads items stored before the instrument became the one money ledger without a captured amount of their own', async () => {
    // Prepare: one item with attempts and the old `capturedAmount`, one older item with flags only
    const facts = { paymentToken: 'tok_1', connector: 'sandbox', pspReference: 'auth_1', authorizedAmount: 10050 };
    const withAttempts = newCheckout();
    const flagged = newCheckout();
    for (const [checkout, payment] of [
      [withAttempts, { ...aPayment({ ...facts, capturedAmount: 10050 }), capturedAmount: 10050 }],
      [flagged, { ...facts, capturedAmount: 10050, voided: false }],
    ] as const) {
      await checkouts.createCheckout(checkout);
      const processing = await checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['open'], to: 'processing' });
      await checkouts.updatePayment(checkout.id, payment as never, processing.version);
    }
    // Act
    const readWithAttempts = (await checkouts.getCheckout(withAttempts.id))?.payment;
    const readFlagged = (await checkouts.getCheckout(flagged.id))?.payment;
    // Assess: no amount is kept on the checkout; without an instrument the captured attempt carries it
    for (const payment of [readWithAttempts, readFlagged]) {
      expect(payment).not.toHaveProperty('capturedAmount');
      expect(payment?.attempts.map((attempt) => attempt.status)).toEqual(['captured']);
      expect(paymentBalances(payment!, undefined)).toEqual({ capturedAmount: 10050, capturableAmount: 0 });
    }
  });

  it('makes a deduplicated event append a no-op the second time', async () => {
    // Prepare
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    const event = { checkoutId: checkout.id, type: 'webhook_delivered' as const, at: new Date().toISOString() };
    // Act
    await checkouts.appendEvent(event, 'webhook:evt_1');
    await checkouts.appendEvent({ ...event, at: new Date(Date.now() + 5).toISOString() }, 'webhook:evt_1');
    // Assess
    expect((await checkouts.listEvents(checkout.id)).filter((e) => e.type === 'webhook_delivered')).toHaveLength(1);
  });

  it('synthesizes the created row from createdAt instead of storing a row item', async () => {
    // Prepare
    const checkout = newCheckout();
    // Act
    await checkouts.createCheckout(checkout);
    const events = await checkouts.listEvents(checkout.id);
    const partition = await documentClient.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `CHECKOUT#${checkout.id}` },
      }),
    );
    // Assess: one item in the checkout's partition, the checkout itself
    expect(events).toEqual([{ checkoutId: checkout.id, type: 'created', at: checkout.createdAt }]);
    expect(partition.Items?.map((item) => item['sk'])).toEqual(['CHECKOUT']);
  });

  it('writes several timeline rows with the status in one conditional write, oldest first', async () => {
    // Prepare
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    await checkouts.transitionCheckout({
      checkoutId: checkout.id,
      from: ['open'],
      to: 'processing',
      event: { type: 'payment_started' },
    });
    // Act
    const done = await checkouts.transitionCheckout({
      checkoutId: checkout.id,
      from: ['processing'],
      to: 'succeeded',
      event: { type: 'authorized', data: { psp_reference: 'psp_1' } },
      events: [{ type: 'inventory_confirmed' }, { type: 'captured', data: { amount: 10050 } }],
    });
    // Assess
    expect(done).toMatchObject({ status: 'succeeded', version: 3 });
    const events = await checkouts.listEvents(checkout.id);
    expect(events.map((event) => event.type)).toEqual([
      'created',
      'payment_started',
      'authorized',
      'inventory_confirmed',
      'captured',
    ]);
    expect(events[2]).toMatchObject({ checkoutId: checkout.id, data: { psp_reference: 'psp_1' } });
    expect(events.slice(2).every((event) => event.at === done.updatedAt)).toBe(true);
    expect(await checkouts.getCheckout(checkout.id)).toEqual(done);
  });

  it('keeps a row appended between the read and the write of a transition', async () => {
    // Prepare: a transition reads version 1; a callback row lands before its write
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    const at = new Date().toISOString();
    // Act
    await checkouts.appendEvent({ checkoutId: checkout.id, type: 'psp_callback', at });
    await checkouts.transitionCheckout({
      checkoutId: checkout.id,
      from: ['open'],
      to: 'processing',
      expectedVersion: 1,
      event: { type: 'payment_started' },
    });
    // Assess
    expect((await checkouts.listEvents(checkout.id)).map((event) => event.type)).toEqual([
      'created',
      'psp_callback',
      'payment_started',
    ]);
  });

  it('dedupes appends per key on the item and creates no item for an append to an unknown checkout', async () => {
    // Prepare
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    const row = { checkoutId: checkout.id, type: 'webhook_delivered' as const, at: new Date().toISOString() };
    // Act
    await Promise.all([checkouts.appendEvent(row, 'webhook:evt_a'), checkouts.appendEvent(row, 'webhook:evt_a')]);
    await checkouts.appendEvent({ ...row, data: { event: 'evt_b' } }, 'webhook:evt_b');
    await checkouts.appendEvent({ ...row, checkoutId: 'chk_missing' });
    // Assess
    const delivered = (await checkouts.listEvents(checkout.id)).filter((event) => event.type === 'webhook_delivered');
    expect(delivered).toHaveLength(2);
    expect(await checkouts.getCheckout('chk_missing')).toBeUndefined();
    expect(await checkouts.listEvents('chk_missing')).toEqual([]);
  });

  it('reads the timeline rows and markers of a checkout written by the previous version', async () => {
    // Prepare: the item, its created row and a deduped row as items, the way the previous version stored them
    const createdAt = new Date(Date.now() - 60_000).toISOString();
    const checkout = newCheckout({ createdAt, updatedAt: createdAt });
    const { pk, sk } = { pk: `CHECKOUT#${checkout.id}`, sk: 'CHECKOUT' };
    const { expiresAt, ...fields } = checkout;
    const later = new Date(Date.parse(checkout.createdAt) + 1000).toISOString();
    await documentClient.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: db.tableName,
              Item: {
                pk,
                sk,
                entity: 'checkout',
                gsi1pk: `MERCHANT#${checkout.merchantId}#CHECKOUTS`,
                gsi1sk: `${checkout.createdAt}#${checkout.id}`,
                ...fields,
                checkoutExpiresAt: expiresAt,
              },
            },
          },
          {
            Put: {
              TableName: db.tableName,
              Item: {
                pk,
                sk: `EVENT#${checkout.createdAt}#created#aaaa`,
                entity: 'checkout_event',
                checkoutId: checkout.id,
                type: 'created',
                at: checkout.createdAt,
              },
            },
          },
          {
            Put: {
              TableName: db.tableName,
              Item: {
                pk,
                sk: `EVENT#${later}#psp_callback#bbbb`,
                entity: 'checkout_event',
                checkoutId: checkout.id,
                type: 'psp_callback',
                at: later,
              },
            },
          },
          { Put: { TableName: db.tableName, Item: { pk, sk: 'EVENTKEY#callback:1', entity: 'checkout_event_key', at: later } } },
        ],
      }),
    );
    // Act
    const moved = await checkouts.transitionCheckout({
      checkoutId: checkout.id,
      from: ['open'],
      to: 'canceled',
      event: { type: 'canceled' },
    });
    const events = await checkouts.listEvents(checkout.id);
    // Assess
    expect(moved).toMatchObject({ status: 'canceled', version: 2 });
    expect(await checkouts.getCheckout(checkout.id)).toEqual(moved);
    expect(events.map((event) => event.type)).toEqual(['created', 'psp_callback', 'canceled']);
  });

  it("lists a merchant's checkouts newest first with a cursor", async () => {
    // Prepare
    const merchantId = generateMerchantId();
    const created: Checkout[] = [];
    for (let i = 0; i < 3; i += 1) {
      const at = new Date(Date.UTC(2030, 0, 1, 0, 0, i)).toISOString();
      const checkout = newCheckout({ merchantId, createdAt: at, updatedAt: at });
      await checkouts.createCheckout(checkout);
      created.push(checkout);
    }
    // Act
    const first = await listing.listCheckoutsByMerchant(merchantId, { limit: 2 });
    const second = await listing.listCheckoutsByMerchant(merchantId, { limit: 2, cursor: first.nextCursor! });
    // Assess
    expect(first.checkouts.map((c) => c.id)).toEqual([created[2]!.id, created[1]!.id]);
    expect(second.checkouts.map((c) => c.id)).toEqual([created[0]!.id]);
    expect(second.nextCursor).toBeUndefined();
  });
});

describe('DynamoCheckoutRepository listing on gsi2', () => {
  it('pages through gsi2 entries, then the gsi1 entries of items written by the previous version', async () => {
    // Prepare: 4 checkouts created now (gsi2) and 2 older items as the previous version wrote them (gsi1)
    const merchantId = generateMerchantId();
    const created: Checkout[] = [];
    for (let i = 0; i < 6; i += 1) {
      const at = new Date(Date.UTC(2031, 0, 1, 0, 0, i)).toISOString();
      const checkout = newCheckout({ merchantId, createdAt: at, updatedAt: at });
      if (i < 2) {
        const { expiresAt, ...fields } = checkout;
        await documentClient.send(
          new PutCommand({
            TableName: db.tableName,
            Item: {
              pk: `CHECKOUT#${checkout.id}`,
              sk: 'CHECKOUT',
              entity: 'checkout',
              gsi1pk: `MERCHANT#${merchantId}#CHECKOUTS`,
              gsi1sk: `${at}#${checkout.id}`,
              ...fields,
              checkoutExpiresAt: expiresAt,
            },
          }),
        );
      } else {
        await checkouts.createCheckout(checkout);
      }
      created.push(checkout);
    }
    // Act: pages of 3, 2 and whatever is left (every boundary: inside gsi2, across, inside gsi1)
    const pages: string[][] = [];
    let cursor: string | undefined;
    for (const limit of [3, 2, 5]) {
      const page = await listing.listCheckoutsByMerchant(merchantId, { limit, ...(cursor !== undefined ? { cursor } : {}) });
      pages.push(page.checkouts.map((checkout) => checkout.id));
      cursor = page.nextCursor;
    }
    const exact = await listing.listCheckoutsByMerchant(merchantId, { limit: 4 });
    // Assess
    const newestFirst = [...created].reverse().map((checkout) => checkout.id);
    expect(pages).toEqual([newestFirst.slice(0, 3), newestFirst.slice(3, 5), newestFirst.slice(5)]);
    expect(cursor).toBeUndefined();
    expect(exact.checkouts.map((checkout) => checkout.id)).toEqual(newestFirst.slice(0, 4));
    expect(exact.nextCursor).toBeDefined();
    expect((await listing.listCheckoutsByMerchant(merchantId, { limit: 2 })).checkouts[0]).toEqual(created[5]);
  });

  it("refuses a cursor from another merchant's list shape or a forged one", async () => {
    // Prepare
    const forged = Buffer.from(JSON.stringify(['g2', '2031', 'MERCHANT#x'])).toString('base64url');
    // Act
    const attempt = listing.listCheckoutsByMerchant(generateMerchantId(), { limit: 2, cursor: forged });
    // Assess
    await expect(attempt).rejects.toMatchObject({ param: 'cursor' });
  });
});

describe('DynamoRecoveryStore with the checkout writes', () => {
  it('lists a processing checkout and an unpublished terminal one, the latter since its result, until forgotten', async () => {
    // Prepare
    const recovery = new DynamoRecoveryStore(documentClient, db.tableName);
    const processing = newCheckout();
    const terminal = newCheckout();
    const reopened = newCheckout({ maxPaymentAttempts: 2 });
    for (const checkout of [processing, terminal, reopened]) {
      await checkouts.createCheckout(checkout);
      await checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['open'], to: 'processing' });
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    const done = await checkouts.transitionCheckout({
      checkoutId: terminal.id,
      from: ['processing'],
      to: 'failed',
      patch: { failureReason: 'payment_declined' },
    });
    await checkouts.transitionCheckout({ checkoutId: reopened.id, from: ['processing'], to: 'open' });
    // Act
    const watched = await recovery.listProcessing(1000);
    await recovery.forgetCheckout(terminal.id);
    const afterForget = await recovery.listProcessing(1000);
    // Assess
    const byId = new Map(watched.map((watch) => [watch.checkoutId, watch]));
    expect(byId.get(processing.id)?.since).toBeDefined();
    expect(byId.get(terminal.id)?.since).toBe(done.updatedAt);
    expect(byId.get(processing.id)!.since < done.updatedAt).toBe(true);
    expect(byId.has(reopened.id)).toBe(false);
    expect(afterForget.map((watch) => watch.checkoutId)).not.toContain(terminal.id);
    expect(afterForget.map((watch) => watch.checkoutId)).toContain(processing.id);
  });

  it("keeps the sweep's lease when the saga writes the checkout", async () => {
    // Prepare
    const recovery = new DynamoRecoveryStore(documentClient, db.tableName);
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    await checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['open'], to: 'processing' });
    const now = new Date();
    expect(await recovery.claimCheckout(checkout.id, 'sweep-a', now, new Date(now.getTime() + 60_000))).toBe(true);
    // Act
    await checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['processing'], to: 'succeeded' });
    const rival = await recovery.claimCheckout(checkout.id, 'sweep-b', now, new Date(now.getTime() + 60_000));
    // Assess
    expect(rival).toBe(false);
    const watch = (await recovery.listProcessing(1000)).find((entry) => entry.checkoutId === checkout.id);
    expect(watch).toMatchObject({ leaseOwner: 'sweep-a' });
  });
});

describe('DynamoCheckoutRepository transitions on a checkout the caller read', () => {
  it("writes on the caller's read without reading again, and records the pay request in the same write", async () => {
    // Prepare
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    const { client, calls } = recordingClient();
    const recorded = new DynamoCheckoutRepository(client, db.tableName);
    const current = await checkouts.getCheckout(checkout.id);
    // Act
    const next = await recorded.transitionCheckout({
      checkoutId: checkout.id,
      from: ['open'],
      to: 'processing',
      current: current!,
      event: { type: 'payment_started' },
      payRequest: { mark: 'mark_first_request_00', tryNumber: 1 },
    });
    client.destroy();
    const stored = await checkouts.getCheckout(checkout.id);
    // Assess: the checkout only (its recovery watch is set in the same write); no read
    expect(calls.map((call) => call.command)).toEqual(['UpdateItemCommand']);
    expect(next.payRequests).toEqual([{ mark: 'mark_first_request_00', tryNumber: 1 }]);
    expect(stored).toEqual(next);
  });

  it('reads afresh when the checkout it was given is stale, and keeps the pay requests recorded before', async () => {
    // Prepare
    const checkout = newCheckout({ maxPaymentAttempts: 2 });
    await checkouts.createCheckout(checkout);
    const stale = await checkouts.getCheckout(checkout.id);
    await checkouts.transitionCheckout({
      checkoutId: checkout.id,
      from: ['open'],
      to: 'processing',
      payRequest: { mark: 'mark_first_request_00', tryNumber: 1 },
    });
    await checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['processing'], to: 'open' });
    // Act
    const next = await checkouts.transitionCheckout({
      checkoutId: checkout.id,
      from: ['open'],
      to: 'processing',
      current: stale!,
      payRequest: {
        mark: 'mark_second_request_0',
        tryNumber: 2,
        lastPaymentError: { code: 'card_declined', message: 'Declined' },
      },
    });
    // Assess
    expect(next.version).toBe(4);
    expect((await checkouts.getCheckout(checkout.id))?.payRequests).toEqual([
      { mark: 'mark_first_request_00', tryNumber: 1 },
      { mark: 'mark_second_request_0', tryNumber: 2, lastPaymentError: { code: 'card_declined', message: 'Declined' } },
    ]);
  });
});

describe('DynamoCheckoutRepository timeline from the checkout the caller read', () => {
  it('answers from that read with no second call, the same rows a query gives, and queries for any other copy', async () => {
    // Prepare: a checkout with rows on its item, and a row appended after the read
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    await checkouts.transitionCheckout({
      checkoutId: checkout.id,
      from: ['open'],
      to: 'processing',
      event: { type: 'payment_started' },
    });
    const { client, calls } = recordingClient();
    const recorded = new DynamoCheckoutRepository(client, db.tableName);
    const read = await recorded.getCheckout(checkout.id);
    await checkouts.appendEvent({ checkoutId: checkout.id, type: 'psp_callback', at: new Date().toISOString() });
    // Act
    const fromRead = await recorded.listEvents(checkout.id, read);
    const afterRead = calls.map((call) => call.command);
    const fromCopy = await recorded.listEvents(checkout.id, { ...read! });
    const queried = await recorded.listEvents(checkout.id);
    client.destroy();
    // Assess: the read's snapshot (no row appended after it), then the item as it is now
    expect(afterRead).toEqual(['GetItemCommand']);
    expect(fromRead.map((event) => event.type)).toEqual(['created', 'payment_started']);
    expect(fromCopy.map((event) => event.type)).toEqual(['created', 'payment_started', 'psp_callback']);
    expect(queried).toEqual(fromCopy);
    expect(calls.map((call) => call.command)).toEqual(['GetItemCommand', 'QueryCommand', 'QueryCommand']);
  });

  it("queries a previous-version item's partition even when given its read, so its old rows are kept", async () => {
    // Prepare: an item without gsi2 keys and a timeline row item beside it, as the previous version stored them
    const checkout = newCheckout();
    const { expiresAt, ...fields } = checkout;
    const pk = `CHECKOUT#${checkout.id}`;
    const later = new Date(Date.parse(checkout.createdAt) + 1000).toISOString();
    await documentClient.send(
      new PutCommand({
        TableName: db.tableName,
        Item: {
          pk,
          sk: 'CHECKOUT',
          entity: 'checkout',
          gsi1pk: `MERCHANT#${checkout.merchantId}#CHECKOUTS`,
          gsi1sk: `${checkout.createdAt}#${checkout.id}`,
          ...fields,
          checkoutExpiresAt: expiresAt,
        },
      }),
    );
    await documentClient.send(
      new PutCommand({
        TableName: db.tableName,
        Item: {
          pk,
          sk: `EVENT#${later}#psp_callback#cccc`,
          entity: 'checkout_event',
          checkoutId: checkout.id,
          type: 'psp_callback',
          at: later,
        },
      }),
    );
    const read = await checkouts.getCheckout(checkout.id);
    // Act
    const events = await checkouts.listEvents(checkout.id, read);
    // Assess
    expect(events.map((event) => event.type)).toEqual(['created', 'psp_callback']);
  });
});

describe('DynamoCheckoutRepository payment updates on a checkout the caller read', () => {
  const payment = { paymentToken: 'tok_1', connector: 'sandbox', authorizedAmount: 10050, capturedAmount: 0, voided: false };

  it("writes on the caller's read with one UpdateItem and no GetItem, and stores what a re-read would", async () => {
    // Prepare
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    const processing = await checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['open'], to: 'processing' });
    const { client, calls } = recordingClient();
    const recorded = new DynamoCheckoutRepository(client, db.tableName);
    // Act
    const next = await recorded.updatePayment(
      checkout.id,
      aPayment({ ...payment, pspReference: 'psp_read' }),
      processing.version,
      { type: 'authorized', data: { psp_reference: 'psp_read' } },
      processing,
    );
    client.destroy();
    // Assess
    // The checkout's UpdateItem first, then the connector counter's (the attempt moved); no read.
    expect(calls.map((call) => call.command)).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    const stored = await checkouts.getCheckout(checkout.id);
    expect(stored).toEqual(next);
    expect(stored?.version).toBe(processing.version + 1);
    expect((await checkouts.listEvents(checkout.id)).map((event) => event.type)).toContain('authorized');
  });

  it("refuses a stale read: the write's version condition fails, and nothing changes", async () => {
    // Prepare
    const checkout = newCheckout();
    await checkouts.createCheckout(checkout);
    const processing = await checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['open'], to: 'processing' });
    const moved = await checkouts.updatePayment(
      checkout.id,
      aPayment({ ...payment, pspReference: 'psp_first' }),
      processing.version,
    );
    // Act
    const attempt = checkouts.updatePayment(
      checkout.id,
      aPayment({ ...payment, pspReference: 'psp_stale' }),
      processing.version,
      undefined,
      processing,
    );
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ConcurrentModificationError);
    expect(await checkouts.getCheckout(checkout.id)).toEqual(moved);
  });
});

describe('write requests and units of a checkout', () => {
  it('makes each status change one UpdateItem of the checkout item, with no transaction, and an index write only where the recovery watch starts and ends', async () => {
    // Prepare: a client that records every call with the capacity DynamoDB Local reports
    const calls: { command: string; units: number }[] = [];
    const counted = createDocumentClient({ ...LOCAL_AWS, endpoint: db.endpoint });
    counted.middlewareStack.add((next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input['ReturnConsumedCapacity'] = 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] })
        .ConsumedCapacity;
      const rows = Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed];
      calls.push({ command: context.commandName ?? '?', units: rows.reduce((sum, row) => sum + (row.CapacityUnits ?? 0), 0) });
      return result;
    });
    const repository = new DynamoCheckoutRepository(counted, db.tableName);
    const checkout = newCheckout();
    const writes = () => calls.filter((call) => !/^(Get|Query|BatchGet)/.test(call.command));
    const step = async (action: () => Promise<unknown>) => {
      calls.length = 0;
      await action();
      return writes().map((call) => `${call.command}:${call.units}`);
    };
    const payment = aPayment(
      {
        paymentToken: 'tok_1',
        connector: 'sandbox',
        authorizedAmount: 10050,
        capturedAmount: 0,
        voided: false,
        pspReference: 'psp_1',
      },
      { id: checkout.id },
    );
    // Act
    const create = await step(() => repository.createCheckout(checkout));
    const pay = await step(() =>
      repository.transitionCheckout({
        checkoutId: checkout.id,
        from: ['open'],
        to: 'processing',
        event: { type: 'payment_started' },
      }),
    );
    const succeed = await step(() =>
      repository.transitionCheckout({
        checkoutId: checkout.id,
        from: ['processing'],
        to: 'succeeded',
        patch: { payment },
        event: { type: 'authorized' },
        events: [{ type: 'inventory_confirmed' }, { type: 'captured' }],
      }),
    );
    const delivered = await step(() =>
      repository.appendEvent(
        { checkoutId: checkout.id, type: 'webhook_delivered', at: new Date().toISOString() },
        'webhook:evt_1',
      ),
    );
    const forget = await step(() => new DynamoRecoveryStore(counted, db.tableName).forgetCheckout(checkout.id));
    counted.destroy();
    const { Item: stored } = await documentClient.send(
      new GetCommand({ TableName: db.tableName, Key: { pk: `CHECKOUT#${checkout.id}`, sk: 'CHECKOUT' } }),
    );
    // Assess: one request per status change on the checkout item (DynamoDB Local's units: 1 per
    // KB of the item, 1 per gsi3 entry put or removed), plus one connector counter when the attempt
    // changed; the recovery watch is the checkout's own gsi3 entry: set at pay, removed by forget
    console.info('checkout write requests:units', { create, pay, succeed, delivered, forget });
    const itemUnits = Math.max(1, Math.ceil(dynamoItemBytes(stored!) / 1024));
    expect(create).toEqual([expect.stringMatching(/^TransactWriteItemsCommand:/)]); // checkout + order-ref claim
    expect(pay).toEqual(['UpdateItemCommand:2']); // the checkout and its gsi3 watch entry
    expect(succeed).toEqual([`UpdateItemCommand:${itemUnits}`, 'UpdateItemCommand:1']); // the checkout, then its counter
    expect(delivered).toEqual([`UpdateItemCommand:${itemUnits}`]);
    expect(forget).toEqual([`UpdateItemCommand:${itemUnits + 1}`]); // the checkout, its gsi3 entry removed
    expect(itemUnits).toBeLessThanOrEqual(2);
  });
});

describe('size of the checkout item along a successful payment (compact layout)', () => {
  /**
   * The bench's checkout (bench/checkout-driver.ts) through the saga's writes: pay, authorization
   * (with the merchant's inventory confirmation), the decision, the terminal write. Each write
   * costs 1 unit per KB of the larger of the item before and after it.
   */
  async function successfulPayment(repository: DynamoCheckoutRepository, checkout: Checkout) {
    const at = (offset: number) => new Date(Date.parse(checkout.createdAt) + offset).toISOString();
    const attempt = newAttempt({
      id: 'att_1iJcKWxi7B3PlboTtcyalQ',
      connector: 'sandbox',
      amount: 1000,
      currency: 'USD',
      at: at(170),
    });
    const steps: { name: string; write: () => Promise<unknown> }[] = [];
    let current = checkout;
    steps.push({ name: 'create', write: () => repository.createCheckout(checkout) });
    steps.push({
      name: 'pay',
      write: async () =>
        (current = await repository.transitionCheckout({
          checkoutId: checkout.id,
          from: ['open'],
          to: 'processing',
          patch: { payment: { paymentToken: 'tok_3c94de2711e705c416efbbf4', attempts: [attempt] } },
          event: { type: 'payment_started', at: at(170), data: { connector: 'sandbox' } },
        })),
    });
    const pspReference = 'auth_2235ef34c1c89f1d0d57215c';
    steps.push({
      name: 'authorize',
      write: async () =>
        (current = await repository.updatePayment(
          checkout.id,
          {
            ...current.payment!,
            inventoryConfirmation: 'pending',
            instrumentId: instrumentIdForCheckout(checkout.id),
            attempts: [{ ...attempt, status: 'authorized', pspReference, authorizedAmount: 1000, updatedAt: at(350) }],
          },
          current.version,
          { type: 'authorized', at: at(350), data: { amount: 1000, psp_reference: pspReference } },
        )),
    });
    steps.push({
      name: 'decision',
      write: async () =>
        (current = await repository.updatePayment(
          checkout.id,
          { ...current.payment!, inventoryConfirmation: 'confirmed' },
          current.version,
          {
            type: 'inventory_confirmed',
            at: at(410),
            data: { sent_at: at(402), http_status: 200, url: 'https://shop.example/inventory-confirmation', latency_ms: 4 },
          },
        )),
    });
    steps.push({
      name: 'terminal',
      write: async () =>
        (current = await repository.transitionCheckout({
          checkoutId: checkout.id,
          from: ['processing'],
          to: 'succeeded',
          patch: {
            payment: {
              ...current.payment!,
              attempts: [{ ...current.payment!.attempts[0]!, status: 'captured', updatedAt: at(490) }],
            },
          },
          event: { type: 'captured', at: at(498), data: { amount: 1000, psp_operation_id: 'op_c79b391a98b07843410705e1' } },
          events: [{ type: 'succeeded', at: at(498) }],
        })),
    });
    return steps;
  }

  const benchCheckout = () =>
    newCheckout({
      merchantId: 'mer_CMsImDaFZM0bFyFAb9roHQ',
      merchantOrderRef: `bench-sizing-${Math.random().toString(36).slice(2, 10)}-22`,
      amount: 1000,
      items: [{ name: 'bench-item', unitAmount: 1000, quantity: 1, sku: 'bench-item' }] as Checkout['items'],
      successUrl: 'https://shop.example/thanks',
      failureUrl: 'https://shop.example/sorry',
      clientSecretHash: sha256Hex('cs_bench'),
    });

  it('keeps the item under 1 KB at every write, so each checkout write costs 1 unit (2 in the create transaction)', async () => {
    // Prepare
    const checkout = benchCheckout();
    const read = async () =>
      (
        await documentClient.send(
          new GetCommand({ TableName: db.tableName, Key: { pk: `CHECKOUT#${checkout.id}`, sk: 'CHECKOUT' } }),
        )
      ).Item!;
    // Act
    const sizes: Record<string, number> = {};
    for (const step of await successfulPayment(checkouts, checkout)) {
      await step.write();
      sizes[step.name] = dynamoItemBytes(await read());
    }
    // Assess: 1 unit per write (the previous layout: 608, 885, 1152, 1325, 1472 bytes, the last three 2 units)
    console.info('checkout item bytes per step', sizes);
    for (const [name, bytes] of Object.entries(sizes))
      expect({ name, units: Math.ceil(bytes / 1024) }).toEqual({ name, units: 1 });
    expect(sizes['terminal']).toBeLessThanOrEqual(1000);
    // What the API reads back is the checkout it wrote.
    const stored = await checkouts.getCheckout(checkout.id);
    expect(stored).toMatchObject({
      merchantId: checkout.merchantId,
      createdAt: checkout.createdAt,
      clientSecretHash: checkout.clientSecretHash,
    });
    expect(stored?.payment?.instrumentId).toBe(instrumentIdForCheckout(checkout.id));
    expect(stored?.payment?.attempts[0]).toMatchObject({ amount: 1000, currency: 'USD', status: 'captured' });
  });

  it('reads an item rewritten in the previous layout exactly as the compact one', async () => {
    // Prepare: a payment written now, then its item rewritten in the previous layout (full names,
    // ISO strings, merchantId and createdAt stored, timeline rows as maps, the secret hash in hex)
    const checkout = benchCheckout();
    for (const step of await successfulPayment(checkouts, checkout)) await step.write();
    const compact = { checkout: await checkouts.getCheckout(checkout.id), events: await checkouts.listEvents(checkout.id) };
    const { id: _id, expiresAt, ...fields } = compact.checkout!;
    await documentClient.send(
      new PutCommand({
        TableName: db.tableName,
        Item: {
          pk: `CHECKOUT#${checkout.id}`,
          sk: 'CHECKOUT',
          entity: 'checkout',
          gsi2pk: `MERCHANT#${checkout.merchantId}#CHECKOUTS`,
          gsi2sk: `${checkout.createdAt}#${checkout.id}`,
          ...fields,
          checkoutExpiresAt: expiresAt,
          events: compact.events.slice(1).map(({ checkoutId: _checkout, ...row }) => row),
        },
      }),
    );
    // Act
    const previous = { checkout: await checkouts.getCheckout(checkout.id), events: await checkouts.listEvents(checkout.id) };
    // Assess: the same checkout; the API's checkout and timeline answers byte for byte
    expect(previous.checkout).toEqual(compact.checkout);
    const answer = (read: typeof compact) =>
      JSON.stringify({
        checkout: toCheckoutView(read.checkout!, {
          checkoutBaseUrl: 'https://pay.example',
          events: read.events,
          instrument: undefined,
        }),
        timeline: read.events.map(toEventView),
      });
    expect(answer(previous)).toBe(answer(compact));
    expect(compact.checkout).toMatchObject({ merchantId: checkout.merchantId, createdAt: checkout.createdAt });
    expect(compact.events.map((event) => event.type)).toEqual([
      'created',
      'payment_started',
      'authorized',
      'inventory_confirmed',
      'captured',
      'succeeded',
    ]);
  });
});

describe('DynamoIdempotencyStore', () => {
  const response = { statusCode: 201, headers: { 'content-type': 'application/json' }, body: 'v1:opaque' };

  it('claims once, reports in-flight, then replays the stored response', async () => {
    // Prepare
    const now = new Date();
    // Act
    const first = await idempotency.begin('merchant:mer_1', 'key-1', now);
    const second = await idempotency.begin('merchant:mer_1', 'key-1', now);
    await idempotency.complete('merchant:mer_1', 'key-1', response);
    const third = await idempotency.begin('merchant:mer_1', 'key-1', now);
    const otherScope = await idempotency.begin('merchant:mer_2', 'key-1', now);
    // Assess
    expect(first).toMatchObject({ kind: 'started' });
    expect(second).toMatchObject({ kind: 'in_flight' });
    expect(third).toEqual({ kind: 'replay', response });
    expect(otherScope).toMatchObject({ kind: 'started' });
  });

  it('grants exactly one of 10 concurrent claims', async () => {
    // Act
    const results = await Promise.all(Array.from({ length: 10 }, () => idempotency.begin('admin', 'race', new Date())));
    // Assess
    expect(results.filter((r) => r.kind === 'started')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'in_flight')).toHaveLength(9);
  });

  it('lets an abandoned claim be taken over after the lock timeout, and a released one at once', async () => {
    // Prepare
    const start = new Date();
    await idempotency.begin('admin', 'stale', start);
    await idempotency.begin('admin', 'released', start);
    await idempotency.release('admin', 'released');
    // Act
    const early = await idempotency.begin('admin', 'stale', new Date(start.getTime() + 30_000));
    const late = await idempotency.begin('admin', 'stale', new Date(start.getTime() + 61_000));
    const again = await idempotency.begin('admin', 'released', start);
    // Assess
    expect(early).toMatchObject({ kind: 'in_flight' });
    expect(late).toMatchObject({ kind: 'started' });
    expect(again).toMatchObject({ kind: 'started' });
  });

  it('keeps records for 24 hours through the TTL attribute', async () => {
    // Prepare
    const now = new Date();
    // Act
    await idempotency.begin('admin', 'ttl', now);
    await idempotency.complete('admin', 'ttl', response);
    const { Item } = await documentClient.send(
      new GetCommand({ TableName: db.tableName, Key: { pk: 'IDEMP#admin#ttl', sk: 'IDEMP' } }),
    );
    // Assess
    const expiresAt = Item?.['expiresAt'] as number;
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(now.getTime() / 1000) + 86_400 - 5);
    expect(expiresAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 86_400 + 5);
  });
});

describe('store failures', () => {
  it('turns an unreachable store into StoreUnavailableError', async () => {
    // Prepare
    const port = await freePort();
    const down = createDocumentClient({ ...LOCAL_AWS, endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });
    const repository = new DynamoCheckoutRepository(down, 'paystep');
    // Act
    const attempt = repository.getCheckout('chk_x');
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(StoreUnavailableError);
    down.destroy();
  });
});

/**
 * The DynamoDB adapters against DynamoDB Local: conditional writes, transactions and the
 * idempotency claim behave as the ports promise under races.
 */
import { aPayment } from '../support/payments';
import { paymentBalances } from '../../lambdas/domain/authorization-hold';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal, LOCAL_AWS, type DynamoDbLocal } from '../../local/dynamodb-local';
import { freePort } from '../../local/net';
import { DynamoCheckoutRepository, DynamoIdempotencyStore, DynamoMerchantRepository } from '../../lambdas/adapters/dynamo-store';
import {
  ConcurrentModificationError,
  DuplicateOrderRefError,
  InvalidTransitionError,
  NotFoundError,
  StoreUnavailableError,
} from '../../lambdas/errors';
import { generateCheckoutId, generateMerchantId, sha256Hex } from '../../lambdas/domain/ids';
import type { Checkout, Merchant } from '../../lambdas/domain/model';

let db: DynamoDbLocal;
let documentClient: DynamoDBDocumentClient;
let merchants: DynamoMerchantRepository;
let checkouts: DynamoCheckoutRepository;
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

beforeAll(async () => {
  db = await startDynamoDbLocal();
  documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ ...LOCAL_AWS, endpoint: db.endpoint }));
  merchants = new DynamoMerchantRepository(documentClient, db.tableName);
  checkouts = new DynamoCheckoutRepository(documentClient, db.tableName);
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

  it('reports an unknown merchant as not found on update', async () => {
    await expect(merchants.updateSettings('mer_nope', { inventoryConfirmationEnabled: false }, 1)).rejects.toBeInstanceOf(
      NotFoundError,
    );
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
    expect(Item?.['checkoutExpiresAt']).toBe(checkout.expiresAt);
    expect(Item?.['gsi1pk']).toBe(`MERCHANT#${checkout.merchantId}#CHECKOUTS`);
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
    const first = await checkouts.listCheckoutsByMerchant(merchantId, { limit: 2 });
    const second = await checkouts.listCheckoutsByMerchant(merchantId, { limit: 2, cursor: first.nextCursor! });
    // Assess
    expect(first.checkouts.map((c) => c.id)).toEqual([created[2]!.id, created[1]!.id]);
    expect(second.checkouts.map((c) => c.id)).toEqual([created[0]!.id]);
    expect(second.nextCursor).toBeUndefined();
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
    const down = DynamoDBDocumentClient.from(
      new DynamoDBClient({ ...LOCAL_AWS, endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 }),
    );
    const repository = new DynamoCheckoutRepository(down, 'paystep');
    // Act
    const attempt = repository.getCheckout('chk_x');
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(StoreUnavailableError);
    down.destroy();
  });
});

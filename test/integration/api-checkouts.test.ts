/**
 * The checkout API end to end in-process: real handlers, real DynamoDB Local, API Gateway v2
 * events. Covers creation, lookups, the browser's public view, cancel, lazy expiry, merchant
 * isolation, order-ref uniqueness and Idempotency-Key replay under concurrency.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { checkoutBody, startApiTestEnv, type ApiTestEnv } from './api-test-kit';

let env: ApiTestEnv;
let shop: { id: string; secretKey: string };
let otherShop: { id: string; secretKey: string };

beforeAll(async () => {
  env = await startApiTestEnv();
  shop = await env.createMerchant('Shop A');
  otherShop = await env.createMerchant('Shop B');
});

afterAll(async () => {
  await env?.stop();
});

describe('POST /v1/checkouts', () => {
  it('creates an open checkout with a checkout URL and a one-time client secret', async () => {
    // Prepare
    const body = checkoutBody();
    // Act
    const response = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body });
    // Assess
    expect(response.status).toBe(201);
    expect(response.headers['content-type']).toBe('application/json');
    const checkout = response.json;
    expect(checkout).toMatchObject({
      object: 'checkout',
      status: 'open',
      merchant_order_ref: body['merchant_order_ref'],
      amount: 10050,
      currency: 'USD',
      items: [{ sku: 'SKU-1', name: 'Mug', quantity: 2, unit_amount: 5025 }],
      customer: { email: 'buyer@example.com', name: 'Ada Buyer' },
      payment: null,
      failure_reason: null,
      capture_method: 'automatic',
    });
    expect(checkout.id).toMatch(/^chk_[A-Za-z0-9_-]{20,}$/);
    expect(checkout.client_secret).toMatch(/^cs_[A-Za-z0-9_-]{40,}$/);
    expect(checkout.checkout_url).toBe(`http://127.0.0.1:8080/checkout/${checkout.id}#${checkout.client_secret}`);
    expect(Date.parse(checkout.expires_at) - Date.parse(checkout.created_at)).toBe(86_400_000);
    expect(checkout.events).toEqual([{ type: 'created', at: checkout.created_at, data: {} }]);
  });

  it("accepts capture_method manual (Stripe's term) and shows it on every read", async () => {
    // Act
    const created = await env.call('POST', '/v1/checkouts', {
      token: shop.secretKey,
      body: checkoutBody({ capture_method: 'manual' }),
    });
    const read = await env.call('GET', `/v1/checkouts/${created.json.id}`, { token: shop.secretKey });
    // Assess
    expect([created.status, created.json.capture_method]).toEqual([201, 'manual']);
    expect([read.status, read.json.capture_method]).toEqual([200, 'manual']);
  });

  it('never shows the client secret again', async () => {
    // Prepare
    const created = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody() });
    // Act
    const read = await env.call('GET', `/v1/checkouts/${created.json.id}`, { token: shop.secretKey });
    // Assess
    expect(read.status).toBe(200);
    expect(read.json.client_secret).toBeUndefined();
    expect(read.rawBody).not.toContain(created.json.client_secret);
  });

  it('falls back to the merchant default return URLs, and needs one or the other', async () => {
    // Prepare
    const merchant = await env.createMerchant('Defaults', {
      default_success_url: 'http://127.0.0.1:3002/ok',
      default_failure_url: 'http://127.0.0.1:3002/ko',
    });
    const { success_url: _s, failure_url: _f, ...withoutUrls } = checkoutBody();
    // Act
    const withDefaults = await env.call('POST', '/v1/checkouts', { token: merchant.secretKey, body: withoutUrls });
    const withoutDefaults = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: withoutUrls });
    // Assess
    expect(withDefaults.status).toBe(201);
    expect(withDefaults.json.success_url).toBe('http://127.0.0.1:3002/ok');
    expect(withDefaults.json.failure_url).toBe('http://127.0.0.1:3002/ko');
    expect(withoutDefaults.status).toBe(422);
    expect(withoutDefaults.json.error).toMatchObject({ code: 'parameter_missing', param: 'success_url' });
  });

  it.each([
    ['negative amount', { amount: -1 }, 422, 'invalid_amount', 'amount'],
    ['fractional amount', { amount: 100.5 }, 422, 'invalid_amount', 'amount'],
    ['amount as a string', { amount: '100' }, 400, 'invalid_request', 'amount'],
    ['unknown currency', { currency: 'ABC' }, 422, 'invalid_currency', 'currency'],
    ['non-currency XAU', { currency: 'XAU' }, 422, 'invalid_currency', 'currency'],
    ['no items', { items: [] }, 422, 'invalid_parameter', 'items'],
    ['zero quantity', { items: [{ sku: 'A', quantity: 0 }] }, 422, 'invalid_quantity', 'items.0.quantity'],
    ['unknown field', { colour: 'red' }, 400, 'unknown_parameter', 'colour'],
    ['too short expiry', { expires_in_seconds: 59 }, 422, 'invalid_expires_in_seconds', 'expires_in_seconds'],
    ['ftp success_url', { success_url: 'ftp://x.example/' }, 422, 'invalid_url', 'success_url'],
    ['ref too long', { merchant_order_ref: 'x'.repeat(129) }, 422, 'invalid_parameter', 'merchant_order_ref'],
    ['unknown capture_method', { capture_method: 'later' }, 422, 'invalid_parameter', 'capture_method'],
  ])('rejects %s with the error shape', async (_name, override, status, code, param) => {
    // Act
    const response = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody(override) });
    // Assess
    expect(response.status).toBe(status);
    expect(response.json).toEqual({ error: { code, message: expect.any(String), param, request_id: expect.any(String) } });
  });

  it('rejects malformed and oversized bodies with 4xx, never 500', async () => {
    // Act
    const malformed = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, rawBody: '{"amount": 1,' });
    const array = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, rawBody: '[1,2]' });
    const huge = await env.call('POST', '/v1/checkouts', {
      token: shop.secretKey,
      body: checkoutBody({ merchant_order_ref: 'x', items: [{ sku: 'a'.repeat(70_000), quantity: 1 }] }),
    });
    const base64 = await env.call('POST', '/v1/checkouts', {
      token: shop.secretKey,
      body: checkoutBody(),
      isBase64Encoded: true,
    });
    // Assess
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe('invalid_json');
    expect(array.status).toBe(400);
    expect(array.json.error.code).toBe('invalid_request');
    expect(huge.status).toBe(413);
    expect(huge.json.error.code).toBe('body_too_large');
    expect(base64.status).toBe(201);
  });

  it('gives exactly one of two concurrent creates the merchant_order_ref', async () => {
    // Prepare
    const body = checkoutBody({ merchant_order_ref: 'concurrent-ref' });
    // Act
    const responses = await Promise.all([
      env.call('POST', '/v1/checkouts', { token: shop.secretKey, body }),
      env.call('POST', '/v1/checkouts', { token: shop.secretKey, body }),
    ]);
    // Assess
    expect(responses.map((r) => r.status).sort()).toEqual([201, 409]);
    const conflict = responses.find((r) => r.status === 409)!;
    expect(conflict.json.error).toMatchObject({ code: 'duplicate_merchant_order_ref', param: 'merchant_order_ref' });
    const lookup = await env.call('GET', '/v1/checkouts?merchant_order_ref=concurrent-ref', { token: shop.secretKey });
    expect(lookup.json.id).toBe(responses.find((r) => r.status === 201)!.json.id);
  });

  it('lets another merchant use the same merchant_order_ref', async () => {
    // Prepare
    const body = checkoutBody({ merchant_order_ref: 'shared-ref' });
    // Act
    const a = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body });
    const b = await env.call('POST', '/v1/checkouts', { token: otherShop.secretKey, body });
    // Assess
    expect([a.status, b.status]).toEqual([201, 201]);
  });
});

describe('Idempotency-Key on POST /v1/checkouts', () => {
  it('creates one checkout for 20 concurrent requests and replays the first response byte for byte', async () => {
    // Prepare
    const merchant = await env.createMerchant('Idempotent shop');
    const key = `idem-${Date.now()}`;
    const body = checkoutBody();
    // Act
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        env.call('POST', '/v1/checkouts', { token: merchant.secretKey, body, headers: { 'Idempotency-Key': key } }),
      ),
    );
    const retry = await env.call('POST', '/v1/checkouts', {
      token: merchant.secretKey,
      body: { ...body, amount: 1 },
      headers: { 'idempotency-key': key },
    });
    const list = await env.call('GET', '/v1/checkouts?limit=100', { token: merchant.secretKey });
    // Assess
    const succeeded = responses.filter((r) => r.status >= 200 && r.status < 300);
    const others = responses.filter((r) => r.status < 200 || r.status >= 300);
    expect(succeeded.length).toBeGreaterThanOrEqual(1);
    expect(new Set(succeeded.map((r) => r.rawBody)).size).toBe(1);
    for (const other of others) {
      expect(other.status).toBe(409);
      expect(other.json.error.code).toBe('idempotency_key_in_use');
    }
    expect(list.json.data).toHaveLength(1);
    expect(retry.status).toBe(201);
    expect(retry.rawBody).toBe(succeeded[0]!.rawBody);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(succeeded.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
  });

  it('creates one checkout for concurrent duplicates with different bodies; the others replay it or get 409', async () => {
    // Prepare
    const merchant = await env.createMerchant('Racing shop');
    const key = `race-${Date.now()}`;
    // Act: each duplicate has its own merchant_order_ref and amount, so only the key can join them
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        env.call('POST', '/v1/checkouts', {
          token: merchant.secretKey,
          body: checkoutBody({ amount: 1000 + index }),
          headers: { 'Idempotency-Key': key },
        }),
      ),
    );
    const list = await env.call('GET', '/v1/checkouts?limit=100', { token: merchant.secretKey });
    // Assess
    const fresh = responses.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined);
    const replays = responses.filter((r) => r.headers['idempotent-replayed'] === 'true');
    const inFlight = responses.filter((r) => r.status === 409);
    expect(fresh).toHaveLength(1);
    expect(replays.length + inFlight.length).toBe(7);
    for (const replay of replays) expect(replay.rawBody).toBe(fresh[0]!.rawBody);
    for (const other of inFlight) expect(other.json.error.code).toBe('idempotency_key_in_use');
    expect(list.json.data.map((checkout: { id: string }) => checkout.id)).toEqual([fresh[0]!.json.id]);
  });

  it('replays a duplicate_merchant_order_ref answer for its key, though the create wrote nothing', async () => {
    // Prepare
    const body = checkoutBody();
    await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body });
    const key = `dupref-${Date.now()}`;
    // Act
    const first = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body, headers: { 'Idempotency-Key': key } });
    const again = await env.call('POST', '/v1/checkouts', {
      token: shop.secretKey,
      body: checkoutBody(),
      headers: { 'Idempotency-Key': key },
    });
    // Assess
    expect(first.status).toBe(409);
    expect(first.json.error.code).toBe('duplicate_merchant_order_ref');
    expect(again.status).toBe(409);
    expect(again.rawBody).toBe(first.rawBody);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('replays a 4xx answer for the same key, and scopes keys per merchant', async () => {
    // Prepare
    const key = `dup-${Date.now()}`;
    const first = await env.call('POST', '/v1/checkouts', {
      token: shop.secretKey,
      body: checkoutBody({ amount: -5 }),
      headers: { 'Idempotency-Key': key },
    });
    // Act
    const again = await env.call('POST', '/v1/checkouts', {
      token: shop.secretKey,
      body: checkoutBody(),
      headers: { 'Idempotency-Key': key },
    });
    const otherMerchant = await env.call('POST', '/v1/checkouts', {
      token: otherShop.secretKey,
      body: checkoutBody(),
      headers: { 'Idempotency-Key': key },
    });
    // Assess
    expect(first.status).toBe(422);
    expect(again.status).toBe(422);
    expect(again.rawBody).toBe(first.rawBody);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(otherMerchant.status).toBe(201);
  });

  it('rejects an invalid Idempotency-Key', async () => {
    // Act
    const response = await env.call('POST', '/v1/checkouts', {
      token: shop.secretKey,
      body: checkoutBody(),
      headers: { 'Idempotency-Key': 'x'.repeat(256) },
    });
    // Assess
    expect(response.status).toBe(400);
    expect(response.json.error).toMatchObject({ code: 'invalid_idempotency_key', param: 'Idempotency-Key' });
  });
});

describe('reading checkouts', () => {
  it('looks a checkout up by merchant_order_ref and answers 404 for an unknown ref', async () => {
    // Prepare
    const created = await env.call('POST', '/v1/checkouts', {
      token: shop.secretKey,
      body: checkoutBody({ merchant_order_ref: 'lookup/ref#1' }),
    });
    // Act
    const found = await env.call('GET', '/v1/checkouts', {
      token: shop.secretKey,
      query: { merchant_order_ref: 'lookup/ref#1' },
    });
    const missing = await env.call('GET', '/v1/checkouts', { token: shop.secretKey, query: { merchant_order_ref: 'nope' } });
    // Assess
    expect(found.status).toBe(200);
    expect(found.json.id).toBe(created.json.id);
    expect(found.json.events.map((e: { type: string }) => e.type)).toEqual(['created']);
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('resource_not_found');
  });

  it("lists the merchant's checkouts newest first with a cursor", async () => {
    // Prepare
    const merchant = await env.createMerchant('Lister');
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const created = await env.call('POST', '/v1/checkouts', { token: merchant.secretKey, body: checkoutBody() });
      ids.push(created.json.id);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Act
    const page1 = await env.call('GET', '/v1/checkouts?limit=2', { token: merchant.secretKey });
    const page2 = await env.call('GET', '/v1/checkouts', {
      token: merchant.secretKey,
      query: { limit: '2', cursor: page1.json.next_cursor },
    });
    const badLimit = await env.call('GET', '/v1/checkouts?limit=0', { token: merchant.secretKey });
    // Assess
    expect(page1.json.object).toBe('list');
    expect(page1.json.data.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]]);
    expect(page2.json.data.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
    expect(page2.json.next_cursor).toBeNull();
    expect(badLimit.status).toBe(422);
    expect(badLimit.json.error).toMatchObject({ code: 'invalid_limit', param: 'limit' });
  });

  it('shows the browser only the public view with the client secret', async () => {
    // Prepare
    const created = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody() });
    const other = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody() });
    // Act
    const view = await env.call('GET', `/v1/checkouts/${created.json.id}`, { token: created.json.client_secret });
    const wrongCheckout = await env.call('GET', `/v1/checkouts/${other.json.id}`, { token: created.json.client_secret });
    const cancel = await env.call('POST', `/v1/checkouts/${created.json.id}/cancel`, { token: created.json.client_secret });
    const create = await env.call('POST', '/v1/checkouts', { token: created.json.client_secret, body: checkoutBody() });
    // Assess
    expect(view.status).toBe(200);
    expect(view.json).toEqual({
      id: created.json.id,
      object: 'checkout',
      status: 'open',
      next_action: null,
      amount: 10050,
      currency: 'USD',
      items: created.json.items,
      merchant_name: 'Shop A',
      failure_reason: null,
      last_payment_error: null,
      save_payment_method: false,
      expires_at: created.json.expires_at,
    });
    expect(wrongCheckout.status).toBe(401);
    expect(cancel.status).toBe(401);
    expect(create.status).toBe(401);
  });
});

describe('authentication and isolation', () => {
  it('answers 401 without or with a bad credential', async () => {
    // Act
    const none = await env.call('GET', '/v1/checkouts');
    const badKey = await env.call('GET', '/v1/checkouts', { token: 'sk_test_not_a_key' });
    const basic = await env.call('GET', '/v1/checkouts', { headers: { Authorization: 'Basic abc' } });
    // Assess
    for (const response of [none, badKey, basic]) {
      expect(response.status).toBe(401);
      expect(response.json.error.code).toBe('unauthorized');
    }
  });

  it("never shows one merchant another merchant's checkout (404, not 403)", async () => {
    // Prepare
    const created = await env.call('POST', '/v1/checkouts', {
      token: shop.secretKey,
      body: checkoutBody({ merchant_order_ref: 'private-ref' }),
    });
    // Act
    const read = await env.call('GET', `/v1/checkouts/${created.json.id}`, { token: otherShop.secretKey });
    const cancel = await env.call('POST', `/v1/checkouts/${created.json.id}/cancel`, { token: otherShop.secretKey });
    const byRef = await env.call('GET', '/v1/checkouts?merchant_order_ref=private-ref', { token: otherShop.secretKey });
    const list = await env.call('GET', '/v1/checkouts?limit=100', { token: otherShop.secretKey });
    const stillOpen = await env.call('GET', `/v1/checkouts/${created.json.id}`, { token: shop.secretKey });
    // Assess
    expect(read.status).toBe(404);
    expect(cancel.status).toBe(404);
    expect(byRef.status).toBe(404);
    expect(list.json.data.map((c: { id: string }) => c.id)).not.toContain(created.json.id);
    expect(stillOpen.json.status).toBe('open');
  });
});

describe('POST /v1/checkouts/{id}/cancel', () => {
  it('cancels an open checkout once and answers 409 checkout_not_open the second time', async () => {
    // Prepare
    const created = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody() });
    // Act
    const first = await env.call('POST', `/v1/checkouts/${created.json.id}/cancel`, { token: shop.secretKey });
    const second = await env.call('POST', `/v1/checkouts/${created.json.id}/cancel`, { token: shop.secretKey });
    // Assess
    expect(first.status).toBe(200);
    expect(first.json.status).toBe('canceled');
    expect(first.json.events.map((e: { type: string }) => e.type)).toEqual(['created', 'canceled']);
    expect(second.status).toBe(409);
    expect(second.json.error.code).toBe('checkout_not_open');
  });

  it('lets exactly one of two concurrent cancels win', async () => {
    // Prepare
    const created = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody() });
    // Act
    const responses = await Promise.all([
      env.call('POST', `/v1/checkouts/${created.json.id}/cancel`, { token: shop.secretKey }),
      env.call('POST', `/v1/checkouts/${created.json.id}/cancel`, { token: shop.secretKey }),
    ]);
    const read = await env.call('GET', `/v1/checkouts/${created.json.id}`, { token: shop.secretKey });
    // Assess
    expect(responses.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(read.json.events.filter((e: { type: string }) => e.type === 'canceled')).toHaveLength(1);
  });
});

describe('lazy expiry', () => {
  it('expires an open checkout past expires_at when it is read, and then refuses to cancel it', async () => {
    // Prepare
    const created = await env.call('POST', '/v1/checkouts', {
      token: shop.secretKey,
      body: checkoutBody({ expires_in_seconds: 60 }),
    });
    await env.db.client.send(
      new UpdateItemCommand({
        TableName: env.db.tableName,
        Key: { pk: { S: `CHECKOUT#${created.json.id}` }, sk: { S: 'CHECKOUT' } },
        // The stored expiry is `cx`, epoch milliseconds (lambdas/adapters/dynamo-checkout-layout.ts).
        UpdateExpression: 'SET cx = :past',
        ExpressionAttributeValues: { ':past': { N: String(Date.now() - 1000) } },
      }),
    );
    // Act
    const publicView = await env.call('GET', `/v1/checkouts/${created.json.id}`, { token: created.json.client_secret });
    const read = await env.call('GET', `/v1/checkouts/${created.json.id}`, { token: shop.secretKey });
    const cancel = await env.call('POST', `/v1/checkouts/${created.json.id}/cancel`, { token: shop.secretKey });
    // Assess
    expect(publicView.json.status).toBe('expired');
    expect(read.json).toMatchObject({ status: 'expired', failure_reason: 'expired' });
    expect(read.json.events.map((e: { type: string }) => e.type)).toEqual(['created', 'expired']);
    expect(cancel.status).toBe(409);
    expect(cancel.json.error.code).toBe('checkout_not_open');
  });
});

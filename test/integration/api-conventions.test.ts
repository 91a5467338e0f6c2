/**
 * The Stripe-style conventions on the real handlers and DynamoDB Local: `request_id` in every
 * error body, `metadata` on checkouts (stored, returned, validated), `has_more` beside
 * `next_cursor` (exact, even when the last page is exactly full), and the pinnable
 * `Paystep-Version` header (unknown versions 400, the version answered back).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATEST_API_VERSION } from '../../lambdas/domain/api-version';
import { checkoutBody, startApiTestEnv, type ApiTestEnv } from './api-test-kit';

let env: ApiTestEnv;
let shop: { id: string; secretKey: string };

beforeAll(async () => {
  env = await startApiTestEnv();
  shop = await env.createMerchant('Conventions shop');
});

afterAll(async () => {
  await env?.stop();
});

describe('request_id in error bodies', () => {
  it('puts the request id into validation, authentication and not-found errors', async () => {
    // Act
    const invalid = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody({ amount: -1 }) });
    const unauthenticated = await env.call('GET', '/v1/checkouts', { token: 'sk_test_nope' });
    const missing = await env.call('GET', '/v1/checkouts/chk_missing', { token: shop.secretKey });

    // Assess
    for (const response of [invalid, unauthenticated, missing]) {
      expect(response.json.error.request_id).toMatch(/^[0-9a-f]{16}$/);
    }
    expect([invalid.status, unauthenticated.status, missing.status]).toEqual([422, 401, 404]);
    expect(new Set([invalid, unauthenticated, missing].map((response) => response.json.error.request_id)).size).toBe(3);
  });
});

describe('metadata on checkouts', () => {
  it('stores the metadata and returns it on create, read, lookup and list', async () => {
    // Prepare
    const metadata = { order_channel: 'web', campaign: 'winter-sale' };
    const body = checkoutBody({ metadata });

    // Act
    const created = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body });
    const read = await env.call('GET', `/v1/checkouts/${created.json.id}`, { token: shop.secretKey });
    const found = await env.call('GET', '/v1/checkouts', {
      token: shop.secretKey,
      query: { merchant_order_ref: String(body['merchant_order_ref']) },
    });
    const listed = await env.call('GET', '/v1/checkouts?limit=1', { token: shop.secretKey });

    // Assess
    expect(created.status).toBe(201);
    expect([created.json.metadata, read.json.metadata, found.json.metadata, listed.json.data[0].metadata]).toEqual([
      metadata,
      metadata,
      metadata,
      metadata,
    ]);
  });

  it('answers {} for a checkout created without metadata', async () => {
    // Act
    const created = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody() });

    // Assess
    expect(created.json.metadata).toEqual({});
  });

  it.each([
    ['a reserved key', { paystep_status: 'x' }, 422, 'reserved_metadata_key', 'metadata.paystep_status'],
    ['a key over 40 characters', { ['k'.repeat(41)]: 'x' }, 422, 'invalid_metadata', `metadata.${'k'.repeat(41)}`],
    ['a value over 500 characters', { note: 'v'.repeat(501) }, 422, 'invalid_parameter', 'metadata.note'],
    [
      'more than 50 keys',
      Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`key${i}`, 'v'])),
      422,
      'invalid_metadata',
      'metadata',
    ],
    ['a non-string value', { quantity: 3 }, 400, 'invalid_request', 'metadata.quantity'],
  ])('refuses %s', async (_what, metadata, status, code, param) => {
    // Act
    const response = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody({ metadata }) });

    // Assess
    expect(response.status).toBe(status);
    expect(response.json.error).toMatchObject({ code, param });
  });
});

describe('has_more on lists', () => {
  it('is true while another page exists and false on the last page, also when the last page is exactly full', async () => {
    // Prepare
    const merchant = await env.createMerchant('Pager');
    for (let i = 0; i < 4; i += 1) {
      await env.call('POST', '/v1/checkouts', { token: merchant.secretKey, body: checkoutBody() });
    }

    // Act
    const page1 = await env.call('GET', '/v1/checkouts?limit=2', { token: merchant.secretKey });
    const page2 = await env.call('GET', '/v1/checkouts', {
      token: merchant.secretKey,
      query: { limit: '2', cursor: page1.json.next_cursor },
    });
    const all = await env.call('GET', '/v1/checkouts?limit=4', { token: merchant.secretKey });

    // Assess
    expect([page1.json.has_more, page1.json.next_cursor === null]).toEqual([true, false]);
    expect([page2.json.data.length, page2.json.has_more, page2.json.next_cursor]).toEqual([2, false, null]);
    expect([all.json.data.length, all.json.has_more, all.json.next_cursor]).toEqual([4, false, null]);
  });
});

describe('Paystep-Version', () => {
  it('accepts the current version and answers it back in the Paystep-Version header', async () => {
    // Act
    const pinned = await env.call('GET', '/v1/settings', {
      token: shop.secretKey,
      headers: { 'Paystep-Version': LATEST_API_VERSION },
    });
    const unpinned = await env.call('GET', '/v1/settings', { token: shop.secretKey });

    // Assess
    expect([pinned.status, pinned.headers['paystep-version']]).toEqual([200, LATEST_API_VERSION]);
    expect([unpinned.status, unpinned.headers['paystep-version']]).toEqual([200, LATEST_API_VERSION]);
  });

  it('refuses an unknown version with 400 invalid_api_version before doing anything', async () => {
    // Prepare
    const body = checkoutBody();

    // Act
    const refused = await env.call('POST', '/v1/checkouts', {
      token: shop.secretKey,
      body,
      headers: { 'Paystep-Version': '2020-01-01' },
    });
    const lookup = await env.call('GET', '/v1/checkouts', {
      token: shop.secretKey,
      query: { merchant_order_ref: String(body['merchant_order_ref']) },
    });

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({
      code: 'invalid_api_version',
      param: 'Paystep-Version',
      request_id: expect.any(String),
    });
    expect(lookup.status).toBe(404);
  });
});

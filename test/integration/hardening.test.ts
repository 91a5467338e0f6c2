/**
 * Regression tests for the outside review (issue 12, DESIGN Part 2 "Hardening rules"), against
 * the real handlers on DynamoDB Local and the real sandbox PSP: Idempotency-Key bound to method,
 * route and path ids; no 5xx from requests without valid credentials; metadata depth and reserved
 * keys; unknown payment tokens; the SSRF check at merchant creation; the atomic webhook-endpoint
 * cap; cash currencies only; the per-currency maximum amount; claiming authorizations; the
 * idempotency store's claim ownership and its 409 message.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxPspGateway } from '../../lambdas/connectors/sandbox/gateway';
import { DynamoIdempotencyStore } from '../../lambdas/adapters/dynamo-idempotency-store';
import { createDocumentClient } from '../../lambdas/adapters/dynamo-client';
import { signPspCallback } from '../../lambdas/connectors/sandbox/callbacks';
import { tokenizeTestCard } from '../../local/sandbox-psp/client';
import { startSandboxPsp, type SandboxPsp } from '../../local/sandbox-psp/server';
import {
  apiEvent,
  checkoutBody,
  startApiTestEnv,
  type ApiCall,
  type ApiResponse,
  type ApiTestEnv,
  type Handler,
} from './api-test-kit';

const CALLBACK_SECRET = 'pspcb_hardening_test';

let env: ApiTestEnv;
let psp: SandboxPsp;
let gateway: SandboxPspGateway;
let endpointsHandler: Handler;
let instrumentsHandler: Handler;
let callbacksHandler: Handler;
let secretKey: string;

async function invoke(handler: Handler, method: string, path: string, call: ApiCall = {}): Promise<ApiResponse> {
  const result = await handler(apiEvent(method, path, call), {} as never);
  const rawBody = result.body ?? '';
  return {
    status: result.statusCode ?? 0,
    headers: (result.headers ?? {}) as Record<string, string>,
    rawBody,
    json: rawBody === '' ? undefined : JSON.parse(rawBody),
  };
}

const newKey = (): string => `key_${randomBytes(8).toString('hex')}`;

beforeAll(async () => {
  psp = await startSandboxPsp();
  process.env.SANDBOX_PSP_URL = psp.url;
  process.env.SANDBOX_PSP_CALLBACK_SECRET = CALLBACK_SECRET;
  env = await startApiTestEnv();
  endpointsHandler = (await import('../../lambdas/api-webhook-endpoints/handler')).handler as Handler;
  instrumentsHandler = (await import('../../lambdas/api-instruments/handler')).handler as Handler;
  callbacksHandler = (await import('../../lambdas/api-psp-callbacks/handler')).handler as unknown as Handler;
  gateway = new SandboxPspGateway({ baseUrl: psp.url });
  secretKey = (await env.createMerchant('Hardening shop')).secretKey;
});

afterAll(async () => {
  await env?.stop();
  await psp?.stop();
});

describe('item 2: Idempotency-Key is bound to method, route and path ids', () => {
  it('answers 422 idempotency_key_reused when the create key is reused on cancel, and the cancel with its own key runs', async () => {
    // Prepare: the merchant uses its order id as the key for every call about the order
    const key = `order_${randomBytes(6).toString('hex')}`;
    const created = await env.call('POST', '/v1/checkouts', {
      token: secretKey,
      body: checkoutBody(),
      headers: { 'Idempotency-Key': key },
    });
    // Act
    const reused = await env.call('POST', `/v1/checkouts/${created.json.id}/cancel`, {
      token: secretKey,
      headers: { 'Idempotency-Key': key },
    });
    const stillOpen = await env.call('GET', `/v1/checkouts/${created.json.id}`, { token: secretKey });
    const cancel = await env.call('POST', `/v1/checkouts/${created.json.id}/cancel`, {
      token: secretKey,
      headers: { 'Idempotency-Key': `${key}:cancel` },
    });
    // Assess
    expect(created.status).toBe(201);
    expect(reused.status).toBe(422);
    expect(reused.json.error).toMatchObject({ code: 'idempotency_key_reused', param: 'Idempotency-Key' });
    expect(reused.headers['idempotent-replayed']).toBeUndefined();
    expect(stillOpen.json.status).toBe('open');
    expect(cancel.status).toBe(200);
    expect(cancel.json.status).toBe('canceled');
  });

  it('binds the key to the path id: the cancel key of one checkout is refused on another', async () => {
    // Prepare
    const first = await env.call('POST', '/v1/checkouts', { token: secretKey, body: checkoutBody() });
    const second = await env.call('POST', '/v1/checkouts', { token: secretKey, body: checkoutBody() });
    const key = newKey();
    await env.call('POST', `/v1/checkouts/${first.json.id}/cancel`, { token: secretKey, headers: { 'Idempotency-Key': key } });
    // Act
    const other = await env.call('POST', `/v1/checkouts/${second.json.id}/cancel`, {
      token: secretKey,
      headers: { 'Idempotency-Key': key },
    });
    // Assess
    expect(other.status).toBe(422);
    expect(other.json.error.code).toBe('idempotency_key_reused');
  });

  it('still replays byte for byte on the same route with the same key and a changed body (seed rule)', async () => {
    // Prepare
    const key = newKey();
    const first = await env.call('POST', '/v1/checkouts', {
      token: secretKey,
      body: checkoutBody({ amount: 1000 }),
      headers: { 'Idempotency-Key': key },
    });
    // Act
    const again = await env.call('POST', '/v1/checkouts', {
      token: secretKey,
      body: checkoutBody({ amount: 2000 }),
      headers: { 'Idempotency-Key': key },
    });
    // Assess
    expect(again.status).toBe(201);
    expect(again.rawBody).toBe(first.rawBody);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('refuses the create-checkout key on POST /v1/webhook_endpoints (no replay of the checkout)', async () => {
    // Prepare
    const key = newKey();
    await env.call('POST', '/v1/checkouts', { token: secretKey, body: checkoutBody(), headers: { 'Idempotency-Key': key } });
    // Act
    const endpoint = await invoke(endpointsHandler, 'POST', '/v1/webhook_endpoints', {
      token: secretKey,
      body: { url: 'http://127.0.0.1:9/hooks' },
      headers: { 'Idempotency-Key': key },
    });
    // Assess
    expect(endpoint.status).toBe(422);
    expect(endpoint.json.error.code).toBe('idempotency_key_reused');
  });

  it('refuses an instrument operation key reused on another operation or instrument', async () => {
    // Prepare: a captured instrument and a refund made with key K
    const token = await tokenizeTestCard(psp.url, '4242424242424242');
    const instrument = await invoke(instrumentsHandler, 'POST', '/v1/financial_instruments', {
      token: secretKey,
      body: { type: 'token', amount: 5000, currency: 'USD', payment_token: token },
      headers: { 'Idempotency-Key': newKey() },
    });
    const id = instrument.json.id as string;
    await invoke(instrumentsHandler, 'POST', `/v1/financial_instruments/${id}/_capture`, {
      token: secretKey,
      body: { amount: 5000, currency: 'USD' },
      headers: { 'Idempotency-Key': newKey() },
    });
    const key = newKey();
    const refund = await invoke(instrumentsHandler, 'POST', `/v1/financial_instruments/${id}/_refund`, {
      token: secretKey,
      body: { amount: 1000, currency: 'USD' },
      headers: { 'Idempotency-Key': key },
    });
    // Act
    const crossed = await invoke(instrumentsHandler, 'POST', `/v1/financial_instruments/${id}/_revoke`, {
      token: secretKey,
      body: {},
      headers: { 'Idempotency-Key': key },
    });
    const replay = await invoke(instrumentsHandler, 'POST', `/v1/financial_instruments/${id}/_refund`, {
      token: secretKey,
      body: { amount: 3000, currency: 'USD' },
      headers: { 'Idempotency-Key': key },
    });
    const after = await invoke(instrumentsHandler, 'GET', `/v1/financial_instruments/${id}`, { token: secretKey });
    // Assess
    expect(instrument.status).toBe(201);
    expect(refund.status).toBe(200);
    expect(crossed.status).toBe(422);
    expect(crossed.json.error.code).toBe('idempotency_key_reused');
    expect(replay.rawBody).toBe(refund.rawBody);
    expect(after.json.refundable_amount).toBe(4000);
  });
});

describe('item 3: no 5xx from requests without valid credentials', () => {
  function signedCallback(): ApiCall {
    const rawBody = JSON.stringify({
      id: `pevt_${randomBytes(4).toString('hex')}`,
      type: 'authorization.succeeded',
      created: new Date().toISOString(),
      data: { authorization_id: 'auth_x', reference: 'chk_x', amount: 1, currency: 'USD', status: 'succeeded' },
    });
    return { rawBody, headers: { 'psp-signature': signPspCallback('any-secret', Math.floor(Date.now() / 1000), rawBody) } };
  }

  it.each(['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'unknown'])(
    'answers 404 for the connector %s',
    async (connector) => {
      // Act
      const response = await invoke(callbacksHandler, 'POST', `/v1/psp/${connector}/callbacks`, signedCallback());
      // Assess
      expect(response.status).toBe(404);
      expect(response.json.error.code).toBe('resource_not_found');
    },
  );

  it('answers 404 for malformed percent-encoding in the connector, as the local host or API Gateway hand it over', async () => {
    // Prepare: the local host keeps an undecodable segment raw; a raw-path-only event decodes once
    const asParameter = {
      ...apiEvent('POST', '/v1/psp/sandbox/callbacks', signedCallback()),
      pathParameters: { connector: '%E0' },
    };
    const { pathParameters: _none, ...rawOnly } = {
      ...apiEvent('POST', '/v1/psp/sandbox/callbacks', signedCallback()),
      rawPath: '/v1/psp/%E0/callbacks',
    };
    // Act
    const first = await callbacksHandler(asParameter, {} as never);
    const second = await callbacksHandler(rawOnly as never, {} as never);
    // Assess
    expect([first.statusCode, second.statusCode]).toEqual([404, 404]);
  });

  it('answers 404 for a path id over 2 KB, with a client secret, a merchant key or no valid credential', async () => {
    // Prepare
    const longId = `chk_${'a'.repeat(3000)}`;
    // Act
    const asClient = await env.call('GET', `/v1/checkouts/${longId}`, { token: 'cs_x' });
    const asMerchant = await env.call('POST', `/v1/checkouts/${longId}/cancel`, { token: secretKey });
    const asNobody = await invoke(instrumentsHandler, 'GET', `/v1/financial_instruments/fi_${'b'.repeat(2100)}`, {
      token: 'sk_test_unknown',
    });
    // Assess
    expect([asClient.status, asMerchant.status, asNobody.status]).toEqual([404, 404, 404]);
    expect(asClient.json.error.code).toBe('resource_not_found');
  });

  it('answers 404 for a malformed id in a raw-path-only event (no second decode, no 500)', async () => {
    // Prepare: no routeKey, so the layer matches the raw path itself
    const event = {
      ...apiEvent('GET', '/v1/checkouts/chk_1', { token: 'cs_x' }),
      routeKey: '$default',
      rawPath: '/v1/checkouts/%E0%A4%A',
    };
    const { pathParameters: _drop, ...withoutParameters } = event;
    // Act
    const response = await env.handlers.checkouts(withoutParameters as never, {} as never);
    // Assess
    expect(response.statusCode).toBe(404);
  });
});

describe('item 4: financial instrument metadata and tokens', () => {
  it('answers 422 metadata_too_deep for metadata nested 5000 levels (a 10 KB body), never a 500', async () => {
    // Prepare
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const rawBody = `{"type":"token","amount":100,"currency":"USD","payment_token":"tok_x","metadata":${deep}}`;
    // Act
    const response = await invoke(instrumentsHandler, 'POST', '/v1/financial_instruments', { token: secretKey, rawBody });
    // Assess
    expect(response.status).toBe(422);
    expect(response.json.error).toMatchObject({ code: 'metadata_too_deep', param: 'metadata' });
  });

  it.each(['constructor', '__proto__', 'prototype'])(
    'answers 400 with the param for the reserved metadata key %s',
    async (reserved) => {
      // Prepare: raw JSON, so __proto__ is an own key as JSON.parse makes it
      const rawBody = `{"type":"token","amount":100,"currency":"USD","payment_token":"tok_x","metadata":{"order":{"${reserved}":{"polluted":true}}}}`;
      // Act
      const response = await invoke(instrumentsHandler, 'POST', '/v1/financial_instruments', { token: secretKey, rawBody });
      // Assess
      expect(response.status).toBe(400);
      expect(response.json.error).toMatchObject({ code: 'invalid_metadata_key', param: `metadata.order.${reserved}` });
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    },
  );

  it('answers 422 invalid_payment_token for a token the PSP does not know, also on a retry with the same key', async () => {
    // Prepare
    const key = newKey();
    const body = { type: 'token', amount: 100, currency: 'USD', payment_token: 'tok_unknown_to_the_psp' };
    // Act
    const first = await invoke(instrumentsHandler, 'POST', '/v1/financial_instruments', {
      token: secretKey,
      body,
      headers: { 'Idempotency-Key': key },
    });
    const retry = await invoke(instrumentsHandler, 'POST', '/v1/financial_instruments', {
      token: secretKey,
      body,
      headers: { 'Idempotency-Key': key },
    });
    // Assess
    expect(first.status).toBe(422);
    expect(first.json.error).toMatchObject({ code: 'invalid_payment_token', param: 'payment_token' });
    expect(retry.status).toBe(422);
  });
});

describe('item 5: POST /v1/merchants checks the inventory confirmation URL like PUT /v1/settings', () => {
  it('refuses the cloud metadata address at merchant creation with 422 unsafe_url', async () => {
    // Act
    const response = await env.call('POST', '/v1/merchants', {
      token: env.adminToken,
      body: {
        name: 'SSRF shop',
        settings: {
          inventory_confirmation_url: 'http://169.254.169.254/latest/meta-data/',
          inventory_confirmation_enabled: true,
        },
      },
    });
    // Assess
    expect(response.status).toBe(422);
    expect(response.json.error).toMatchObject({ code: 'unsafe_url', param: 'settings.inventory_confirmation_url' });
  });
});

describe('item 6: the webhook endpoint cap holds under concurrency', () => {
  it('creates at most 16 endpoints from 40 concurrent creates; every other create is a 409', async () => {
    // Prepare
    const merchant = await env.createMerchant('Busy shop');
    // Act
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        invoke(endpointsHandler, 'POST', '/v1/webhook_endpoints', {
          token: merchant.secretKey,
          body: { url: `http://127.0.0.1:9/hooks/${index}` },
        }),
      ),
    );
    const listed = await invoke(endpointsHandler, 'GET', '/v1/webhook_endpoints', { token: merchant.secretKey });
    // Assess
    const created = responses.filter((response) => response.status === 201).length;
    expect(listed.json.data.length).toBeLessThanOrEqual(16);
    expect(listed.json.data.length).toBe(created);
    expect(responses.filter((response) => response.status !== 201).every((response) => response.status === 409)).toBe(true);
  });

  it('frees a place when an endpoint is deleted, and refuses the 17th', async () => {
    // Prepare: fill the cap sequentially
    const merchant = await env.createMerchant('Full shop');
    const ids: string[] = [];
    for (let index = 0; index < 16; index += 1) {
      const response = await invoke(endpointsHandler, 'POST', '/v1/webhook_endpoints', {
        token: merchant.secretKey,
        body: { url: `http://127.0.0.1:9/h/${index}` },
      });
      ids.push(response.json.id as string);
    }
    // Act
    const seventeenth = await invoke(endpointsHandler, 'POST', '/v1/webhook_endpoints', {
      token: merchant.secretKey,
      body: { url: 'http://127.0.0.1:9/h/x' },
    });
    await invoke(endpointsHandler, 'DELETE', `/v1/webhook_endpoints/${ids[0]}`, { token: merchant.secretKey });
    const afterDelete = await invoke(endpointsHandler, 'POST', '/v1/webhook_endpoints', {
      token: merchant.secretKey,
      body: { url: 'http://127.0.0.1:9/h/y' },
    });
    // Assess
    expect(seventeenth.status).toBe(409);
    expect(seventeenth.json.error.code).toBe('too_many_endpoints');
    expect(afterDelete.status).toBe(201);
  });
});

describe('item 7: cash currencies only', () => {
  it.each(['BOV', 'CHE', 'CHW', 'CLF', 'COU', 'MXV', 'USN', 'UYI', 'UYW'])(
    'refuses a checkout in %s with 422 invalid_currency',
    async (currency) => {
      // Act
      const response = await env.call('POST', '/v1/checkouts', {
        token: secretKey,
        body: checkoutBody({ currency, amount: 1000, items: [{ sku: 'S', quantity: 1 }] }),
      });
      // Assess
      expect(response.status).toBe(422);
      expect(response.json.error).toMatchObject({ code: 'invalid_currency', param: 'currency' });
    },
  );
});

describe('item 8: a documented per-currency maximum amount', () => {
  it('refuses 2^53 - 1 USD at create with 422 amount_too_large, and accepts the maximum itself', async () => {
    // Act
    const tooLarge = await env.call('POST', '/v1/checkouts', {
      token: secretKey,
      body: checkoutBody({ amount: 9_007_199_254_740_991, items: [{ sku: 'S', quantity: 1 }] }),
    });
    const justOver = await env.call('POST', '/v1/checkouts', {
      token: secretKey,
      body: checkoutBody({ amount: 10_000_000_000, items: [{ sku: 'S', quantity: 1 }] }),
    });
    const maximum = await env.call('POST', '/v1/checkouts', {
      token: secretKey,
      body: checkoutBody({ amount: 9_999_999_999, items: [{ sku: 'S', quantity: 1 }] }),
    });
    // Assess
    expect(tooLarge.status).toBe(422);
    expect(tooLarge.json.error).toMatchObject({ code: 'amount_too_large', param: 'amount' });
    expect(justOver.json.error?.code).toBe('amount_too_large');
    expect(maximum.status).toBe(201);
  });

  it('applies the maximum of the currency (JPY has no minor digits)', async () => {
    // Act
    const response = await env.call('POST', '/v1/checkouts', {
      token: secretKey,
      body: checkoutBody({ amount: 100_000_000, currency: 'JPY', items: [{ sku: 'S', quantity: 1 }] }),
    });
    // Assess
    expect(response.status).toBe(422);
    expect(response.json.error.code).toBe('amount_too_large');
  });

  it('refuses it on the financial instrument routes too', async () => {
    // Act
    const create = await invoke(instrumentsHandler, 'POST', '/v1/financial_instruments', {
      token: secretKey,
      body: { type: 'token', amount: 9_007_199_254_740_991, currency: 'USD', payment_token: 'tok_x' },
    });
    const refund = await invoke(instrumentsHandler, 'POST', '/v1/financial_instruments/fi_missing/_refund', {
      token: secretKey,
      body: { amount: 10_000_000_000, currency: 'USD' },
    });
    // Assess
    expect([create.status, refund.status]).toEqual([422, 422]);
    expect([create.json.error.code, refund.json.error.code]).toEqual(['amount_too_large', 'amount_too_large']);
  });
});

describe('item 9: claiming an authorization checks whose it is', () => {
  it("refuses an authorization the PSP filed under a Paystep checkout id, and one under another merchant's instrument", async () => {
    // Prepare: an authorization filed under a checkout id (no instrument owns it yet), and another
    // merchant's token instrument's authorization
    const token = await tokenizeTestCard(psp.url, '4242424242424242');
    const underCheckout = await gateway.authorize({
      reference: `chk_${randomBytes(8).toString('hex')}`,
      source: { type: 'token', token },
      amount: 1000,
      currency: 'USD',
      idempotencyKey: newKey(),
    });
    const other = await env.createMerchant('Other shop');
    const otherToken = await tokenizeTestCard(psp.url, '4242424242424242');
    const otherInstrument = await invoke(instrumentsHandler, 'POST', '/v1/financial_instruments', {
      token: other.secretKey,
      body: { type: 'token', amount: 1000, currency: 'USD', payment_token: otherToken },
    });
    const otherAuthorization = (await gateway.findAuthorizations(otherInstrument.json.id as string))[0]!;
    // Act
    const claimCheckout = await invoke(instrumentsHandler, 'POST', '/v1/financial_instruments', {
      token: secretKey,
      body: { type: 'authorized', amount: 1000, currency: 'USD', psp_reference: underCheckout.pspReference },
    });
    const claimOther = await invoke(instrumentsHandler, 'POST', '/v1/financial_instruments', {
      token: secretKey,
      body: { type: 'authorized', amount: 1000, currency: 'USD', psp_reference: otherAuthorization.id },
    });
    // Assess
    expect(claimCheckout.status).toBe(422);
    expect(claimCheckout.json.error).toMatchObject({ code: 'psp_reference_not_found', param: 'psp_reference' });
    expect(claimOther.status).toBe(422);
    expect(claimOther.json.error.code).toBe('psp_reference_not_found');
  });

  it('still lets a merchant claim an authorization filed under its own order reference', async () => {
    // Prepare
    const token = await tokenizeTestCard(psp.url, '4242424242424242');
    const authorization = await gateway.authorize({
      reference: `ord_${randomBytes(6).toString('hex')}`,
      source: { type: 'token', token },
      amount: 1000,
      currency: 'USD',
      idempotencyKey: newKey(),
    });
    // Act
    const claim = await invoke(instrumentsHandler, 'POST', '/v1/financial_instruments', {
      token: secretKey,
      body: { type: 'authorized', amount: 1000, currency: 'USD', psp_reference: authorization.pspReference },
    });
    // Assess
    expect(claim.status).toBe(201);
  });
});

describe('item 9: the idempotency store checks who holds the claim', () => {
  it('ignores complete and release from a request whose claim was taken over after its lock expired', async () => {
    // Prepare: A claims, its lock lapses, B takes over
    const store = new DynamoIdempotencyStore(createDocumentClient({ endpoint: env.db.endpoint }), env.db.tableName, {
      lockTimeoutMs: 1_000,
    });
    const start = new Date();
    const a = await store.begin('merchant:mer_h', 'k1', start, 'POST /v1/checkouts');
    const b = await store.begin('merchant:mer_h', 'k1', new Date(start.getTime() + 5_000), 'POST /v1/checkouts');
    const response = (body: string) => ({ statusCode: 201, headers: {}, body });
    // Act: the late A completes (must not land), then releases (must not delete B's claim)
    await store.complete('merchant:mer_h', 'k1', response('from A'), a.kind === 'started' ? a.claim : undefined);
    await store.release('merchant:mer_h', 'k1', a.kind === 'started' ? a.claim : undefined);
    const whileB = await store.begin('merchant:mer_h', 'k1', new Date(start.getTime() + 5_100), 'POST /v1/checkouts');
    await store.complete('merchant:mer_h', 'k1', response('from B'), b.kind === 'started' ? b.claim : undefined);
    const replay = await store.begin('merchant:mer_h', 'k1', new Date(start.getTime() + 6_000), 'POST /v1/checkouts');
    // Assess
    expect(a.kind).toBe('started');
    expect(b.kind).toBe('started');
    expect(whileB.kind).toBe('in_flight');
    expect(replay).toEqual({ kind: 'replay', response: response('from B') });
  });

  it("tells a retry in the 409 how long a crashed request's claim holds the key", async () => {
    // Prepare: a claim left by a request that died (never completed)
    const merchant = await env.createMerchant('Crash shop');
    const store = new DynamoIdempotencyStore(createDocumentClient({ endpoint: env.db.endpoint }), env.db.tableName);
    const key = newKey();
    await store.begin(`merchant:${merchant.id}`, key, new Date(), 'POST /v1/checkouts');
    // Act
    const retry = await env.call('POST', '/v1/checkouts', {
      token: merchant.secretKey,
      body: checkoutBody(),
      headers: { 'Idempotency-Key': key },
    });
    // Assess
    expect(retry.status).toBe(409);
    expect(retry.json.error.code).toBe('idempotency_key_in_use');
    expect(retry.json.error.message).toMatch(/take over in \d+ s/);
  });
});

/**
 * What the API's reads cost once the per-container settings cache is warm (the merchant profile
 * and the API-key lookup, lambdas/adapters/settings-read-cache.ts), counted with the bench's
 * middleware on the handlers' own document client; and that a settings write in this process is
 * seen by the next request at once although the cache would keep the old profile for minutes here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDynamoDbCalls, resetCounters, snapshotCounters } from '../../bench/instrumentation';
import { checkoutBody, startApiTestEnv, type ApiTestEnv } from './api-test-kit';

let env: ApiTestEnv;
let shop: { id: string; secretKey: string };

/** Runs `act` with counting on and returns its DynamoDB calls by command. */
async function readsOf(act: () => Promise<unknown>): Promise<Record<string, number>> {
  resetCounters();
  await act();
  const calls: Record<string, number> = {};
  for (const entry of Object.values(snapshotCounters().entries)) {
    for (const [command, counts] of Object.entries(entry.dynamodb)) calls[command] = (calls[command] ?? 0) + counts.calls;
  }
  return calls;
}

beforeAll(async () => {
  // Longer than this file runs: every cache hit below is certain, not a matter of timing.
  env = await startApiTestEnv({ PAYSTEP_SETTINGS_CACHE_TTL_MS: '600000' });
  const wiring = await import('../../lambdas/shared/wiring');
  countDynamoDbCalls(wiring.documentClient as unknown as Parameters<typeof countDynamoDbCalls>[0]);
  shop = await env.createMerchant('Read cost shop');
});

afterAll(async () => {
  await env?.stop();
});

describe('read cost with a warm settings cache', () => {
  it('creates a checkout without reading the API key or the merchant again', async () => {
    // Prepare: the first request fills the cache
    await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody() });
    let status = 0;
    // Act
    const calls = await readsOf(async () => {
      status = (await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody() })).status;
    });
    // Assess
    expect(status).toBe(201);
    expect(calls).toEqual({ TransactWriteItemsCommand: 1 });
  });

  it("answers the merchant's GET of an open checkout with the checkout read alone (its timeline comes from that read)", async () => {
    // Prepare
    const created = await env.call('POST', '/v1/checkouts', { token: shop.secretKey, body: checkoutBody() });
    let answer: { status: number; json: Record<string, unknown> } | undefined;
    // Act
    const calls = await readsOf(async () => {
      answer = await env.call('GET', `/v1/checkouts/${created.json.id as string}`, { token: shop.secretKey });
    });
    // Assess
    expect(answer?.status).toBe(200);
    expect(answer?.json).toMatchObject({ id: created.json.id, status: 'open' });
    expect(calls).toEqual({ GetItemCommand: 1 });
  });

  it('sees a settings write at once: the write replaces the cached profile in this process', async () => {
    // Prepare
    const merchant = await env.createMerchant('Settings shop');
    const before = await env.call('GET', '/v1/settings', { token: merchant.secretKey });
    // Act
    const written = await env.call('PUT', '/v1/settings', {
      token: merchant.secretKey,
      body: { default_success_url: 'https://settings.example/ok' },
    });
    const again = await env.call('PUT', '/v1/settings', {
      token: merchant.secretKey,
      body: { default_failure_url: 'https://settings.example/ko' },
    });
    const after = await env.call('GET', '/v1/settings', { token: merchant.secretKey });
    // Assess
    expect(before.json.default_success_url ?? null).toBeNull();
    expect(written.status).toBe(200);
    expect(again.status).toBe(200);
    expect(after.json).toMatchObject({
      default_success_url: 'https://settings.example/ok',
      default_failure_url: 'https://settings.example/ko',
    });
  });
});

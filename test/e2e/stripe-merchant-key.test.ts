/**
 * Calls with the merchant's own Stripe key, over HTTP against the running local stack (`npm start`
 * as a child process): a merchant that stored a connector account (`POST /v1/connector_accounts`)
 * has its payment authorized and captured by the saga, and refunded through the instrument API,
 * with its own key; a merchant without one is served with the platform's key (locally enabled by
 * PAYSTEP_PLATFORM_CONNECTORS=sandbox,stripe). The proof is the Stripe-protocol sandbox's ledger,
 * which records (masked) which key made each call.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaystepClient } from '../../local/paystep-client';
import type { LedgerOperation } from '../../local/stripe-sandbox/ledger';
import { DEFAULT_STRIPE_SANDBOX_API_KEY, maskApiKey } from '../../local/stripe-sandbox/server';
import { startStackProcess, type StackProcess } from './harness';

interface PaidCheckout {
  id: string;
  status: string;
  payment: { connector: string; captured_amount: number; instrument_id: string | null } | null;
}

let stack: StackProcess;
let api: PaystepClient;

/** A new merchant routed to stripe; with `apiKey`, its own Stripe account stored first. */
async function stripeMerchant(apiKey?: string): Promise<string> {
  const onboarded = await api.call<{ secret_key: string }>('POST', '/v1/merchants', {
    token: stack.adminToken,
    body: { name: `Own key ${randomBytes(4).toString('hex')}` },
  });
  expect(onboarded.status, onboarded.text).toBe(201);
  const key = onboarded.body.secret_key;
  if (apiKey !== undefined) {
    const account = await api.call('POST', '/v1/connector_accounts', {
      token: key,
      body: { connector: 'stripe', credentials: { api_key: apiKey } },
    });
    expect(account.status, account.text).toBe(201);
    expect(account.text).not.toContain(apiKey);
  }
  const routing = await api.call('PUT', '/v1/routing', {
    token: key,
    body: { rules: [], default: ['stripe'], failover: false },
  });
  expect(routing.status, routing.text).toBe(200);
  return key;
}

/** A checkout of `amount` EUR paid with a vaulted Visa by the merchant `key`; returned once terminal. */
async function pay(key: string, amount: number): Promise<PaidCheckout> {
  const created = await api.call<{ id: string }>('POST', '/v1/checkouts', {
    token: key,
    body: {
      merchant_order_ref: `own_${randomBytes(6).toString('hex')}`,
      amount,
      currency: 'EUR',
      items: [{ sku: 'mug', name: 'Mug', quantity: 1 }],
      success_url: 'http://127.0.0.1:9/thanks',
      failure_url: 'http://127.0.0.1:9/sorry',
    },
  });
  expect(created.status, created.text).toBe(201);
  const vaulted = await api.call<{ id: string }>('POST', '/v1/payment_methods', {
    token: key,
    body: { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123' } },
  });
  expect(vaulted.status, vaulted.text).toBe(201);
  const paid = await api.call('POST', `/v1/checkouts/${created.body.id}/pay`, {
    token: key,
    body: { payment_method: vaulted.body.id },
  });
  expect(paid.status, paid.text).toBe(202);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const checkout = await api.call<PaidCheckout>('GET', `/v1/checkouts/${created.body.id}`, { token: key });
    if (checkout.body.status === 'succeeded' || checkout.body.status === 'failed') return checkout.body;
    if (Date.now() > deadline) throw new Error(`checkout ${created.body.id} still ${checkout.body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

async function stripeLedger(reference: string): Promise<LedgerOperation[]> {
  const response = await fetch(`${stack.stripeSandboxUrl}/v1/test/ledger?reference=${encodeURIComponent(reference)}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { operations: LedgerOperation[] }).operations;
}

beforeAll(async () => {
  // A replaced key is read again after this long (AWS default 60 s).
  stack = await startStackProcess({ PSP_TIMEOUT_MS: '2000', CONNECTOR_CREDENTIALS_REFRESH_MS: '300' });
  api = new PaystepClient(stack.apiUrl);
});

afterAll(async () => {
  await stack?.stop();
});

describe("the merchant's own Stripe key", () => {
  it('authorizes, captures and refunds with the key the merchant stored, never the platform key', async () => {
    // Prepare
    const merchantKey = `sk_test_${randomBytes(24).toString('hex')}`;
    const merchant = await stripeMerchant(merchantKey);
    // Act: the saga pays it; the instrument API refunds part of it
    const checkout = await pay(merchant, 3100);
    const refund = await api.call('POST', `/v1/financial_instruments/${checkout.payment?.instrument_id}/_refund`, {
      token: merchant,
      idempotencyKey: `refund_${randomBytes(6).toString('hex')}`,
      body: { amount: 1100, currency: 'EUR' },
    });
    // Assess
    expect(checkout.status).toBe('succeeded');
    expect(checkout.payment?.connector).toBe('stripe');
    expect(refund.status, refund.text).toBe(200);
    const rows = await stripeLedger(checkout.id);
    expect(rows.map((row) => [row.type, row.amount, row.status])).toEqual([
      ['authorize', 3100, 'succeeded'],
      ['capture', 3100, 'succeeded'],
      ['refund', 1100, 'succeeded'],
    ]);
    expect(new Set(rows.map((row) => row.api_key))).toEqual(new Set([maskApiKey(merchantKey)]));
  });

  it('pays through the platform key for a merchant without a Stripe account (platform-enabled locally)', async () => {
    // Prepare
    const merchant = await stripeMerchant();
    // Act
    const checkout = await pay(merchant, 1700);
    // Assess
    expect(checkout.status).toBe('succeeded');
    const rows = await stripeLedger(checkout.id);
    expect(rows.map((row) => row.type)).toEqual(['authorize', 'capture']);
    expect(new Set(rows.map((row) => row.api_key))).toEqual(new Set([maskApiKey(DEFAULT_STRIPE_SANDBOX_API_KEY)]));
  });

  it("uses a replaced key for the merchant's next payment", async () => {
    // Prepare: a first key, a payment, then the account replaced with a second key
    const first = `sk_test_${randomBytes(24).toString('hex')}`;
    const second = `sk_test_${randomBytes(24).toString('hex')}`;
    const merchant = await stripeMerchant(first);
    const before = await pay(merchant, 900);
    const replaced = await api.call('POST', '/v1/connector_accounts', {
      token: merchant,
      body: { connector: 'stripe', credentials: { api_key: second } },
    });
    expect(replaced.status, replaced.text).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 400)); // past CONNECTOR_CREDENTIALS_REFRESH_MS
    // Act
    const after = await pay(merchant, 800);
    // Assess
    expect([before.status, after.status]).toEqual(['succeeded', 'succeeded']);
    expect(new Set((await stripeLedger(before.id)).map((row) => row.api_key))).toEqual(new Set([maskApiKey(first)]));
    expect(new Set((await stripeLedger(after.id)).map((row) => row.api_key))).toEqual(new Set([maskApiKey(second)]));
  });
});

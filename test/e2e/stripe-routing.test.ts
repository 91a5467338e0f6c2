/**
 * The `stripe` connector under Paystep, over HTTP against the running local stack (`npm start` as
 * a child process, with its Stripe-protocol sandbox): the Stripe webhook route
 * (`POST /v1/psp/stripe/callbacks`, verified with `Stripe-Signature`), the merchant's connector
 * accounts and its routing rules.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaystepClient } from '../../local/paystep-client';
import { fetchLedger, type LedgerOperation } from '../../local/sandbox-psp/client';
import { signStripePayload } from '../../local/stripe-sandbox/webhook-sender';
import { startStackProcess, type StackProcess } from './harness';

/** A new merchant's secret key (admin onboarding), for tests that must not see another test's rules. */
async function onboard(stack: StackProcess): Promise<string> {
  const answer = await new PaystepClient(stack.apiUrl).call<{ secret_key: string }>('POST', '/v1/merchants', {
    token: stack.adminToken,
    body: { name: `Routing ${randomBytes(4).toString('hex')}` },
  });
  expect(answer.status, answer.text).toBe(201);
  return answer.body.secret_key;
}

const WEBHOOK_SECRET = `whsec_${randomBytes(18).toString('base64url')}`;

/** A Stripe `event` object as Stripe sends it (the fields the SDK's constructEvent reads). */
function stripeEvent(type: string, object: Record<string, unknown>): string {
  return JSON.stringify({
    id: `evt_${randomBytes(8).toString('hex')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    type,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
  });
}

async function postWebhook(stack: StackProcess, body: string, signature: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${stack.apiUrl}/v1/psp/stripe/callbacks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body,
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

interface PaidCheckout {
  id: string;
  status: string;
  payment: { connector: string; captured_amount: number; attempts: { connector: string; status: string }[] } | null;
}

/** Creates a checkout for `amount` `currency`, vaults a Visa for it and pays with the `pm_`; returns it once terminal. */
async function payWithVaultedCard(
  stack: StackProcess,
  api: PaystepClient,
  amount: number,
  currency: string,
): Promise<PaidCheckout> {
  const created = await api.call<{ id: string }>('POST', '/v1/checkouts', {
    token: stack.secretKey,
    body: {
      merchant_order_ref: `route_${randomBytes(6).toString('hex')}`,
      amount,
      currency,
      items: [{ sku: 'tshirt', name: 'Paystep T-shirt', quantity: 1 }],
      success_url: `${stack.merchantUrl}/thanks`,
      failure_url: `${stack.merchantUrl}/sorry`,
    },
  });
  expect(created.status, created.text).toBe(201);
  const vaulted = await api.call<{ id: string }>('POST', '/v1/payment_methods', {
    token: stack.secretKey,
    body: { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123' } },
  });
  expect(vaulted.status, vaulted.text).toBe(201);
  const paid = await api.call('POST', `/v1/checkouts/${created.body.id}/pay`, {
    token: stack.secretKey,
    body: { payment_method: vaulted.body.id },
  });
  expect(paid.status, paid.text).toBe(202);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const checkout = await api.call<PaidCheckout>('GET', `/v1/checkouts/${created.body.id}`, { token: stack.secretKey });
    if (checkout.body.status === 'succeeded' || checkout.body.status === 'failed') return checkout.body;
    if (Date.now() > deadline) throw new Error(`checkout ${created.body.id} still ${checkout.body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** The Stripe-protocol sandbox's books for one checkout (same shape as the sandbox PSP's ledger). */
async function stripeLedger(stack: StackProcess, reference: string): Promise<LedgerOperation[]> {
  const response = await fetch(`${stack.stripeSandboxUrl}/v1/test/ledger?reference=${encodeURIComponent(reference)}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { operations: LedgerOperation[] }).operations;
}

describe('the stripe connector (one stack)', () => {
  let stack: StackProcess;
  let api: PaystepClient;

  beforeAll(async () => {
    stack = await startStackProcess({ STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, PSP_TIMEOUT_MS: '2000' });
    api = new PaystepClient(stack.apiUrl);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  describe('the Stripe webhook route', () => {
    it('answers a verified event Paystep does not use 200 and ignores it', async () => {
      // Prepare
      const body = stripeEvent('charge.refunded', { id: 'ch_1', object: 'charge', amount: 100 });
      // Act
      const answer = await postWebhook(stack, body, signStripePayload(WEBHOOK_SECRET, Math.floor(Date.now() / 1000), body));
      // Assess
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ received: true, result: 'ignored', state: 'charge.refunded' });
    });

    it('refuses a body signed with another secret 401, before reading it', async () => {
      // Prepare
      const body = stripeEvent('payment_intent.succeeded', { id: 'pi_1', object: 'payment_intent' });
      const forged = signStripePayload('whsec_not_the_endpoints', Math.floor(Date.now() / 1000), body);
      // Act
      const answer = await postWebhook(stack, body, forged);
      // Assess
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: expect.any(String) as string } });
    });

    it('records a verified PaymentIntent event about no Paystep authorization as unmatched, changing nothing', async () => {
      // Prepare: a checkout that never paid; an event naming it as reference
      const created = await api.call<{ id: string; status: string }>('POST', '/v1/checkouts', {
        token: stack.secretKey,
        body: {
          merchant_order_ref: `wh_${randomBytes(6).toString('hex')}`,
          amount: 2500,
          currency: 'USD',
          items: [{ sku: 'tshirt', name: 'Paystep T-shirt', quantity: 1 }],
          success_url: `${stack.merchantUrl}/thanks`,
          failure_url: `${stack.merchantUrl}/sorry`,
        },
      });
      expect(created.status, created.text).toBe(201);
      const body = stripeEvent('payment_intent.amount_capturable_updated', {
        id: 'pi_forged',
        object: 'payment_intent',
        amount: 2500,
        amount_capturable: 2500,
        amount_received: 0,
        currency: 'usd',
        status: 'requires_capture',
        metadata: { reference: created.body.id },
      });
      // Act
      const answer = await postWebhook(stack, body, signStripePayload(WEBHOOK_SECRET, Math.floor(Date.now() / 1000), body));
      // Assess
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ received: true, result: 'unmatched' });
      const after = await api.call<{ status: string }>('GET', `/v1/checkouts/${created.body.id}`, { token: stack.secretKey });
      expect(after.body.status).toBe('open');
    });
  });

  describe('connector accounts', () => {
    it('lists both connectors enabled for every merchant locally, with the platform (sandbox) credentials', async () => {
      // Act
      const answer = await api.call<{ object: string; data: { connector: string; credentials: string }[] }>(
        'GET',
        '/v1/connector_accounts',
        { token: stack.secretKey },
      );
      // Assess
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body.object).toBe('list');
      expect(answer.body.data.map((row) => [row.connector, row.credentials])).toEqual([
        ['sandbox', 'platform'],
        ['stripe', 'platform'],
      ]);
    });

    it('stores a Stripe key encrypted and never returns it, in the answer or the list', async () => {
      // Prepare
      const key = `sk_test_${randomBytes(12).toString('hex')}`;
      // Act
      const added = await api.call<Record<string, unknown>>('POST', '/v1/connector_accounts', {
        token: stack.secretKey,
        body: { connector: 'stripe', credentials: { api_key: key } },
      });
      const listed = await api.call<{ data: { connector: string; credentials: string }[] }>('GET', '/v1/connector_accounts', {
        token: stack.secretKey,
      });
      // Assess
      expect(added.status, added.text).toBe(201);
      expect(added.body).toMatchObject({ object: 'connector_account', connector: 'stripe', credentials: 'merchant' });
      expect(added.text).not.toContain(key);
      expect(listed.text).not.toContain(key);
      expect(listed.body.data.find((row) => row.connector === 'stripe')?.credentials).toBe('merchant');
    });

    it('refuses a key that is not a Stripe secret key 422 with its param, and an unknown connector 422', async () => {
      // Act
      const badKey = await api.call<{ error: { param: string } }>('POST', '/v1/connector_accounts', {
        token: stack.secretKey,
        body: { connector: 'stripe', credentials: { api_key: 'pk_live_publishable' } },
      });
      const unknown = await api.call<{ error: { param: string } }>('POST', '/v1/connector_accounts', {
        token: stack.secretKey,
        body: { connector: 'adyen', credentials: { api_key: 'x' } },
      });
      // Assess
      expect(badKey.status, badKey.text).toBe(422);
      expect(badKey.body.error.param).toBe('credentials.api_key');
      expect(badKey.text).not.toContain('pk_live_publishable');
      expect(unknown.status, unknown.text).toBe(422);
      expect(unknown.body.error.param).toBe('connector');
    });
  });

  describe('routing rules', () => {
    const RULES = {
      rules: [
        {
          conditions: { currency: ['EUR'], amount_gte: 0, amount_lt: 100000, card_brand: ['visa'], card_country: ['DE'] },
          connectors: ['stripe', 'sandbox'],
        },
      ],
      default: ['sandbox', 'stripe'],
      failover: true,
    };

    it('reads the stored rules back in snake_case after a PUT (the default before)', async () => {
      // Prepare: a fresh merchant, so no other test's rules are read
      const merchant = await onboard(stack);
      const before = await api.call<unknown>('GET', '/v1/routing', { token: merchant });
      // Act
      const put = await api.call<unknown>('PUT', '/v1/routing', { token: merchant, body: RULES });
      const after = await api.call<unknown>('GET', '/v1/routing', { token: merchant });
      // Assess
      expect(before.body).toEqual({ object: 'routing', rules: [], default: ['sandbox'], failover: false });
      expect(put.status, put.text).toBe(200);
      expect(after.body).toEqual({ object: 'routing', ...RULES });
    });

    it('refuses an unknown connector 422 with the param that names it, keeping the stored rules', async () => {
      // Prepare
      const merchant = await onboard(stack);
      // Act
      const answer = await api.call<{ error: { param: string } }>('PUT', '/v1/routing', {
        token: merchant,
        body: { ...RULES, default: ['sandbox', 'adyen'] },
      });
      const after = await api.call<{ default: string[] }>('GET', '/v1/routing', { token: merchant });
      // Assess
      expect(answer.status, answer.text).toBe(422);
      expect(answer.body.error.param).toBe('default.1');
      expect(after.body.default).toEqual(['sandbox']);
    });
    it('pays a EUR Visa pm_ payment on stripe when a rule routes it there, the sandbox PSP seeing nothing', async () => {
      // Prepare: EUR Visa -> stripe (no card_country: the vault keeps no issuing country yet)
      const put = await api.call('PUT', '/v1/routing', {
        token: stack.secretKey,
        body: {
          rules: [{ conditions: { currency: ['EUR'], card_brand: ['visa'] }, connectors: ['stripe'] }],
          default: ['sandbox'],
          failover: false,
        },
      });
      expect(put.status, put.text).toBe(200);
      // Act
      const checkout = await payWithVaultedCard(stack, api, 4200, 'EUR');
      // Assess
      expect(checkout.status).toBe('succeeded');
      expect(checkout.payment?.attempts.map((attempt) => attempt.connector)).toEqual(['stripe']);
      expect(checkout.payment?.captured_amount).toBe(4200);
      const onStripe = await stripeLedger(stack, checkout.id);
      expect(onStripe.filter((op) => op.type === 'capture' && op.status === 'succeeded').map((op) => op.amount)).toEqual([4200]);
      expect(await fetchLedger(stack.pspUrl, checkout.id)).toEqual([]);
    });

    it('pays a pm_ payment no rule matches through the default connector (sandbox), Stripe seeing nothing', async () => {
      // Prepare: the same rule (EUR Visa -> stripe); this payment is in USD
      const put = await api.call('PUT', '/v1/routing', {
        token: stack.secretKey,
        body: {
          rules: [{ conditions: { currency: ['EUR'], card_brand: ['visa'] }, connectors: ['stripe'] }],
          default: ['sandbox'],
          failover: false,
        },
      });
      expect(put.status, put.text).toBe(200);
      // Act
      const checkout = await payWithVaultedCard(stack, api, 2600, 'USD');
      // Assess
      expect(checkout.status).toBe('succeeded');
      expect(checkout.payment?.attempts.map((attempt) => attempt.connector)).toEqual(['sandbox']);
      const onSandbox = await fetchLedger(stack.pspUrl, checkout.id);
      expect(onSandbox.filter((op) => op.type === 'capture' && op.status === 'succeeded').map((op) => op.amount)).toEqual([2600]);
      expect(await stripeLedger(stack, checkout.id)).toEqual([]);
    });
  });
});

/**
 * 3-D Secure on the `stripe` connector, over HTTP against the running local stack (`npm start` as
 * a child process, the real ASL in the emulator, the Stripe-protocol sandbox and its signed
 * webhooks): the merchant routes every payment to stripe (`default: ["stripe"]`), the buyer vaults
 * a card and pays with the `pm_`. A challenge completed, failed, answered twice and abandoned (the
 * 15 min timeout compressed to 4 s), the challenge-then-decline card, the frictionless card, and
 * an off-session renewal on a challenge card that fails `authentication_required`. The Stripe
 * sandbox's own ledger proves the money invariants (nothing left authorized on failures) and that
 * the sandbox PSP saw nothing.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, PaystepClient } from '../../local/paystep-client';
import { fetchLedger, type LedgerOperation } from '../../local/sandbox-psp/client';
import { moneyInvariantViolations } from '../support/money-invariants';
import { startStackProcess, type StackProcess } from './harness';

const CHALLENGE = '4000002760003184';
const CHALLENGE_THEN_DECLINE = '4000008260003178';
const FRICTIONLESS = '4000000000003055';
const ABANDON_AFTER_MS = 4000;
const AMOUNT = 3150;

interface NextActionView {
  type: string;
  redirect_to_url: { url: string; return_url: string | null };
}

interface CheckoutView {
  id: string;
  status: string;
  failure_reason: string | null;
  next_action: NextActionView | null;
  events: { type: string; at: string; data?: Record<string, unknown> }[];
  payment: {
    captured_amount: number;
    attempts: {
      connector: string;
      status: string;
      psp_reference: string | null;
      failure_code: string | null;
      next_action: NextActionView | null;
      three_d_secure: { flow: string; authenticated: boolean; liability_shift: boolean } | null;
    }[];
  } | null;
}

let stack: StackProcess;
let api: PaystepClient;

beforeAll(async () => {
  stack = await startStackProcess({ PAYSTEP_AUTHENTICATION_WAIT_TIMEOUT_MS: String(ABANDON_AFTER_MS) });
  api = new PaystepClient(stack.apiUrl);
  const routed = await api.call('PUT', '/v1/routing', {
    token: stack.secretKey,
    body: { rules: [], default: ['stripe'], failover: false },
  });
  expect(routed.status, routed.text).toBe(200);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 30_000);

async function createCheckout(extra: Record<string, unknown> = {}): Promise<{ id: string; client_secret: string }> {
  const created = await api.call<{ id: string; client_secret: string }>('POST', '/v1/checkouts', {
    token: stack.secretKey,
    body: {
      merchant_order_ref: `s3ds_${randomBytes(6).toString('hex')}`,
      amount: AMOUNT,
      currency: 'EUR',
      items: [{ sku: 'tshirt', name: 'Paystep T-shirt', quantity: 1 }],
      success_url: `${stack.merchantUrl}/thanks`,
      failure_url: `${stack.merchantUrl}/sorry`,
      ...extra,
    },
  });
  expect(created.status, created.text).toBe(201);
  return created.body;
}

/** The buyer vaults `card` at Paystep and pays the checkout with the `pm_` (client secret). */
async function payAsBuyer(checkout: { id: string; client_secret: string }, card: string): Promise<string> {
  const vaulted = await api.call<{ id: string }>('POST', '/v1/payment_methods', {
    token: checkout.client_secret,
    body: { type: 'card', card: { number: card, exp_month: 12, exp_year: 2040, cvc: '123' }, checkout: checkout.id },
  });
  expect(vaulted.status, vaulted.text).toBe(201);
  const paid = await api.call('POST', `/v1/checkouts/${checkout.id}/pay`, {
    token: checkout.client_secret,
    body: { payment_method: vaulted.body.id },
  });
  expect(paid.status, paid.text).toBe(202);
  return vaulted.body.id;
}

async function pay(card: string): Promise<{ id: string; clientSecret: string }> {
  const checkout = await createCheckout();
  await payAsBuyer(checkout, card);
  return { id: checkout.id, clientSecret: checkout.client_secret };
}

async function checkoutOf(id: string): Promise<CheckoutView> {
  const answer = await api.call<CheckoutView>('GET', `/v1/checkouts/${id}`, { token: stack.secretKey });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

async function openChallenge(id: string, clientSecret: string) {
  const status = await eventually(
    () => api.status(id, clientSecret),
    (view) => view.status !== 'processing',
    20_000,
  );
  expect(status.status).toBe('requires_action');
  return status;
}

async function answerChallenge(url: string, outcome: 'complete' | 'fail'): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `outcome=${outcome}`,
  });
}

async function stripeLedger(reference: string): Promise<LedgerOperation[]> {
  const response = await fetch(`${stack.stripeSandboxUrl}/v1/test/ledger?reference=${encodeURIComponent(reference)}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { operations: LedgerOperation[] }).operations;
}

/** The Stripe sandbox's ledger for the checkout, checked against the money invariants; the sandbox PSP saw nothing. */
async function settledLedger(id: string): Promise<LedgerOperation[]> {
  const checkout = await checkoutOf(id);
  const ledger = await stripeLedger(id);
  expect(moneyInvariantViolations({ ...checkout, amount: AMOUNT, confirmationRequired: true }, ledger)).toEqual([]);
  expect(await fetchLedger(stack.pspUrl, id)).toEqual([]);
  return ledger;
}

/** The PaymentIntent as the Stripe sandbox keeps it (status, capturable amount). */
async function intentOf(pspReference: string): Promise<{ status: string; amount_capturable: number }> {
  const response = await fetch(`${stack.stripeSandboxUrl}/v1/payment_intents/${pspReference}`, {
    headers: { authorization: 'Bearer sk_test_paystep_sandbox' },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { status: string; amount_capturable: number };
}

const succeededRows = (ledger: LedgerOperation[], type: LedgerOperation['type']) =>
  ledger.filter((row) => row.type === type && row.status === 'succeeded');
const timelineTypes = (checkout: CheckoutView) => checkout.events.map((event) => event.type);

describe('3-D Secure challenge on stripe', () => {
  it('completed: requires_action with a redirect to the Stripe challenge page, then authorized with liability shift, inventory confirmed after, captured once', async () => {
    // Prepare
    const { id, clientSecret } = await pay(CHALLENGE);
    const status = await openChallenge(id, clientSecret);
    const open = await checkoutOf(id);
    // Act
    const redirect = await answerChallenge(status.next_action!.redirect_to_url.url, 'complete');
    const final = await api.waitForTerminal(id, clientSecret, 30_000);
    // Assess
    expect(status.next_action).toEqual({
      type: 'redirect_to_url',
      redirect_to_url: {
        url: expect.stringMatching(new RegExp(`^${stack.stripeSandboxUrl}/3d_secure_2/challenge/pi_`)),
        return_url: `${stack.apiUrl}/checkout/${id}?three_ds=return`,
      },
    });
    expect(open.payment?.attempts[0]).toMatchObject({
      connector: 'stripe',
      status: 'requires_action',
      next_action: status.next_action,
    });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(`${stack.apiUrl}/checkout/${id}?three_ds=return`);
    expect(final.status).toBe('succeeded');
    const checkout = await checkoutOf(id);
    expect(checkout.payment?.attempts[0]).toMatchObject({
      connector: 'stripe',
      status: 'captured',
      next_action: null,
      three_d_secure: { flow: 'challenge', authenticated: true, liability_shift: true },
    });
    const types = timelineTypes(checkout);
    expect(types.indexOf('requires_action')).toBeGreaterThan(-1);
    expect(types.indexOf('requires_action')).toBeLessThan(types.indexOf('authorized'));
    expect(types.indexOf('authorized')).toBeLessThan(types.indexOf('inventory_confirmed'));
    const ledger = await settledLedger(id);
    expect(succeededRows(ledger, 'capture').map((row) => row.amount)).toEqual([AMOUNT]);
  }, 60_000);

  it('failed: failed / authentication_failed, nothing authorized at Stripe, inventory never asked', async () => {
    // Prepare
    const { id, clientSecret } = await pay(CHALLENGE);
    const status = await openChallenge(id, clientSecret);
    // Act
    await answerChallenge(status.next_action!.redirect_to_url.url, 'fail');
    const final = await api.waitForTerminal(id, clientSecret, 30_000);
    // Assess
    expect(final).toMatchObject({ status: 'failed', failure_reason: 'authentication_failed', next_action: null });
    const checkout = await checkoutOf(id);
    expect(checkout.payment?.attempts[0]).toMatchObject({
      connector: 'stripe',
      status: 'failed',
      failure_code: 'authentication_failed',
    });
    expect(timelineTypes(checkout)).not.toContain('inventory_confirmed');
    const ledger = await settledLedger(id);
    expect(succeededRows(ledger, 'authorize')).toEqual([]);
    expect(succeededRows(ledger, 'capture')).toEqual([]);
    expect((await intentOf(checkout.payment!.attempts[0]!.psp_reference!)).amount_capturable).toBe(0);
  }, 60_000);

  it('a duplicate challenge answer changes nothing: one authorization, one capture', async () => {
    // Prepare
    const { id, clientSecret } = await pay(CHALLENGE);
    const status = await openChallenge(id, clientSecret);
    const url = status.next_action!.redirect_to_url.url;
    // Act
    const first = await answerChallenge(url, 'complete');
    const second = await answerChallenge(url, 'fail');
    const final = await api.waitForTerminal(id, clientSecret, 30_000);
    // Assess
    expect([first.status, second.status]).toEqual([302, 302]);
    expect(final.status).toBe('succeeded');
    const ledger = await settledLedger(id);
    expect(succeededRows(ledger, 'authorize')).toHaveLength(1);
    expect(succeededRows(ledger, 'capture')).toHaveLength(1);
  }, 60_000);

  it('abandoned: after the (compressed) 15 min the PaymentIntent is canceled, failed / authentication_failed; a late answer changes nothing', async () => {
    // Prepare
    const { id, clientSecret } = await pay(CHALLENGE);
    const status = await openChallenge(id, clientSecret);
    // Act
    const final = await api.waitForTerminal(id, clientSecret, ABANDON_AFTER_MS + 20_000);
    const late = await answerChallenge(status.next_action!.redirect_to_url.url, 'complete');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Assess
    expect(final).toMatchObject({ status: 'failed', failure_reason: 'authentication_failed' });
    expect(late.status).toBe(302);
    const checkout = await checkoutOf(id);
    expect(checkout.status).toBe('failed');
    expect(checkout.payment?.attempts[0]).toMatchObject({ status: 'failed', failure_code: 'authentication_failed' });
    expect(timelineTypes(checkout)).toContain('authentication_abandoned');
    expect(await intentOf(checkout.payment!.attempts[0]!.psp_reference!)).toMatchObject({
      status: 'canceled',
      amount_capturable: 0,
    });
    const ledger = await settledLedger(id);
    expect(succeededRows(ledger, 'authorize')).toEqual([]);
  }, 60_000);
});

describe('other 3-D Secure cards on stripe', () => {
  it('challenge then decline: failed / payment_declined with insufficient_funds on the attempt, nothing authorized', async () => {
    // Prepare
    const { id, clientSecret } = await pay(CHALLENGE_THEN_DECLINE);
    const status = await openChallenge(id, clientSecret);
    // Act
    await answerChallenge(status.next_action!.redirect_to_url.url, 'complete');
    const final = await api.waitForTerminal(id, clientSecret, 30_000);
    // Assess
    expect(final).toMatchObject({ status: 'failed', failure_reason: 'payment_declined' });
    const checkout = await checkoutOf(id);
    expect(checkout.payment?.attempts[0]).toMatchObject({
      connector: 'stripe',
      status: 'failed',
      failure_code: 'insufficient_funds',
    });
    expect(succeededRows(await settledLedger(id), 'authorize')).toEqual([]);
  }, 60_000);

  it('frictionless: succeeds without a challenge, with frictionless liability shift recorded', async () => {
    // Prepare
    const { id, clientSecret } = await pay(FRICTIONLESS);
    // Act
    const final = await api.waitForTerminal(id, clientSecret, 30_000);
    // Assess
    expect(final.status).toBe('succeeded');
    const checkout = await checkoutOf(id);
    expect(timelineTypes(checkout)).not.toContain('requires_action');
    expect(checkout.payment?.attempts[0]).toMatchObject({
      connector: 'stripe',
      three_d_secure: { flow: 'frictionless', authenticated: true, liability_shift: true },
    });
    expect(succeededRows(await settledLedger(id), 'capture')).toHaveLength(1);
  }, 60_000);

  it('off-session: a renewal on a saved challenge card fails authentication_required at Stripe, nothing authorized', async () => {
    // Prepare: the buyer's first purchase saves the card after a completed challenge
    const customer = await api.call<{ id: string }>('POST', '/v1/customers', {
      token: stack.secretKey,
      body: { name: 'Renewing buyer (3-D Secure card)' },
    });
    expect(customer.status, customer.text).toBe(201);
    const first = await createCheckout({ customer: customer.body.id, save_payment_method: true });
    const paymentMethod = await payAsBuyer(first, CHALLENGE);
    const challenge = await openChallenge(first.id, first.client_secret);
    await answerChallenge(challenge.next_action!.redirect_to_url.url, 'complete');
    expect((await api.waitForTerminal(first.id, first.client_secret, 30_000)).status).toBe('succeeded');
    const renewal = await createCheckout({ customer: customer.body.id });
    // Act
    const paid = await api.call('POST', `/v1/checkouts/${renewal.id}/pay`, {
      token: stack.secretKey,
      body: { payment_method: paymentMethod, off_session: true },
    });
    const final = await api.waitForTerminal(renewal.id, renewal.client_secret, 30_000);
    // Assess
    expect(paid.status, paid.text).toBe(202);
    expect(final).toMatchObject({ status: 'failed', failure_reason: 'authentication_required', next_action: null });
    const checkout = await checkoutOf(renewal.id);
    expect(checkout.payment?.attempts[0]).toMatchObject({
      connector: 'stripe',
      status: 'failed',
      failure_code: 'authentication_required',
    });
    expect(timelineTypes(checkout)).not.toContain('requires_action');
    const ledger = await settledLedger(renewal.id);
    expect(ledger).toMatchObject([
      { type: 'authorize', status: 'failed', failure_code: 'authentication_required', off_session: true },
    ]);
  }, 90_000);
});

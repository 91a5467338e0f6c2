/**
 * Another card after a decline (DESIGN Part 2), end to end over HTTP against the running local
 * stack: a checkout created with `max_payment_attempts` reopens after a declined try (status
 * `open`, `last_payment_error`, `payment.failed` to the merchant) and a later pay with another
 * card succeeds on the same checkout; out of tries it fails as in Part 1; a declined try never
 * reaches the merchant's inventory confirmation; duplicate pays during a try start one execution.
 * The PSP's own ledger is checked every time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchLedger, tokenizeTestCard, type LedgerOperation } from '../../local/sandbox-psp/client';
import { eventually, PaystepClient } from '../../local/paystep-client';
import { executionNameFor } from '../../lambdas/use-cases/pay-checkout';
import { moneyInvariantViolations } from '../support/money-invariants';
import { startStackProcess, type StackProcess } from './harness';

const CARD_OK = '4242424242424242';
const CARD_DECLINED = '4000000000000002';

interface Bought {
  checkout_id: string;
  client_secret: string;
  merchant_order_ref: string;
}

interface MerchantCheckout {
  id: string;
  amount: number;
  status: string;
  failure_reason: string | null;
  max_payment_attempts: number;
  last_payment_error: { code: string; message: string } | null;
  payment: { attempts: { status: string; failure_code: string | null }[] } | null;
  events: { type: string; at: string; data?: Record<string, unknown> }[];
}

interface Order {
  state: string;
  blocked_at: string | null;
  webhooks: { type: string }[];
}

let stack: StackProcess;
let api: PaystepClient;

/** A checkout created by the demo merchant's server (POST /buy, JSON) with `maxPaymentAttempts` tries. */
async function buy(maxPaymentAttempts: number): Promise<Bought> {
  const response = await fetch(`${stack.merchantUrl}/buy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sku: 'mug', quantity: 1, max_payment_attempts: maxPaymentAttempts }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Bought;
}

async function checkoutAsMerchant(checkoutId: string): Promise<MerchantCheckout> {
  const answer = await api.call<MerchantCheckout>('GET', `/v1/checkouts/${checkoutId}`, { token: stack.secretKey });
  expect(answer.status).toBe(200);
  return answer.body;
}

async function order(checkoutId: string): Promise<Order | undefined> {
  const response = await fetch(`${stack.merchantUrl}/orders?order_ref=${checkoutId}`);
  return ((await response.json()) as { orders: Order[] }).orders[0];
}

/** Pays with `card` and waits until the try is over: the checkout reopened (open with an error) or terminal. */
async function payAndSettle(bought: Bought, card: string) {
  const token = await tokenizeTestCard(stack.pspUrl, card);
  const paid = await api.pay(bought.checkout_id, bought.client_secret, token);
  expect(paid.status).toBe(202);
  return eventually(
    () => api.status(bought.checkout_id, bought.client_secret),
    (status) => status.status !== 'processing',
    60_000,
  );
}

async function expectMoneyInvariants(checkoutId: string): Promise<LedgerOperation[]> {
  const checkout = await checkoutAsMerchant(checkoutId);
  const ledger = await fetchLedger(stack.pspUrl, checkoutId);
  expect(moneyInvariantViolations({ ...checkout, confirmationRequired: true }, ledger)).toEqual([]);
  return ledger;
}

const ops = (ledger: LedgerOperation[], type: LedgerOperation['type'], status: LedgerOperation['status']) =>
  ledger.filter((op) => op.type === type && op.status === status);

beforeAll(async () => {
  stack = await startStackProcess();
  api = new PaystepClient(stack.apiUrl);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('another card after a decline', () => {
  it('reopens the checkout after a decline and succeeds with another card on the same checkout', async () => {
    // Prepare
    const bought = await buy(3);

    // Act: a declined card, then a good one
    const afterDecline = await payAndSettle(bought, CARD_DECLINED);
    const reopened = await checkoutAsMerchant(bought.checkout_id);
    const final = await payAndSettle(bought, CARD_OK);

    // Assess
    expect(afterDecline).toMatchObject({
      status: 'open',
      redirect_url: null,
      last_payment_error: { code: 'card_declined', message: expect.stringMatching(/another card/) },
    });
    expect(reopened).toMatchObject({ status: 'open', max_payment_attempts: 3, failure_reason: null });
    expect(reopened.events.map((e) => e.type)).toContain('payment_failed');
    expect(final).toMatchObject({ status: 'succeeded' });
    const done = await checkoutAsMerchant(bought.checkout_id);
    expect(done.payment?.attempts.map((a) => [a.status, a.failure_code])).toEqual([
      ['failed', 'card_declined'],
      ['captured', null],
    ]);
    const ledger = await expectMoneyInvariants(bought.checkout_id);
    expect(ops(ledger, 'authorize', 'failed')).toHaveLength(1);
    expect(ops(ledger, 'authorize', 'succeeded')).toHaveLength(1);
    expect(ops(ledger, 'capture', 'succeeded')).toHaveLength(1);
    expect(new Set(ledger.filter((op) => op.type === 'authorize').map((op) => op.idempotency_key))).toEqual(
      new Set([`${bought.checkout_id}:authorize`, `${bought.checkout_id}:t2:authorize`]),
    );
    const merchantOrder = await eventually(
      () => order(bought.checkout_id),
      (o) => o?.state === 'sold' && o.webhooks.some((w) => w.type === 'payment.failed'),
    );
    expect(merchantOrder?.webhooks.map((w) => w.type)).toEqual(expect.arrayContaining(['payment.failed', 'checkout.succeeded']));
  }, 120_000);

  it('fails the checkout as in Part 1 once the tries are used up', async () => {
    // Prepare
    const bought = await buy(2);

    // Act
    const first = await payAndSettle(bought, CARD_DECLINED);
    const second = await payAndSettle(bought, CARD_DECLINED);

    // Assess
    expect(first.status).toBe('open');
    expect(second).toMatchObject({ status: 'failed', failure_reason: 'payment_declined' });
    expect(second.redirect_url).toContain('failure_reason=payment_declined');
    const ledger = await expectMoneyInvariants(bought.checkout_id);
    expect(ops(ledger, 'authorize', 'failed')).toHaveLength(2);
    expect(ledger.filter((op) => op.type === 'capture' || op.status === 'succeeded')).toEqual([]);
    const token = await tokenizeTestCard(stack.pspUrl, CARD_OK);
    const late = await api.pay(bought.checkout_id, bought.client_secret, token);
    expect(late.status).toBe(200);
    expect(late.body.status).toBe('failed');
  }, 120_000);

  it('never asks the merchant to confirm inventory for a declined try', async () => {
    // Prepare
    const bought = await buy(3);

    // Act
    await payAndSettle(bought, CARD_DECLINED);

    // Assess
    const checkout = await checkoutAsMerchant(bought.checkout_id);
    const types = checkout.events.map((e) => e.type);
    expect(types).toContain('authorization_declined');
    expect(types.some((type) => type.startsWith('inventory_'))).toBe(false);
    const merchantOrder = await eventually(
      () => order(bought.checkout_id),
      (o) => o?.webhooks.some((w) => w.type === 'payment.failed') === true,
    );
    expect(merchantOrder?.blocked_at ?? null).toBeNull();
  }, 120_000);

  it('starts one execution for duplicate pays during a try', async () => {
    // Prepare: the first try was declined
    const bought = await buy(3);
    await payAndSettle(bought, CARD_DECLINED);
    const token = await tokenizeTestCard(stack.pspUrl, CARD_OK);

    // Act: ten pays at once for the second try
    const answers = await Promise.all(Array.from({ length: 10 }, () => api.pay(bought.checkout_id, bought.client_secret, token)));
    const final = await api.waitForTerminal(bought.checkout_id, bought.client_secret, 60_000);

    // Assess
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 10 }, () => 202));
    expect(final.status).toBe('succeeded');
    const names = (await stack.listExecutions())
      .map((e) => e.name)
      .filter((name) => name?.startsWith(bought.checkout_id) === true);
    expect(names.sort()).toEqual([executionNameFor(bought.checkout_id, 1), executionNameFor(bought.checkout_id, 2)].sort());
    const checkout = await checkoutAsMerchant(bought.checkout_id);
    expect(checkout.events.filter((e) => e.type === 'payment_started')).toHaveLength(2);
    const ledger = await expectMoneyInvariants(bought.checkout_id);
    expect(ops(ledger, 'authorize', 'succeeded')).toHaveLength(1);
    expect(ops(ledger, 'capture', 'succeeded')).toHaveLength(1);
  }, 120_000);
});

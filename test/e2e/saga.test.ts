/**
 * The payment saga end to end over HTTP against the running local stack (`npm start` as a child
 * process: DynamoDB Local, the real ASL on the local engine, the sandbox PSP and the demo
 * merchant as their own servers). Every scenario checks the PSP's own ledger for the money
 * invariants, and the demo merchant's stock for overselling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { LOCAL_AWS } from '../../local/dynamodb-local';
import { stateMachineArnFor } from '../../local/stepfunctions-emulator';
import { fetchLedger, tokenizeTestCard, type LedgerOperation } from '../../local/sandbox-psp/client';
import { eventually, PaystepClient } from '../../local/paystep-client';
import { moneyInvariantViolations } from '../support/money-invariants';
import type { CatalogueProduct } from '../../bench/checkout-driver';
import { startStackProcess, type StackProcess } from './harness';

const CARD_OK = '4242424242424242';
const CARD_DECLINED = '4000000000000002';
const CARD_5XX_ONCE = '4000000000000119';
const CARD_HANG_AUTHORIZE = '4000000000000333';

type Product = CatalogueProduct;

interface Order {
  order_ref: string | null;
  merchant_order_ref: string;
  state: string;
  blocked_at: string | null;
  webhooks: { type: string }[];
}

const CATALOGUE: Product[] = [
  { sku: 'mug', name: 'Mug', unit_amount: 1250, currency: 'USD', stock: 100 },
  { sku: 'sold-out', name: 'Sold out print', unit_amount: 15000, currency: 'USD', stock: 0 },
  {
    sku: 'broken',
    name: 'Broken backend',
    unit_amount: 999,
    currency: 'USD',
    stock: 10,
    behavior: { status: 500, body: 'upstream exploded', contentType: 'text/plain' },
  },
  { sku: 'slow', name: 'Slow backend', unit_amount: 999, currency: 'USD', stock: 10, behavior: { delayMs: 11_000 } },
  { sku: 'steady', name: 'One-second backend', unit_amount: 2000, currency: 'USD', stock: 10, behavior: { delayMs: 1_000 } },
  { sku: 'limited', name: 'Limited drop', unit_amount: 5000, currency: 'USD', stock: 10 },
];

let stack: StackProcess;

/** The checkout's (first try's) execution history, as the bench reads it. */
async function executionHistory(checkoutId: string): Promise<HistoryEvent[]> {
  const client = new SFNClient({ ...LOCAL_AWS, endpoint: stack.sfnUrl });
  try {
    const executionArn = `${stateMachineArnFor().replace(':stateMachine:', ':execution:')}:${checkoutId}`;
    const page = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    return page.events ?? [];
  } finally {
    client.destroy();
  }
}
let api: PaystepClient;

async function merchantGet<T>(path: string): Promise<T> {
  const response = await fetch(`${stack.merchantUrl}${path}`);
  return (await response.json()) as T;
}

async function product(sku: string): Promise<Product> {
  const { products } = await merchantGet<{ products: Product[] }>('/products');
  return products.find((p) => p.sku === sku)!;
}

async function order(checkoutId: string): Promise<Order | undefined> {
  const { orders } = await merchantGet<{ orders: Order[] }>(`/orders?order_ref=${checkoutId}`);
  return orders[0];
}

/** The demo shop's Buy button: a checkout created server-side by the merchant. */
async function buy(
  sku: string,
  quantity = 1,
): Promise<{ checkout_id: string; client_secret: string; merchant_order_ref: string }> {
  const response = await fetch(`${stack.merchantUrl}/buy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sku, quantity }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { checkout_id: string; client_secret: string; merchant_order_ref: string };
}

async function checkoutAsMerchant(checkoutId: string): Promise<{
  id: string;
  amount: number;
  status: string;
  events: { type: string; at: string; data?: Record<string, unknown> }[];
}> {
  const answer = await api.call<{ id: string; amount: number; status: string; events: { type: string; at: string }[] }>(
    'GET',
    `/v1/checkouts/${checkoutId}`,
    {
      token: stack.secretKey,
    },
  );
  expect(answer.status).toBe(200);
  return answer.body;
}

async function expectMoneyInvariants(checkoutId: string): Promise<LedgerOperation[]> {
  const checkout = await checkoutAsMerchant(checkoutId);
  const ledger = await fetchLedger(stack.pspUrl, checkoutId);
  expect(moneyInvariantViolations({ ...checkout, confirmationRequired: true }, ledger)).toEqual([]);
  return ledger;
}

function succeeded(ledger: LedgerOperation[], type: LedgerOperation['type']): LedgerOperation[] {
  return ledger.filter((op) => op.type === type && op.status === 'succeeded');
}

/** Buys one unit, pays with the card, waits for the terminal status. */
async function purchase(sku: string, card: string) {
  const bought = await buy(sku);
  const token = await tokenizeTestCard(stack.pspUrl, card);
  const paid = await api.pay(bought.checkout_id, bought.client_secret, token);
  expect(paid.status).toBe(202);
  expect(paid.body.status).toBe('processing');
  const terminal = await api.waitForTerminal(bought.checkout_id, bought.client_secret, 60_000);
  return { ...bought, terminal };
}

beforeAll(async () => {
  // A 2 s PSP timeout (default 8 s) keeps the hang scenario short; the PSP answers others in ms.
  stack = await startStackProcess({ PSP_TIMEOUT_MS: '2000' });
  api = new PaystepClient(stack.apiUrl);
  const response = await fetch(`${stack.merchantUrl}/admin/products`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(CATALOGUE),
  });
  expect(response.status).toBe(200);
});

afterAll(async () => {
  await stack?.stop();
});

describe('payment saga over HTTP', () => {
  it('success: authorized, confirmed, captured once, redirected to success, merchant marks the item sold', async () => {
    const before = await product('mug');
    const { checkout_id, terminal } = await purchase('mug', CARD_OK);

    expect(terminal.status).toBe('succeeded');
    expect(terminal.redirect_url).toContain('/thanks');
    expect(terminal.redirect_url).toContain(`checkout_id=${checkout_id}`);
    const ledger = await expectMoneyInvariants(checkout_id);
    expect(succeeded(ledger, 'authorize')).toHaveLength(1);
    expect(succeeded(ledger, 'capture').map((op) => op.amount)).toEqual([1250]);
    expect(succeeded(ledger, 'void')).toHaveLength(0);
    expect(ledger.every((op) => op.idempotency_key.startsWith(`${checkout_id}:`))).toBe(true);
    const sold = await eventually(
      () => order(checkout_id),
      (o) => o?.state === 'sold',
    );
    expect(sold?.state).toBe('sold');
    const after = await product('mug');
    expect(after.stock).toBe(before.stock - 1);
    expect(after.sold).toBe((before.sold ?? 0) + 1);
    const checkout = await checkoutAsMerchant(checkout_id);
    expect(checkout.events.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'created',
        'payment_started',
        'authorized',
        'inventory_confirmed',
        'captured',
        'succeeded',
        'webhook_delivered',
      ]),
    );
    // The merchant's decision is one row, with the time its request was sent.
    const confirmed = checkout.events.find((e) => e.type === 'inventory_confirmed')!;
    const authorized = checkout.events.find((e) => e.type === 'authorized')!;
    const sentAt = Date.parse(String(confirmed.data?.sent_at));
    expect(sentAt).toBeGreaterThanOrEqual(Date.parse(authorized.at));
    expect(sentAt).toBeLessThanOrEqual(Date.parse(confirmed.at));
    // Two state transitions and two saga invocations (what the bench counts from the history):
    // CapturePayment confirmed the inventory (the row above) and captured in one Task.
    const history = await executionHistory(checkout_id);
    expect(history.filter((e) => e.type?.endsWith('StateEntered')).map((e) => e.stateEnteredEventDetails?.name)).toEqual([
      'AuthorizePayment',
      'CapturePayment',
    ]);
    expect(history.filter((e) => e.type === 'LambdaFunctionScheduled')).toHaveLength(2);
  });

  it('decline: failed with payment_declined, nothing captured, no confirmation call', async () => {
    const { checkout_id, terminal } = await purchase('mug', CARD_DECLINED);

    expect(terminal).toMatchObject({ status: 'failed', failure_reason: 'payment_declined' });
    expect(terminal.redirect_url).toContain('/sorry');
    const ledger = await expectMoneyInvariants(checkout_id);
    expect(ledger.filter((op) => op.type === 'authorize').map((op) => op.status)).toEqual(['failed']);
    expect(succeeded(ledger, 'capture')).toHaveLength(0);
    const checkout = await checkoutAsMerchant(checkout_id);
    expect(checkout.events.some((e) => e.type.startsWith('inventory_'))).toBe(false);
    const merchantOrder = await order(checkout_id);
    expect(merchantOrder?.blocked_at ?? null).toBeNull();
  });

  it("out of stock: voided, never captured, failure page shows the merchant's reason, stock untouched", async () => {
    const { checkout_id, terminal } = await purchase('sold-out', CARD_OK);

    expect(terminal).toMatchObject({
      status: 'failed',
      failure_reason: 'inventory_rejected',
      failure_message: 'Insufficient inventory for sold-out',
    });
    expect(terminal.redirect_url).toContain('failure_reason=inventory_rejected');
    const ledger = await expectMoneyInvariants(checkout_id);
    expect(succeeded(ledger, 'void')).toHaveLength(1);
    expect(succeeded(ledger, 'capture')).toHaveLength(0);
    const soldOut = await product('sold-out');
    expect(soldOut).toMatchObject({ stock: 0, blocked: 0, sold: 0 });
  });

  it('merchant answers 500 with a non-JSON body: rejected with the status line, voided', async () => {
    const { checkout_id, terminal } = await purchase('broken', CARD_OK);

    expect(terminal).toMatchObject({
      status: 'failed',
      failure_reason: 'inventory_rejected',
      failure_message: '500 Internal Server Error',
    });
    const ledger = await expectMoneyInvariants(checkout_id);
    expect(succeeded(ledger, 'void')).toHaveLength(1);
    expect(succeeded(ledger, 'capture')).toHaveLength(0);
  });

  it('merchant sleeps 11 s: failed with inventory_timeout within the 10 s, voided, the late 200 changes nothing', async () => {
    const { checkout_id, terminal } = await purchase('slow', CARD_OK);

    expect(terminal).toMatchObject({ status: 'failed', failure_reason: 'inventory_timeout' });
    const checkout = await checkoutAsMerchant(checkout_id);
    // No row is written before the merchant's answer (nothing after the deadline either): the step
    // starts right after the `authorized` row, so the wait is measured from there.
    const authorized = checkout.events.find((e) => e.type === 'authorized')!;
    const failed = checkout.events.find((e) => e.type === 'failed')!;
    const waited = Date.parse(failed.at) - Date.parse(authorized.at);
    // The merchant gets what is left of the step's 10 s less the 0.5 s reserved for recording the answer.
    expect(waited).toBeGreaterThanOrEqual(9_000);
    expect(waited).toBeLessThan(11_500);
    expect(checkout.events.some((e) => e.type === 'inventory_confirmed' || e.type === 'inventory_rejected')).toBe(false);
    // The merchant's late 200 arrives at ~11 s and blocks stock on its side; the failed webhook
    // unblocks it, and Paystep's outcome does not move.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const ledger = await expectMoneyInvariants(checkout_id);
    expect(succeeded(ledger, 'void')).toHaveLength(1);
    expect(succeeded(ledger, 'capture')).toHaveLength(0);
    expect((await checkoutAsMerchant(checkout_id)).status).toBe('failed');
    const slow = await eventually(
      () => product('slow'),
      (p) => p.blocked === 0,
    );
    expect(slow).toMatchObject({ stock: 10, blocked: 0, sold: 0 });
  }, 60_000);

  it('PSP answers 5xx then ok: retried with the same key, captured once', async () => {
    const { checkout_id, terminal } = await purchase('mug', CARD_5XX_ONCE);

    expect(terminal.status).toBe('succeeded');
    const ledger = await expectMoneyInvariants(checkout_id);
    expect(succeeded(ledger, 'authorize')).toHaveLength(1);
    expect(succeeded(ledger, 'capture')).toHaveLength(1);
    expect(succeeded(ledger, 'authorize')[0]!.idempotency_key).toBe(`${checkout_id}:authorize`);
  });

  it('PSP hangs past our timeout on authorize: the same-key retry resolves it, captured once', async () => {
    const { checkout_id, terminal } = await purchase('mug', CARD_HANG_AUTHORIZE);

    expect(terminal.status).toBe('succeeded');
    const ledger = await expectMoneyInvariants(checkout_id);
    expect(ledger.filter((op) => op.type === 'authorize')).toHaveLength(1);
    expect(succeeded(ledger, 'capture')).toHaveLength(1);
  }, 60_000);

  it('GET /v1/checkouts/{id} lists the payment attempt: captured on success, failed with the decline code, voided when out of stock', async () => {
    // Act
    const success = await purchase('mug', CARD_OK);
    const decline = await purchase('mug', CARD_DECLINED);
    const outOfStock = await purchase('sold-out', CARD_OK);
    // Assess
    const attemptsOf = async (checkoutId: string) => {
      const answer = await api.call<{
        amount: number;
        currency: string;
        payment: { psp_reference: string | null; attempts: Record<string, unknown>[] };
      }>('GET', `/v1/checkouts/${checkoutId}`, { token: stack.secretKey });
      expect(answer.status).toBe(200);
      return answer.body;
    };
    const captured = await attemptsOf(success.checkout_id);
    expect(captured.payment.attempts).toEqual([
      {
        id: expect.stringMatching(/^att_/),
        connector: 'sandbox',
        status: 'captured',
        amount: captured.amount,
        currency: captured.currency,
        psp_reference: captured.payment.psp_reference,
        failure_code: null,
        created_at: expect.any(String),
        next_action: null,
        three_d_secure: null,
      },
    ]);
    expect((await attemptsOf(decline.checkout_id)).payment.attempts).toMatchObject([
      { status: 'failed', failure_code: 'card_declined' },
    ]);
    expect((await attemptsOf(outOfStock.checkout_id)).payment.attempts).toMatchObject([
      { status: 'voided', psp_reference: expect.stringMatching(/^auth_/) },
    ]);
  });

  it('20 concurrent pays: one answer, one execution, one capture', async () => {
    const bought = await buy('steady');
    const token = await tokenizeTestCard(stack.pspUrl, CARD_OK);

    const answers = await Promise.all(Array.from({ length: 20 }, () => api.pay(bought.checkout_id, bought.client_secret, token)));

    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    const terminal = await api.waitForTerminal(bought.checkout_id, bought.client_secret);
    expect(terminal.status).toBe('succeeded');
    const ledger = await expectMoneyInvariants(bought.checkout_id);
    expect(ledger.filter((op) => op.type === 'authorize')).toHaveLength(1);
    expect(succeeded(ledger, 'capture')).toHaveLength(1);
    const executions = await stack.listExecutions();
    expect(executions.filter((e) => e.name === bought.checkout_id)).toHaveLength(1);
    const checkout = await checkoutAsMerchant(bought.checkout_id);
    expect(checkout.events.filter((e) => e.type === 'payment_started')).toHaveLength(1);
  });

  it('50 buyers race for 10 units: exactly 10 succeed, 40 are voided, stock never negative', async () => {
    const carts = await Promise.all(Array.from({ length: 50 }, () => buy('limited')));
    const tokens = await Promise.all(carts.map(() => tokenizeTestCard(stack.pspUrl, CARD_OK)));

    const paid = await Promise.all(carts.map((cart, i) => api.pay(cart.checkout_id, cart.client_secret, tokens[i]!)));
    expect(paid.every((p) => p.status === 202)).toBe(true);
    const outcomes = await Promise.all(
      carts.map((cart) => api.waitForTerminal(cart.checkout_id, cart.client_secret, 120_000, 250)),
    );

    expect(outcomes.filter((o) => o.status === 'succeeded')).toHaveLength(10);
    const failures = outcomes.filter((o) => o.status === 'failed');
    expect(failures).toHaveLength(40);
    expect(new Set(failures.map((o) => o.failure_reason))).toEqual(new Set(['inventory_rejected']));
    const ledger = await fetchLedger(stack.pspUrl);
    let captures = 0;
    let voids = 0;
    for (const cart of carts) {
      const own = ledger.filter((op) => op.reference === cart.checkout_id);
      const checkout = await checkoutAsMerchant(cart.checkout_id);
      expect(moneyInvariantViolations({ ...checkout, confirmationRequired: true }, own)).toEqual([]);
      captures += succeeded(own, 'capture').length;
      voids += succeeded(own, 'void').length;
    }
    expect(captures).toBe(10);
    expect(voids).toBe(40);
    const limited = await eventually(
      () => product('limited'),
      (p) => p.sold === 10 && p.blocked === 0,
    );
    expect(limited).toMatchObject({ stock: 0, blocked: 0, sold: 10 });
  }, 180_000);
});

/**
 * Financial instruments over HTTP against the running local stack (`npm start` as a child
 * process): a checkout paid through the saga becomes an instrument the merchant refunds through
 * the instrument API, with exact balances and the sandbox PSP's ledger as proof; a checkout the
 * merchant rejects leaves a revoked instrument with nothing to capture or refund.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchLedger, tokenizeTestCard } from '../../local/sandbox-psp/client';
import { PaystepClient } from '../../local/paystep-client';
import { moneyInvariantViolations } from '../support/money-invariants';
import { startStackProcess, type StackProcess } from './harness';

const CARD_OK = '4242424242424242';

interface TransactionView {
  transaction_id: string;
  type: string;
  status: string;
  capture_amount: number;
  refund_amount: number;
}

interface InstrumentView {
  id: string;
  status: string;
  type: string;
  checkout_id: string | null;
  psp_reference: string | null;
  capturable_amount: number;
  refundable_amount: number;
  transactions: TransactionView[];
}

interface CheckoutView {
  id: string;
  status: string;
  amount: number;
  client_secret?: string;
  events: { type: string; at: string }[];
  payment: { instrument_id: string | null; psp_reference: string | null; captured_amount: number } | null;
}

let stack: StackProcess;
let api: PaystepClient;

/** Creates a checkout as the demo merchant, pays it with a test card, waits for the terminal status. */
async function payCheckout(items: { sku: string; name: string; quantity: number }[], amount: number): Promise<CheckoutView> {
  const created = await api.call<CheckoutView>('POST', '/v1/checkouts', {
    token: stack.secretKey,
    body: {
      merchant_order_ref: `e2e_${randomBytes(6).toString('hex')}`,
      amount,
      currency: 'USD',
      items,
      success_url: `${stack.merchantUrl}/thanks`,
      failure_url: `${stack.merchantUrl}/sorry`,
    },
  });
  expect(created.status, created.text).toBe(201);
  const { id, client_secret: clientSecret } = created.body;
  const token = await tokenizeTestCard(stack.pspUrl, CARD_OK);
  expect((await api.pay(id, clientSecret!, token)).status).toBe(202);
  await api.waitForTerminal(id, clientSecret!, 60_000);
  const checkout = await api.call<CheckoutView>('GET', `/v1/checkouts/${id}`, { token: stack.secretKey });
  return checkout.body;
}

async function instrument(id: string): Promise<InstrumentView> {
  const answer = await api.call<InstrumentView>('GET', `/v1/financial_instruments/${id}`, { token: stack.secretKey });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

beforeAll(async () => {
  stack = await startStackProcess();
  api = new PaystepClient(stack.apiUrl);
});

afterAll(async () => {
  await stack?.stop();
});

describe('financial instruments over HTTP', () => {
  it('a paid checkout is an instrument: refund part of it, balances exact, the PSP ledger agrees', async () => {
    // Prepare: a successful checkout (the demo merchant confirms stock of its t-shirt)
    const checkout = await payCheckout([{ sku: 'tshirt', name: 'Paystep T-shirt', quantity: 1 }], 2500);
    expect(checkout.status).toBe('succeeded');
    const instrumentId = checkout.payment?.instrument_id;
    expect(instrumentId).toMatch(/^fi_/);
    const before = await instrument(instrumentId!);
    expect(before).toMatchObject({
      type: 'authorized',
      status: 'active',
      checkout_id: checkout.id,
      capturable_amount: 0,
      refundable_amount: 2500,
    });
    expect(before.transactions.map((t) => [t.type, t.capture_amount, t.refund_amount, t.status])).toEqual([
      ['authorization', 2500, 0, 'succeeded'],
      ['capture', -2500, 0, 'succeeded'],
      ['capture', 0, 2500, 'succeeded'],
    ]);

    // Act: refund 1000 (sent twice with one key: the second is a replay)
    const key = `refund_${randomBytes(6).toString('hex')}`;
    const refund = await api.call<{ transactions: TransactionView[]; refundable_amount: number }>(
      'POST',
      `/v1/financial_instruments/${instrumentId}/_refund`,
      {
        token: stack.secretKey,
        idempotencyKey: key,
        body: { amount: 1000, currency: 'USD' },
      },
    );
    const replay = await api.call('POST', `/v1/financial_instruments/${instrumentId}/_refund`, {
      token: stack.secretKey,
      idempotencyKey: key,
      body: { amount: 1500, currency: 'USD' },
    });

    // Assess
    expect(refund.status, refund.text).toBe(200);
    expect(refund.body.transactions.map((t) => [t.type, t.capture_amount, t.refund_amount, t.status])).toEqual([
      ['refund', 0, -1000, 'succeeded'],
    ]);
    expect(refund.body.refundable_amount).toBe(1500);
    expect(replay.text).toBe(refund.text);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const after = await instrument(instrumentId!);
    expect(after).toMatchObject({ capturable_amount: 0, refundable_amount: 1500 });
    const ledger = await fetchLedger(stack.pspUrl, checkout.id);
    expect(ledger.filter((op) => op.status === 'succeeded').map((op) => [op.type, op.amount])).toEqual([
      ['authorize', 2500],
      ['capture', 2500],
      ['refund', 1000],
    ]);
    // transaction_id is the PSP's own id of the refund (seed advice).
    expect(ledger.find((op) => op.type === 'refund')?.id).toBe(refund.body.transactions[0]!.transaction_id);
    expect(moneyInvariantViolations({ ...checkout, confirmationRequired: true }, ledger)).toEqual([]);
    // Over-refund is refused before the PSP is asked.
    const tooMuch = await api.call<{ error: { code: string; param: string } }>(
      'POST',
      `/v1/financial_instruments/${instrumentId}/_refund`,
      {
        token: stack.secretKey,
        idempotencyKey: `refund_${randomBytes(6).toString('hex')}`,
        body: { amount: 1501, currency: 'USD' },
      },
    );
    expect([tooMuch.status, tooMuch.body.error.code, tooMuch.body.error.param]).toEqual([
      422,
      'amount_exceeds_refundable',
      'amount',
    ]);
  });

  it('a checkout the merchant rejects leaves a revoked instrument: nothing to capture or refund', async () => {
    // Prepare + Act: the demo merchant does not know this SKU, so it rejects; the saga voids
    const checkout = await payCheckout([{ sku: `unknown-${randomBytes(3).toString('hex')}`, name: 'Ghost', quantity: 1 }], 700);
    // Assess
    expect(checkout.status).toBe('failed');
    const voided = await instrument(checkout.payment!.instrument_id!);
    expect(voided).toMatchObject({ status: 'voided', capturable_amount: 0, refundable_amount: 0 });
    expect(voided.transactions.map((t) => [t.type, t.capture_amount, t.refund_amount])).toEqual([
      ['authorization', 700, 0],
      ['revoke', -700, 0],
    ]);
    const capture = await api.call<{ error: { code: string } }>('POST', `/v1/financial_instruments/${voided.id}/_capture`, {
      token: stack.secretKey,
      body: { amount: 1, currency: 'USD' },
    });
    expect([capture.status, capture.body.error.code]).toEqual([409, 'instrument_voided']);
    const ledger = await fetchLedger(stack.pspUrl, checkout.id);
    expect(ledger.filter((op) => op.status === 'succeeded').map((op) => op.type)).toEqual(['authorize', 'void']);
  });
});

/**
 * Manual capture and authorization expiry over HTTP against the running local stack (`npm start`
 * as a child process, expiry compressed: valid 14 s, warned 7 s before). A manual checkout ends
 * succeeded with nothing captured and its authorization held; the merchant captures part through
 * the instrument API (the PSP ledger shows one capture of that amount). Another one reaches its
 * expiry: `authorization.expiring`, then the merchant's default, void (or, once the setting says
 * so, capture of the rest), proved by the sandbox PSP's ledger and GET /v1/events.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, PaystepClient } from '../../local/paystep-client';
import { fetchLedger, tokenizeTestCard, type LedgerOperation } from '../../local/sandbox-psp/client';
import { moneyInvariantViolations } from '../support/money-invariants';
import { startStackProcess, type StackProcess } from './harness';

const CARD_OK = '4242424242424242';
const VALIDITY_SECONDS = 14;
const WARNING_SECONDS = 7;

interface CheckoutView {
  id: string;
  status: string;
  amount: number;
  capture_method: string;
  client_secret?: string;
  events: { type: string; at: string; data: Record<string, unknown> }[];
  payment: {
    capture_method: string;
    authorized_amount: number;
    captured_amount: number;
    capturable_amount: number;
    voided: boolean;
    instrument_id: string | null;
    authorization_expires_at: string | null;
  } | null;
}

interface EventView {
  id: string;
  type: string;
  created: number;
  created_at: string;
  data: {
    object?: { id?: string; payment?: CheckoutView['payment'] };
    expires_at?: string;
    expired_authorization_action?: string;
  };
}

let stack: StackProcess;
let api: PaystepClient;

/** A manual-capture checkout of one t-shirt (the demo merchant confirms stock), paid and terminal. */
async function payManualCheckout(amount: number): Promise<CheckoutView> {
  const created = await api.call<CheckoutView>('POST', '/v1/checkouts', {
    token: stack.secretKey,
    body: {
      merchant_order_ref: `mc_${randomBytes(6).toString('hex')}`,
      amount,
      currency: 'USD',
      items: [{ sku: 'tshirt', name: 'Paystep T-shirt', quantity: 1 }],
      success_url: `${stack.merchantUrl}/thanks`,
      failure_url: `${stack.merchantUrl}/sorry`,
      capture_method: 'manual',
    },
  });
  expect(created.status, created.text).toBe(201);
  expect(created.body.capture_method).toBe('manual');
  const token = await tokenizeTestCard(stack.pspUrl, CARD_OK);
  expect((await api.pay(created.body.id, created.body.client_secret!, token)).status).toBe(202);
  await api.waitForTerminal(created.body.id, created.body.client_secret!, 60_000);
  return await checkoutOf(created.body.id);
}

async function checkoutOf(id: string): Promise<CheckoutView> {
  const answer = await api.call<CheckoutView>('GET', `/v1/checkouts/${id}`, { token: stack.secretKey });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

/** The merchant's events of `type` about checkout `id` (GET /v1/events). */
async function eventsAbout(id: string, type: string): Promise<EventView[]> {
  const answer = await api.call<{ data: EventView[] }>('GET', `/v1/events?type=${type}&limit=100`, { token: stack.secretKey });
  expect(answer.status, answer.text).toBe(200);
  return answer.body.data.filter((event) => event.data.object?.id === id);
}

function succeeded(ledger: LedgerOperation[]): [string, number][] {
  return ledger.filter((op) => op.status === 'succeeded').map((op) => [op.type, op.amount]);
}

async function assertInvariants(checkout: CheckoutView): Promise<void> {
  const ledger = await fetchLedger(stack.pspUrl, checkout.id);
  expect(moneyInvariantViolations({ ...checkout, confirmationRequired: true, captureMethod: 'manual' }, ledger)).toEqual([]);
}

beforeAll(async () => {
  stack = await startStackProcess({
    AUTHORIZATION_VALIDITY_SECONDS: String(VALIDITY_SECONDS),
    AUTHORIZATION_EXPIRY_WARNING_SECONDS: String(WARNING_SECONDS),
  });
  api = new PaystepClient(stack.apiUrl);
});

afterAll(async () => {
  await stack?.stop();
});

describe('manual capture', () => {
  let partlyCaptured: CheckoutView;

  it('succeeds with nothing captured and the authorization held; the merchant captures part through _capture', async () => {
    // Prepare + Act: the saga authorizes and confirms, then holds instead of capturing
    const checkout = await payManualCheckout(2500);

    // Assess: succeeded, nothing captured, everything capturable until the expiry
    expect(checkout.status).toBe('succeeded');
    expect(checkout.payment).toMatchObject({
      capture_method: 'manual',
      authorized_amount: 2500,
      captured_amount: 0,
      capturable_amount: 2500,
      voided: false,
    });
    expect(checkout.payment?.instrument_id).toMatch(/^fi_/);
    const types = checkout.events.map((event) => event.type);
    expect(types.indexOf('inventory_confirmed')).toBeGreaterThan(-1);
    expect(types.indexOf('authorization_held')).toBeGreaterThan(types.indexOf('inventory_confirmed'));
    expect(types).not.toContain('captured');
    const authorizedAt = Date.parse(checkout.events.find((event) => event.type === 'authorized')!.at);
    expect(Date.parse(checkout.payment!.authorization_expires_at!) - authorizedAt).toBeGreaterThanOrEqual(
      VALIDITY_SECONDS * 1000 - 1000,
    );
    expect(succeeded(await fetchLedger(stack.pspUrl, checkout.id))).toEqual([['authorize', 2500]]);
    await assertInvariants(checkout);
    const result = await eventually(
      () => eventsAbout(checkout.id, 'checkout.succeeded'),
      (events) => events.length === 1,
    );
    expect(result[0]?.data.object?.payment).toMatchObject({
      captured_amount: 0,
      capturable_amount: 2500,
      capture_method: 'manual',
    });
    expect(await eventsAbout(checkout.id, 'payment.authorized')).toHaveLength(1);
    expect(await eventsAbout(checkout.id, 'payment.captured')).toHaveLength(0);

    // Act: the merchant captures 1000 (sent twice with one key: one capture)
    const key = `cap_${randomBytes(6).toString('hex')}`;
    const capture = await api.call<{ capturable_amount: number; refundable_amount: number }>(
      'POST',
      `/v1/financial_instruments/${checkout.payment!.instrument_id}/_capture`,
      {
        token: stack.secretKey,
        idempotencyKey: key,
        body: { amount: 1000, currency: 'USD' },
      },
    );
    const replay = await api.call('POST', `/v1/financial_instruments/${checkout.payment!.instrument_id}/_capture`, {
      token: stack.secretKey,
      idempotencyKey: key,
      body: { amount: 1000, currency: 'USD' },
    });

    // Assess: one capture of 1000 at the PSP; the checkout shows the instrument's amounts
    expect(capture.status, capture.text).toBe(200);
    expect(capture.body).toMatchObject({ capturable_amount: 1500, refundable_amount: 1000 });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(succeeded(await fetchLedger(stack.pspUrl, checkout.id))).toEqual([
      ['authorize', 2500],
      ['capture', 1000],
    ]);
    partlyCaptured = await checkoutOf(checkout.id);
    expect(partlyCaptured.payment).toMatchObject({ captured_amount: 1000, capturable_amount: 1500, voided: false });
    await assertInvariants(partlyCaptured);
  });

  it('warns with authorization.expiring, then voids at expiry by default (PSP ledger and events agree)', async () => {
    // Prepare + Act: a second manual checkout left alone until its authorization expires
    const checkout = await payManualCheckout(1800);
    expect(checkout.payment).toMatchObject({ captured_amount: 0, capturable_amount: 1800 });
    const expiring = await eventually(
      () => eventsAbout(checkout.id, 'authorization.expiring'),
      (events) => events.length > 0,
      30_000,
      250,
    );
    const voided = await eventually(
      () => eventsAbout(checkout.id, 'payment.voided'),
      (events) => events.length > 0,
      30_000,
      250,
    );

    // Assess: warned once (before the expiry), then voided exactly once at the PSP
    expect(expiring).toHaveLength(1);
    expect(expiring[0]?.data).toMatchObject({
      expired_authorization_action: 'void',
      expires_at: checkout.payment!.authorization_expires_at,
    });
    expect(Date.parse(expiring[0]!.created_at)).toBeLessThan(Date.parse(checkout.payment!.authorization_expires_at!));
    expect(Date.parse(voided[0]!.created_at)).toBeGreaterThanOrEqual(Date.parse(checkout.payment!.authorization_expires_at!));
    expect(voided[0]?.data.object?.payment).toMatchObject({ voided: true, capturable_amount: 0, captured_amount: 0 });
    expect(succeeded(await fetchLedger(stack.pspUrl, checkout.id))).toEqual([
      ['authorize', 1800],
      ['void', 1800],
    ]);
    const after = await checkoutOf(checkout.id);
    expect(after.status).toBe('succeeded');
    expect(after.payment).toMatchObject({ voided: true, capturable_amount: 0 });
    expect(after.events.filter((event) => event.type === 'authorization_expiring')).toHaveLength(1);
    expect(after.events.find((event) => event.type === 'authorization_expired')?.data).toMatchObject({
      action: 'void',
      outcome: 'succeeded',
      amount: 1800,
    });
    await assertInvariants(after);

    // The first checkout expired meanwhile too: its uncaptured remainder was released, the capture kept.
    const first = await eventually(
      () => checkoutOf(partlyCaptured.id),
      (view) => view.payment?.voided === true,
      30_000,
      250,
    );
    expect(first.payment).toMatchObject({ captured_amount: 1000, capturable_amount: 0 });
    expect(succeeded(await fetchLedger(stack.pspUrl, first.id))).toEqual([
      ['authorize', 2500],
      ['capture', 1000],
      ['void', 1500],
    ]);
    await assertInvariants(first);
  });

  it('captures the rest at expiry when expired_authorization_action is capture', async () => {
    // Prepare
    const settings = await api.call<{ expired_authorization_action: string }>('PUT', '/v1/settings', {
      token: stack.secretKey,
      body: { expired_authorization_action: 'capture' },
    });
    expect(settings.status, settings.text).toBe(200);
    expect(settings.body.expired_authorization_action).toBe('capture');

    // Act
    const checkout = await payManualCheckout(1200);
    const captured = await eventually(
      () => eventsAbout(checkout.id, 'payment.captured'),
      (events) => events.length > 0,
      30_000,
      250,
    );

    // Assess
    expect(await eventsAbout(checkout.id, 'authorization.expiring')).toMatchObject([
      { data: { expired_authorization_action: 'capture' } },
    ]);
    expect(captured[0]?.data.object?.payment).toMatchObject({ captured_amount: 1200, capturable_amount: 0, voided: false });
    expect(succeeded(await fetchLedger(stack.pspUrl, checkout.id))).toEqual([
      ['authorize', 1200],
      ['capture', 1200],
    ]);
    const after = await checkoutOf(checkout.id);
    expect(after.payment).toMatchObject({ captured_amount: 1200, capturable_amount: 0 });
    expect(after.events.find((event) => event.type === 'authorization_expired')?.data).toMatchObject({
      action: 'capture',
      outcome: 'succeeded',
      amount: 1200,
    });
    await assertInvariants(after);
  });
});

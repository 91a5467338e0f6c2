/**
 * 3-D Secure over HTTP against the running local stack (`npm start` as a child process, the
 * real ASL in the emulator, the sandbox PSP): a challenge completed, failed, answered twice,
 * abandoned (the 15 min timeout compressed to 4 s) and answered late, the challenge-then-decline
 * card, and a frictionless card. The checkout and its status show `requires_action` with
 * `next_action` while the challenge is open; inventory is confirmed only after authentication;
 * the sandbox's ledger proves nothing stays authorized when the payment fails.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, PaystepClient } from '../../local/paystep-client';
import { fetchLedger, tokenizeTestCard, type LedgerOperation } from '../../local/sandbox-psp/client';
import { moneyInvariantViolations } from '../support/money-invariants';
import { startStackProcess, type StackProcess } from './harness';

const CHALLENGE = '4000002760003184';
const CHALLENGE_THEN_DECLINE = '4000008260003178';
const FRICTIONLESS = '4000000000003055';
const ABANDON_AFTER_MS = 4000;

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
      status: string;
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
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 30_000);

async function pay(card: string): Promise<{ id: string; clientSecret: string }> {
  const created = await api.call<CheckoutView & { client_secret: string }>('POST', '/v1/checkouts', {
    token: stack.secretKey,
    body: {
      merchant_order_ref: `3ds_${randomBytes(6).toString('hex')}`,
      amount: 2599,
      currency: 'EUR',
      items: [{ sku: 'tshirt', name: 'Paystep T-shirt', quantity: 1 }],
      success_url: `${stack.merchantUrl}/thanks`,
      failure_url: `${stack.merchantUrl}/sorry`,
    },
  });
  expect(created.status, created.text).toBe(201);
  const token = await tokenizeTestCard(stack.pspUrl, card);
  const paid = await api.pay(created.body.id, created.body.client_secret, token);
  expect(paid.status, paid.text).toBe(202);
  return { id: created.body.id, clientSecret: created.body.client_secret };
}

async function checkoutOf(id: string): Promise<CheckoutView> {
  const answer = await api.call<CheckoutView>('GET', `/v1/checkouts/${id}`, { token: stack.secretKey });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

/** Waits for the challenge to open; returns the status view the hosted page polls. */
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

async function settledLedger(id: string): Promise<LedgerOperation[]> {
  const checkout = await checkoutOf(id);
  const ledger = await fetchLedger(stack.pspUrl, id);
  expect(moneyInvariantViolations({ ...checkout, amount: 2599, confirmationRequired: true }, ledger)).toEqual([]);
  return ledger;
}

function succeededRows(ledger: LedgerOperation[], type: LedgerOperation['type']): LedgerOperation[] {
  return ledger.filter((row) => row.type === type && row.status === 'succeeded');
}

function timelineTypes(checkout: CheckoutView): string[] {
  return checkout.events.map((event) => event.type);
}

describe('3-D Secure challenge', () => {
  it('completed: requires_action with next_action, then authorized with liability shift, inventory confirmed after, captured once', async () => {
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
        url: expect.stringMatching(new RegExp(`^${stack.pspUrl}/v1/challenges/auth_`)),
        return_url: `${stack.apiUrl}/checkout/${id}?three_ds=return`,
      },
    });
    expect(open).toMatchObject({ status: 'requires_action', next_action: status.next_action });
    expect(open.payment?.attempts[0]).toMatchObject({ status: 'requires_action', next_action: status.next_action });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(`${stack.apiUrl}/checkout/${id}?three_ds=return`);
    expect(final.status).toBe('succeeded');
    const checkout = await checkoutOf(id);
    expect(checkout.next_action).toBeNull();
    expect(checkout.payment?.attempts[0]).toMatchObject({
      status: 'captured',
      next_action: null,
      three_d_secure: { flow: 'challenge', authenticated: true, liability_shift: true },
    });
    const types = timelineTypes(checkout);
    expect(types.indexOf('requires_action')).toBeGreaterThan(-1);
    expect(types.indexOf('requires_action')).toBeLessThan(types.indexOf('authorized'));
    expect(types.indexOf('authorized')).toBeLessThan(types.indexOf('inventory_confirmed'));
    const ledger = await settledLedger(id);
    expect(succeededRows(ledger, 'capture')).toHaveLength(1);
  }, 60_000);

  it('publishes payment.requires_action while the buyer is at the challenge', async () => {
    // Prepare
    const { id, clientSecret } = await pay(CHALLENGE);
    const status = await openChallenge(id, clientSecret);
    // Act
    const events = await eventually(
      () =>
        api.call<{ data: { type: string; data: { object: { id: string; status: string } } }[] }>('GET', '/v1/events', {
          token: stack.secretKey,
        }),
      (answer) => answer.body.data.some((event) => event.type === 'payment.requires_action' && event.data.object.id === id),
      10_000,
    );
    await answerChallenge(status.next_action!.redirect_to_url.url, 'complete');
    await api.waitForTerminal(id, clientSecret, 30_000);
    // Assess
    const announced = events.body.data.find((event) => event.type === 'payment.requires_action' && event.data.object.id === id);
    expect(announced?.data.object.status).toBe('requires_action');
  }, 60_000);

  it('failed: failed / authentication_failed, nothing authorized, inventory never asked', async () => {
    // Prepare
    const { id, clientSecret } = await pay(CHALLENGE);
    const status = await openChallenge(id, clientSecret);
    // Act
    await answerChallenge(status.next_action!.redirect_to_url.url, 'fail');
    const final = await api.waitForTerminal(id, clientSecret, 30_000);
    // Assess
    expect(final).toMatchObject({ status: 'failed', failure_reason: 'authentication_failed', next_action: null });
    const checkout = await checkoutOf(id);
    expect(checkout.payment?.attempts[0]).toMatchObject({ status: 'failed', failure_code: 'authentication_failed' });
    expect(timelineTypes(checkout)).not.toContain('inventory_confirmed');
    const ledger = await settledLedger(id);
    expect(succeededRows(ledger, 'authorize')).toEqual([]);
    expect(succeededRows(ledger, 'capture')).toEqual([]);
  }, 60_000);

  it('a duplicate challenge result changes nothing: one authorization, one capture', async () => {
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

  it('abandoned: after the (compressed) 15 min the challenge is canceled, failed / authentication_failed; a late answer changes nothing', async () => {
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
    const ledger = await settledLedger(id);
    expect(succeededRows(ledger, 'authorize')).toEqual([]);
  }, 60_000);
});

describe('other 3-D Secure cards', () => {
  it('challenge then decline: failed / payment_declined with insufficient_funds on the attempt', async () => {
    // Prepare
    const { id, clientSecret } = await pay(CHALLENGE_THEN_DECLINE);
    const status = await openChallenge(id, clientSecret);
    // Act
    await answerChallenge(status.next_action!.redirect_to_url.url, 'complete');
    const final = await api.waitForTerminal(id, clientSecret, 30_000);
    // Assess
    expect(final).toMatchObject({ status: 'failed', failure_reason: 'payment_declined' });
    const checkout = await checkoutOf(id);
    expect(checkout.payment?.attempts[0]).toMatchObject({ status: 'failed', failure_code: 'insufficient_funds' });
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
    expect(checkout.payment?.attempts[0]?.three_d_secure).toEqual({
      flow: 'frictionless',
      authenticated: true,
      liability_shift: true,
    });
  }, 60_000);
});

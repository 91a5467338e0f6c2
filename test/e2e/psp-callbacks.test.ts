/**
 * PSP callbacks, late results and recovery, over HTTP against the running local stack (`npm start`
 * as a child process): results that arrive by signed callback later (the sandbox's async cards,
 * "30 s later" compressed to 3 s), duplicated and reordered callbacks, a PSP that hangs on capture
 * (resolved by a status query, captured once), a chargeback, a wait that times out, and a process
 * SIGKILLed mid-saga and restarted on the same data dir (the sweep finishes the payments). The
 * sandbox PSP's ledger (persisted in its data file) proves the money invariants every time.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPspCallback } from '../../lambdas/connectors/sandbox/callbacks';
import { eventually, PaystepClient } from '../../local/paystep-client';
import { fetchAuthorization, fetchLedger, tokenizeTestCard, type LedgerOperation } from '../../local/sandbox-psp/client';
import { moneyInvariantViolations } from '../support/money-invariants';
import { isAlive, startStackProcess, type StackProcess } from './harness';

const CARD_OK = '4242424242424242';
const CARD_ASYNC = '4000000000000770';
const CARD_DUPLICATES = '4000000000000887';
const CARD_OUT_OF_ORDER = '4000000000000994';
const CARD_HANG_CAPTURE = '4000000000000440';
const CALLBACK_SECRET = `pspcb_test_${randomBytes(12).toString('hex')}`;
const CALLBACK_DELAY_MS = 3000;

interface TimelineEvent {
  type: string;
  at: string;
  data?: Record<string, unknown>;
}

interface CheckoutView {
  id: string;
  status: string;
  amount: number;
  failure_reason: string | null;
  client_secret?: string;
  events: TimelineEvent[];
  payment: { instrument_id: string | null; psp_reference: string | null; captured_amount: number } | null;
}

function succeeded(ledger: LedgerOperation[], type: LedgerOperation['type']): LedgerOperation[] {
  return ledger.filter((row) => row.type === type && row.status === 'succeeded');
}

/** A checkout of one t-shirt (the demo merchant confirms stock), paid with `card`; returns its id and secret. */
async function startPayment(
  stack: StackProcess,
  api: PaystepClient,
  card: string,
): Promise<{ id: string; clientSecret: string; paidAt: number }> {
  const created = await api.call<CheckoutView>('POST', '/v1/checkouts', {
    token: stack.secretKey,
    body: {
      merchant_order_ref: `cb_${randomBytes(6).toString('hex')}`,
      amount: 2500,
      currency: 'USD',
      items: [{ sku: 'tshirt', name: 'Paystep T-shirt', quantity: 1 }],
      success_url: `${stack.merchantUrl}/thanks`,
      failure_url: `${stack.merchantUrl}/sorry`,
    },
  });
  expect(created.status, created.text).toBe(201);
  const token = await tokenizeTestCard(stack.pspUrl, card);
  const paidAt = Date.now();
  const paid = await api.pay(created.body.id, created.body.client_secret!, token);
  expect(paid.status, paid.text).toBe(202);
  return { id: created.body.id, clientSecret: created.body.client_secret!, paidAt };
}

async function checkoutOf(stack: StackProcess, api: PaystepClient, id: string): Promise<CheckoutView> {
  const answer = await api.call<CheckoutView>('GET', `/v1/checkouts/${id}`, { token: stack.secretKey });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

async function assertInvariants(stack: StackProcess, checkout: CheckoutView): Promise<LedgerOperation[]> {
  const ledger = await fetchLedger(stack.pspUrl, checkout.id);
  expect(moneyInvariantViolations({ ...checkout, confirmationRequired: true }, ledger)).toEqual([]);
  return ledger;
}

function callbacksOf(checkout: CheckoutView): { callback_id: string; callback_type: string; applied: boolean }[] {
  return checkout.events
    .filter((event) => event.type === 'psp_callback')
    .map((event) => event.data as { callback_id: string; callback_type: string; applied: boolean });
}

describe('PSP callbacks and unknown outcomes (one stack)', () => {
  let stack: StackProcess;
  let api: PaystepClient;

  beforeAll(async () => {
    stack = await startStackProcess({
      PSP_TIMEOUT_MS: '2000',
      SANDBOX_PSP_CALLBACK_SECRET: CALLBACK_SECRET,
      PAYSTEP_PSP_CALLBACK_DELAY_MS: String(CALLBACK_DELAY_MS),
    });
    api = new PaystepClient(stack.apiUrl);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('a pending authorization: the saga waits, the result arrives by callback 3 s later ("30 s", compressed), then captures once', async () => {
    // Prepare / Act
    const { id, clientSecret, paidAt } = await startPayment(stack, api, CARD_ASYNC);
    const terminal = await api.waitForTerminal(id, clientSecret, 60_000);
    // Assess: succeeded only after the callback delay, and the timeline tells why it waited
    expect(terminal.status).toBe('succeeded');
    expect(Date.now() - paidAt).toBeGreaterThanOrEqual(CALLBACK_DELAY_MS);
    const checkout = await checkoutOf(stack, api, id);
    const types = checkout.events.map((event) => event.type);
    expect(types.indexOf('authorization_pending')).toBeGreaterThan(-1);
    expect(types.indexOf('authorization_pending')).toBeLessThan(types.indexOf('authorized'));
    // The result callback either resumed the saga or found the result already learned by a status
    // query (the sweep tends waiting sagas every second locally): both are fine, it arrived. The
    // sandbox sends `authorization.pending` while its 202 is still on the way, so on a loaded
    // machine that report can reach Paystep before AuthorizePayment records the reference; it is
    // then recorded as unmatched (hardening rule) and changes nothing, so it is not required here.
    expect(callbacksOf(checkout).map((c) => c.callback_type)).toContain('authorization.succeeded');
    const ledger = await assertInvariants(stack, checkout);
    expect(succeeded(ledger, 'authorize')).toHaveLength(1);
    expect(succeeded(ledger, 'capture')).toHaveLength(1);
  });

  it('duplicate callbacks: every callback delivered twice is applied once', async () => {
    // Prepare / Act
    const { id, clientSecret } = await startPayment(stack, api, CARD_DUPLICATES);
    expect((await api.waitForTerminal(id, clientSecret, 60_000)).status).toBe('succeeded');
    // Assess: the PSP sent each id twice (2xx both times), Paystep recorded each id once
    const sent = await eventually(
      async () =>
        ((await (await fetch(`${stack.pspUrl}/v1/callbacks?reference=${id}`)).json()) as { data: { id: string; type: string }[] })
          .data,
      (rows) =>
        rows.some((row) => row.type === 'capture.succeeded') &&
        rows.filter((row) => row.type === 'capture.succeeded').length === 2,
    );
    const ids = sent.map((row) => row.id);
    expect(ids.length).toBe(new Set(ids).size * 2);
    const checkout = await eventually(
      () => checkoutOf(stack, api, id),
      (view) => callbacksOf(view).some((c) => c.callback_type === 'capture.succeeded'),
    );
    const recorded = callbacksOf(checkout).map((c) => c.callback_id);
    expect(recorded.length).toBe(new Set(recorded).size);
    // Every recorded callback was sent; the capture reports always follow the recorded reference,
    // so they are all matched. An authorization report can beat AuthorizePayment's write of the
    // reference on a loaded machine and is then stored unmatched (hardening rule), never applied.
    expect(recorded.every((callbackId) => ids.includes(callbackId))).toBe(true);
    const captureIds = sent.filter((row) => row.type.startsWith('capture.')).map((row) => row.id);
    expect(captureIds.length).toBeGreaterThan(0);
    for (const captureId of captureIds) expect(recorded).toContain(captureId);
    const ledger = await assertInvariants(stack, checkout);
    expect(succeeded(ledger, 'capture')).toHaveLength(1);
  });

  it('out-of-order callbacks: a late "pending" after "authorized" and a late "authorized" after the capture change nothing', async () => {
    // Prepare / Act
    const { id, clientSecret } = await startPayment(stack, api, CARD_OUT_OF_ORDER);
    expect((await api.waitForTerminal(id, clientSecret, 60_000)).status).toBe('succeeded');
    const checkout = await eventually(
      () => checkoutOf(stack, api, id),
      (view) => callbacksOf(view).filter((c) => c.callback_type === 'authorization.succeeded').length === 2,
    );
    // Assess: in arrival order; the stale ones are recorded but not applied
    const seen = callbacksOf(checkout);
    expect(seen.map((c) => c.callback_type)).toEqual([
      'authorization.succeeded',
      'authorization.pending',
      'capture.succeeded',
      'authorization.succeeded',
    ]);
    // (the first result may already have been learned by a status query; the stale ones never apply)
    expect(seen.slice(1).map((c) => c.applied)).toEqual([false, true, false]);
    expect(checkout.status).toBe('succeeded');
    const ledger = await assertInvariants(stack, checkout);
    expect(succeeded(ledger, 'capture')).toHaveLength(1);
  });

  it('signed callbacks sent by hand about an authorization no checkout recorded are stored as unmatched and change nothing', async () => {
    // Prepare: a signed void report then a signed (older) authorized report for a reference whose
    // authorization id Paystep never recorded (hardening rule: the reversed-order case on a
    // recorded authorization is covered by the out-of-order test above and the unit tests)
    const reference = `chk_manual_${randomBytes(6).toString('hex')}`;
    const send = async (id: string, type: string, sequence: number) => {
      const body = JSON.stringify({
        id,
        type,
        created: new Date().toISOString(),
        sequence,
        data: { authorization_id: 'auth_x', reference, amount: 100, currency: 'USD', status: 'x' },
      });
      const response = await fetch(`${stack.apiUrl}/v1/psp/sandbox/callbacks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'psp-signature': signPspCallback(CALLBACK_SECRET, Math.floor(Date.now() / 1000), body),
        },
        body,
      });
      return { status: response.status, body: (await response.json()) as { result: string; state: string } };
    };
    // Act
    const voided = await send(`pevt_${randomBytes(4).toString('hex')}_v`, 'void.succeeded', 3);
    const late = await send(`pevt_${randomBytes(4).toString('hex')}_a`, 'authorization.succeeded', 2);
    // Assess
    expect(voided).toEqual({ status: 200, body: expect.objectContaining({ result: 'unmatched', state: 'unknown' }) });
    expect(late).toEqual({ status: 200, body: expect.objectContaining({ result: 'unmatched', state: 'unknown' }) });
  });

  it('refuses unsigned, wrongly signed and stale-timestamp callbacks with 401, and an unknown connector with 404', async () => {
    // Prepare
    const body = JSON.stringify({
      id: 'pevt_forged',
      type: 'authorization.succeeded',
      created: new Date().toISOString(),
      data: { authorization_id: 'a', reference: 'chk_x', amount: 1, currency: 'USD' },
    });
    const post = (path: string, signature?: string) =>
      fetch(`${stack.apiUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature ? { 'psp-signature': signature } : {}) },
        body,
      });
    const now = Math.floor(Date.now() / 1000);
    // Act
    const unsigned = await post('/v1/psp/sandbox/callbacks');
    const forged = await post('/v1/psp/sandbox/callbacks', signPspCallback('not-the-secret', now, body));
    const replayed = await post('/v1/psp/sandbox/callbacks', signPspCallback(CALLBACK_SECRET, now - 3600, body));
    const unknown = await post('/v1/psp/acme/callbacks', signPspCallback(CALLBACK_SECRET, now, body));
    // Assess
    expect([unsigned.status, forged.status, replayed.status, unknown.status]).toEqual([401, 401, 401, 404]);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('a PSP that hangs on capture: the outcome is unknown, a status query shows it captured, captured exactly once', async () => {
    // Prepare / Act (PSP_TIMEOUT_MS 2 s; the PSP holds the capture answer 35 s)
    const { id, clientSecret, paidAt } = await startPayment(stack, api, CARD_HANG_CAPTURE);
    const terminal = await api.waitForTerminal(id, clientSecret, 60_000);
    // Assess: resolved well before the PSP's held answer, by the status query
    expect(terminal.status).toBe('succeeded');
    expect(Date.now() - paidAt).toBeLessThan(30_000);
    const checkout = await checkoutOf(stack, api, id);
    const types = checkout.events.map((event) => event.type);
    expect(types).toEqual(expect.arrayContaining(['psp_outcome_unknown', 'psp_outcome_resolved', 'captured', 'succeeded']));
    const ledger = await assertInvariants(stack, checkout);
    expect(succeeded(ledger, 'capture')).toHaveLength(1);
    expect(ledger.filter((row) => row.type === 'capture')).toHaveLength(1);
  });

  it('a chargeback callback becomes dispute.created and a dispute transaction that reduces the refundable amount', async () => {
    // Prepare: a captured payment
    const { id, clientSecret } = await startPayment(stack, api, CARD_OK);
    expect((await api.waitForTerminal(id, clientSecret, 60_000)).status).toBe('succeeded');
    const checkout = await checkoutOf(stack, api, id);
    // Act: the cardholder disputes 1000 of it at the PSP
    const disputed = await fetch(`${stack.pspUrl}/v1/authorizations/${checkout.payment!.psp_reference}/dispute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `dispute_${id}` },
      body: JSON.stringify({ amount: 1000, currency: 'USD', reason: 'fraudulent' }),
    });
    expect(disputed.status).toBe(200);
    // Assess: the instrument shows it, and the merchant gets the event
    const instrument = await eventually(
      async () =>
        (
          await api.call<{ refundable_amount: number; transactions: { type: string; refund_amount: number; status: string }[] }>(
            'GET',
            `/v1/financial_instruments/${checkout.payment!.instrument_id}`,
            { token: stack.secretKey },
          )
        ).body,
      (view) => view.transactions.some((t) => t.type === 'dispute'),
    );
    expect(instrument.refundable_amount).toBe(1500);
    expect(instrument.transactions.find((t) => t.type === 'dispute')).toMatchObject({
      refund_amount: -1000,
      status: 'succeeded',
    });
    // The event is stored after the instrument's dispute transaction (applyDispute), so it may land a moment later.
    const disputeEvent = await eventually(
      async () =>
        (
          await api.call<{ data: { type: string; data: { object: { amount: number; checkout_id: string } } }[] }>(
            'GET',
            '/v1/events?type=dispute.created',
            { token: stack.secretKey },
          )
        ).body.data.find((event) => event.data.object.checkout_id === id),
      (event) => event !== undefined,
    );
    expect(disputeEvent?.data.object.amount).toBe(1000);
  });
});

describe('recovery: a process killed mid-saga and restarted on the same data dir', () => {
  let dataDir: string;
  let second: StackProcess | undefined;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'paystep-recovery-'));
  });

  afterAll(async () => {
    await second?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGKILL while one capture hangs and one authorization is pending: after the restart the sweep finishes both from the PSP truth', async () => {
    // Prepare: a stack whose PSP holds capture answers for 2 min and async results for 60 s
    const env = { PAYSTEP_DATA_DIR: dataDir, SANDBOX_PSP_CALLBACK_SECRET: CALLBACK_SECRET, PAYSTEP_RECOVERY_AFTER_MS: '4000' };
    const first = await startStackProcess(
      { ...env, PSP_TIMEOUT_MS: '60000', PAYSTEP_PSP_CALLBACK_DELAY_MS: '60000', PAYSTEP_PSP_HANG_MS: '120000' },
      { inMemory: false },
    );
    let api = new PaystepClient(first.apiUrl);
    const hanging = await startPayment(first, api, CARD_HANG_CAPTURE);
    const pending = await startPayment(first, api, CARD_ASYNC);
    await eventually(
      () => fetchLedger(first.pspUrl, hanging.id),
      (rows) => rows.some((row) => row.type === 'capture'),
      30_000,
    );
    await eventually(
      () => checkoutOf(first, api, pending.id),
      (view) => view.events.some((e) => e.type === 'authorization_pending'),
      30_000,
    );

    // Act: kill -9 the stack mid-saga (and the DynamoDB Local JVM it started, by pid), restart on the data dir
    process.kill(first.pid, 'SIGKILL');
    for (const pid of first.descendantPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await eventually(
      async () => [first.pid, ...first.descendantPids].filter(isAlive),
      (alive) => alive.length === 0,
      10_000,
    );
    second = await startStackProcess(
      { ...env, PAYSTEP_PSP_CALLBACK_DELAY_MS: '60000', PAYSTEP_AUTHORIZATION_WAIT_TIMEOUT_MS: '4000' },
      { inMemory: false },
    );
    api = new PaystepClient(second.apiUrl);

    // Assess: the PSP had captured the hanging one -> succeeded; the pending one is voided -> failed/psp_error
    const captured = await eventually(
      () => checkoutOf(second!, api, hanging.id),
      (view) => view.status !== 'processing',
      60_000,
    );
    const voided = await eventually(
      () => checkoutOf(second!, api, pending.id),
      (view) => view.status !== 'processing',
      60_000,
    );
    expect(captured).toMatchObject({ status: 'succeeded', payment: expect.objectContaining({ captured_amount: 2500 }) });
    expect(voided).toMatchObject({ status: 'failed', failure_reason: 'psp_error' });
    for (const checkout of [captured, voided]) expect(checkout.events.map((e) => e.type)).toContain('recovery_started');
    const capturedLedger = await assertInvariants(second, captured);
    expect(succeeded(capturedLedger, 'capture')).toHaveLength(1);
    const voidedLedger = await assertInvariants(second, voided);
    expect(succeeded(voidedLedger, 'capture')).toHaveLength(0);
    expect(succeeded(voidedLedger, 'void')).toHaveLength(1);
    const authorization = await fetchAuthorization(
      second.pspUrl,
      voidedLedger.find((row) => row.type === 'void')!.authorization_id!,
    );
    expect(authorization?.status).toBe('voided');
  });

  it('a wait that times out (no callback within the compressed timeout) voids the pending authorization and fails with psp_error', async () => {
    // Prepare: the restarted stack waits 4 s, the PSP answers after 60 s
    expect(second).toBeDefined();
    const api = new PaystepClient(second!.apiUrl);
    // Act
    const { id, clientSecret } = await startPayment(second!, api, CARD_ASYNC);
    const terminal = await api.waitForTerminal(id, clientSecret, 60_000);
    // Assess
    expect(terminal).toMatchObject({ status: 'failed', failure_reason: 'psp_error' });
    const checkout = await checkoutOf(second!, api, id);
    const ledger = await assertInvariants(second!, checkout);
    expect(succeeded(ledger, 'void')).toHaveLength(1);
    expect(succeeded(ledger, 'authorize')).toHaveLength(0);
  });
});

/**
 * Routing rules and failover over HTTP (DESIGN Part 2 "Routing and failover"), against the running
 * local stack (`npm start` as a child process: DynamoDB Local, the real ASL, the sandbox PSP and
 * the Stripe-protocol sandbox): a rule per condition (currency, amount range, card brand, card
 * country) and the default; failover on an unavailable PSP, a timeout and a soft decline, each
 * checked on both PSPs' own ledgers; no failover on a hard decline or with `failover: false`; a
 * timed-out attempt its PSP did authorize kept as the one. Each test onboards its own merchant (its
 * own rules); outages are switched on with the sandboxes' `PUT /v1/test/outage` and reset after
 * each test.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PaystepClient } from '../../local/paystep-client';
import { fetchLedger, setOutage, type LedgerOperation } from '../../local/sandbox-psp/client';
import { crossLedgerViolations } from '../support/cross-ledger-invariants';
import { startStackProcess, type StackProcess } from './harness';

interface Attempt {
  id: string;
  connector: string;
  status: string;
  failure_code: string | null;
}

interface PaidCheckout {
  id: string;
  amount: number;
  status: string;
  failure_reason: string | null;
  next_action: { type: string; redirect_to_url: { url: string; return_url: string | null } } | null;
  payment: { attempts: (Attempt & { three_d_secure: { flow: string } | null })[] } | null;
}

const VISA = '4242424242424242';
const MASTERCARD = '5555555555554444';
/** Stripe's country test cards (4000 00NNN…, NNN the ISO 3166 numeric code): they approve on both sandboxes. */
const VISA_DE = '4000002760000016';
const VISA_GB = '4000008260000000';
const SOFT_DECLINE = '4000000000000101'; // do_not_honor on both sandboxes
const HARD_DECLINE = '4000000000009995'; // insufficient_funds
const HANG_AUTHORIZE = '4000000000000333'; // authorized at once, answer held past Paystep's PSP timeout
const FRICTIONLESS = '4000000000003055'; // 3-D Secure without a challenge, unless the request requires one

let stack: StackProcess;
let api: PaystepClient;

beforeAll(async () => {
  // 2 s PSP timeout; a `timeout` outage holds a request 4 s, then answers 503 (each test stays short).
  stack = await startStackProcess({ PSP_TIMEOUT_MS: '2000', PAYSTEP_PSP_HANG_MS: '4000' });
  api = new PaystepClient(stack.apiUrl);
});

afterAll(async () => {
  await stack?.stop();
});

afterEach(async () => {
  await Promise.all([setOutage(stack.pspUrl, 'none'), setOutage(stack.stripeSandboxUrl, 'none')]);
});

/** A new merchant (admin onboarding) with these routing rules; its secret key. */
async function merchantWithRouting(routing: Record<string, unknown>): Promise<string> {
  const onboarded = await api.call<{ secret_key: string }>('POST', '/v1/merchants', {
    token: stack.adminToken,
    body: { name: `Routing ${randomBytes(4).toString('hex')}` },
  });
  expect(onboarded.status, onboarded.text).toBe(201);
  const key = onboarded.body.secret_key;
  const put = await api.call('PUT', '/v1/routing', { token: key, body: routing });
  expect(put.status, put.text).toBe(200);
  return key;
}

const TERMINAL = (status: string): boolean => status === 'succeeded' || status === 'failed';

/** Creates a checkout, vaults `number` for it, pays with the `pm_` and returns the checkout once terminal (or `until` holds). */
async function pay(
  key: string,
  number: string,
  amount: number,
  currency: string,
  until: (status: string) => boolean = TERMINAL,
): Promise<PaidCheckout> {
  const created = await api.call<{ id: string }>('POST', '/v1/checkouts', {
    token: key,
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
    token: key,
    body: { type: 'card', card: { number, exp_month: 12, exp_year: 2040, cvc: '123' } },
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
    if (until(checkout.body.status)) return checkout.body;
    if (Date.now() > deadline) throw new Error(`checkout ${created.body.id} still ${checkout.body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

async function stripeLedger(reference: string): Promise<LedgerOperation[]> {
  const response = await fetch(`${stack.stripeSandboxUrl}/v1/test/ledger?reference=${encodeURIComponent(reference)}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { operations: LedgerOperation[] }).operations;
}

/** Both PSPs' books for a checkout, each row tagged with its PSP. */
async function ledgers(reference: string) {
  const [sandbox, stripe] = await Promise.all([fetchLedger(stack.pspUrl, reference), stripeLedger(reference)]);
  return {
    sandbox,
    stripe,
    all: [...sandbox.map((op) => ({ ...op, connector: 'sandbox' })), ...stripe.map((op) => ({ ...op, connector: 'stripe' }))],
  };
}

function attemptsOf(checkout: PaidCheckout): [string, string, string | null][] {
  return (checkout.payment?.attempts ?? []).map((attempt) => [attempt.connector, attempt.status, attempt.failure_code]);
}

function connectorsOf(checkout: PaidCheckout): string[] {
  return (checkout.payment?.attempts ?? []).map((attempt) => attempt.connector);
}

/** The operator view's failover counters per connector (last hour, every merchant of the stack). */
async function failoverCounts(): Promise<Record<string, { out: number; in: number }>> {
  const answer = await api.call<{ data: { connector: string; failovers_out: number; failovers_in: number }[] }>(
    'GET',
    '/v1/operator/connectors',
    { token: stack.adminToken },
  );
  expect(answer.status, answer.text).toBe(200);
  return Object.fromEntries(answer.body.data.map((row) => [row.connector, { out: row.failovers_out, in: row.failovers_in }]));
}

function succeededOps(ops: LedgerOperation[], type: string): number[] {
  return ops.filter((op) => op.type === type && op.status === 'succeeded').map((op) => op.amount);
}

describe('routing by condition (the first rule whose conditions all hold; otherwise default)', () => {
  it('routes by currency', async () => {
    // Prepare
    const key = await merchantWithRouting({
      rules: [{ conditions: { currency: ['EUR'] }, connectors: ['stripe'] }],
      default: ['sandbox'],
      failover: false,
    });
    // Act
    const [eur, usd] = await Promise.all([pay(key, VISA, 4200, 'EUR'), pay(key, VISA, 4200, 'USD')]);
    // Assess
    expect([eur.status, usd.status]).toEqual(['succeeded', 'succeeded']);
    expect(connectorsOf(eur)).toEqual(['stripe']);
    expect(connectorsOf(usd)).toEqual(['sandbox']);
    expect(succeededOps(await stripeLedger(eur.id), 'capture')).toEqual([4200]);
    expect(succeededOps(await fetchLedger(stack.pspUrl, usd.id), 'capture')).toEqual([4200]);
  });

  it('routes by amount range: amount_gte inclusive, amount_lt exclusive', async () => {
    // Prepare
    const key = await merchantWithRouting({
      rules: [{ conditions: { amount_gte: 10000, amount_lt: 20000 }, connectors: ['stripe'] }],
      default: ['sandbox'],
      failover: false,
    });
    // Act
    const [below, lowest, highest, upper] = await Promise.all([
      pay(key, VISA, 9999, 'USD'),
      pay(key, VISA, 10000, 'USD'),
      pay(key, VISA, 19999, 'USD'),
      pay(key, VISA, 20000, 'USD'),
    ]);
    // Assess
    expect([below, lowest, highest, upper].map((checkout) => checkout.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expect([below, lowest, highest, upper].map(connectorsOf)).toEqual([['sandbox'], ['stripe'], ['stripe'], ['sandbox']]);
  });

  it('routes by card brand (from the vault)', async () => {
    // Prepare
    const key = await merchantWithRouting({
      rules: [{ conditions: { card_brand: ['mastercard'] }, connectors: ['stripe'] }],
      default: ['sandbox'],
      failover: false,
    });
    // Act
    const [mastercard, visa] = await Promise.all([pay(key, MASTERCARD, 3100, 'USD'), pay(key, VISA, 3100, 'USD')]);
    // Assess
    expect([mastercard.status, visa.status]).toEqual(['succeeded', 'succeeded']);
    expect(connectorsOf(mastercard)).toEqual(['stripe']);
    expect(connectorsOf(visa)).toEqual(['sandbox']);
  });

  it('routes by the card country the vault derived from the BIN; a card of another country takes the default', async () => {
    // Prepare
    const key = await merchantWithRouting({
      rules: [{ conditions: { card_country: ['DE'] }, connectors: ['stripe'] }],
      default: ['sandbox'],
      failover: false,
    });
    // Act
    const [german, british, american] = await Promise.all([
      pay(key, VISA_DE, 5000, 'EUR'),
      pay(key, VISA_GB, 5000, 'EUR'),
      pay(key, VISA, 5000, 'EUR'),
    ]);
    // Assess
    expect([german.status, british.status, american.status]).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(connectorsOf(german)).toEqual(['stripe']);
    expect(connectorsOf(british)).toEqual(['sandbox']);
    expect(connectorsOf(american)).toEqual(['sandbox']);
  });

  it('pays through the default list, in its order, when no rule matches', async () => {
    // Prepare: a rule for GBP only; the default starts with stripe
    const key = await merchantWithRouting({
      rules: [{ conditions: { currency: ['GBP'] }, connectors: ['sandbox'] }],
      default: ['stripe', 'sandbox'],
      failover: true,
    });
    // Act
    const checkout = await pay(key, VISA, 2700, 'USD');
    // Assess
    expect(checkout.status).toBe('succeeded');
    expect(connectorsOf(checkout)).toEqual(['stripe']);
    expect(await fetchLedger(stack.pspUrl, checkout.id)).toEqual([]);
  });
});

describe('failover (failover: true; sandbox first, then stripe)', () => {
  const FAILOVER = { rules: [], default: ['sandbox', 'stripe'], failover: true };

  it('fails over when the first PSP is unavailable: captured on stripe, nothing held at the sandbox PSP, counted for the operator', async () => {
    // Prepare
    const key = await merchantWithRouting(FAILOVER);
    await setOutage(stack.pspUrl, 'unavailable');
    const countsBefore = await failoverCounts();
    // Act
    const checkout = await pay(key, VISA, 4400, 'USD');
    // Assess
    const countsAfter = await failoverCounts();
    expect((countsAfter['sandbox']?.out ?? 0) - (countsBefore['sandbox']?.out ?? 0)).toBe(1);
    expect((countsAfter['stripe']?.in ?? 0) - (countsBefore['stripe']?.in ?? 0)).toBe(1);
    const books = await ledgers(checkout.id);
    expect(checkout.status).toBe('succeeded');
    expect(attemptsOf(checkout)).toEqual([
      ['sandbox', 'failed', 'psp_unavailable'],
      ['stripe', 'captured', null],
    ]);
    const [first, second] = checkout.payment!.attempts;
    expect(second!.id).not.toBe(first!.id);
    expect(succeededOps(books.sandbox, 'authorize')).toEqual([]);
    expect(succeededOps(books.stripe, 'authorize')).toEqual([4400]);
    expect(succeededOps(books.stripe, 'capture')).toEqual([4400]);
    expect(books.stripe.find((op) => op.type === 'authorize')?.idempotency_key).toContain(second!.id);
    expect(crossLedgerViolations(checkout, books.all)).toEqual([]);
  });

  it('fails over after a timeout settled "not authorized" from the first PSP', async () => {
    // Prepare
    const key = await merchantWithRouting(FAILOVER);
    await setOutage(stack.pspUrl, 'timeout');
    // Act
    const checkout = await pay(key, VISA, 4500, 'USD');
    // Assess
    const books = await ledgers(checkout.id);
    expect(checkout.status).toBe('succeeded');
    expect(attemptsOf(checkout)).toEqual([
      ['sandbox', 'failed', 'psp_timeout'],
      ['stripe', 'captured', null],
    ]);
    expect(succeededOps(books.sandbox, 'authorize')).toEqual([]);
    expect(succeededOps(books.stripe, 'capture')).toEqual([4500]);
    expect(crossLedgerViolations(checkout, books.all)).toEqual([]);
  });

  it('fails over from stripe to the sandbox PSP when stripe times out (a rule with stripe first)', async () => {
    // Prepare
    const key = await merchantWithRouting({
      rules: [{ conditions: { currency: ['EUR'] }, connectors: ['stripe', 'sandbox'] }],
      default: ['sandbox'],
      failover: true,
    });
    await setOutage(stack.stripeSandboxUrl, 'timeout');
    // Act
    const checkout = await pay(key, VISA, 4600, 'EUR');
    // Assess
    const books = await ledgers(checkout.id);
    expect(checkout.status).toBe('succeeded');
    expect(attemptsOf(checkout)).toEqual([
      ['stripe', 'failed', 'psp_timeout'],
      ['sandbox', 'captured', null],
    ]);
    expect(succeededOps(books.stripe, 'authorize')).toEqual([]);
    expect(succeededOps(books.sandbox, 'capture')).toEqual([4600]);
    expect(crossLedgerViolations(checkout, books.all)).toEqual([]);
  });

  it('keeps a timed-out attempt the PSP did authorize as the one: no second authorization, captured there', async () => {
    // Prepare: the sandbox PSP authorizes this card at once but holds its answer past the timeout
    const key = await merchantWithRouting(FAILOVER);
    // Act
    const checkout = await pay(key, HANG_AUTHORIZE, 4700, 'USD');
    // Assess
    const books = await ledgers(checkout.id);
    expect(checkout.status).toBe('succeeded');
    expect(attemptsOf(checkout)).toEqual([['sandbox', 'captured', null]]);
    expect(succeededOps(books.sandbox, 'authorize')).toEqual([4700]);
    expect(succeededOps(books.sandbox, 'capture')).toEqual([4700]);
    expect(books.stripe).toEqual([]);
    expect(crossLedgerViolations(checkout, books.all)).toEqual([]);
  });

  it('fails over on a soft decline: an attempt on each PSP, the last decline is the checkout failure', async () => {
    // Prepare: do_not_honor is declined by both sandboxes (same test cards on both)
    const key = await merchantWithRouting(FAILOVER);
    // Act
    const checkout = await pay(key, SOFT_DECLINE, 4800, 'USD');
    // Assess
    const books = await ledgers(checkout.id);
    expect(checkout.status).toBe('failed');
    expect(checkout.failure_reason).toBe('payment_declined');
    expect(attemptsOf(checkout)).toEqual([
      ['sandbox', 'failed', 'do_not_honor'],
      ['stripe', 'failed', 'do_not_honor'],
    ]);
    expect(books.sandbox.filter((op) => op.type === 'authorize').map((op) => op.status)).toEqual(['failed']);
    expect(books.stripe.filter((op) => op.type === 'authorize').map((op) => op.status)).toEqual(['failed']);
    expect(crossLedgerViolations(checkout, books.all)).toEqual([]);
  });

  it('never fails over on a hard decline: one attempt, stripe never asked', async () => {
    // Prepare
    const key = await merchantWithRouting(FAILOVER);
    // Act
    const checkout = await pay(key, HARD_DECLINE, 4900, 'USD');
    // Assess
    expect(checkout.status).toBe('failed');
    expect(checkout.failure_reason).toBe('payment_declined');
    expect(attemptsOf(checkout)).toEqual([['sandbox', 'failed', 'insufficient_funds']]);
    expect(await stripeLedger(checkout.id)).toEqual([]);
  });

  it('stops at the first connector with failover: false, even on a soft decline', async () => {
    // Prepare
    const key = await merchantWithRouting({ ...FAILOVER, failover: false });
    // Act
    const checkout = await pay(key, SOFT_DECLINE, 5100, 'USD');
    // Assess
    expect(checkout.status).toBe('failed');
    expect(attemptsOf(checkout)).toEqual([['sandbox', 'failed', 'do_not_honor']]);
    expect(await stripeLedger(checkout.id)).toEqual([]);
  });
});

describe('a routing rule with "three_ds":"required" (issue 17)', () => {
  const RULES = {
    rules: [{ conditions: { currency: ['EUR'] }, connectors: ['sandbox'], three_ds: 'required' }],
    default: ['sandbox'],
    failover: false,
  };

  it.each(['sandbox', 'stripe'])(
    'challenges a frictionless card the rule routes to %s: requires_action with next_action, then succeeds once completed',
    async (connector) => {
      // Prepare
      const key = await merchantWithRouting({ ...RULES, rules: [{ ...RULES.rules[0]!, connectors: [connector] }] });
      const open = await pay(key, FRICTIONLESS, 2599, 'EUR', (status) => status !== 'processing');
      expect(open.status).toBe('requires_action');
      expect(open.next_action?.type).toBe('redirect_to_url');
      // Act: the buyer completes the challenge
      const answered = await fetch(open.next_action!.redirect_to_url.url, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'outcome=complete',
      });
      // Assess
      expect(answered.status).toBe(302);
      const deadline = Date.now() + 30_000;
      let checkout = open;
      while (!TERMINAL(checkout.status) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        checkout = (await api.call<PaidCheckout>('GET', `/v1/checkouts/${open.id}`, { token: key })).body;
      }
      expect(checkout.status).toBe('succeeded');
      expect(checkout.payment?.attempts[0]?.three_d_secure?.flow).toBe('challenge');
      expect(connectorsOf(checkout)).toEqual([connector]);
      const ledger = connector === 'stripe' ? await stripeLedger(open.id) : await fetchLedger(stack.pspUrl, open.id);
      expect(succeededOps(ledger, 'capture')).toEqual([2599]);
    },
  );

  it('does not challenge the same card when the payment is routed by the default (no three_ds)', async () => {
    // Prepare
    const key = await merchantWithRouting(RULES);
    // Act
    const checkout = await pay(key, FRICTIONLESS, 2599, 'USD');
    // Assess
    expect(checkout.status).toBe('succeeded');
    expect(checkout.payment?.attempts.map((attempt) => attempt.status)).toEqual(['captured']);
    expect(checkout.payment?.attempts[0]?.three_d_secure?.flow).toBe('frictionless');
  });
});

describe('a burst of payments while both sandboxes go down in turn', () => {
  it('keeps the money invariant on both ledgers: at most one capture, no authorization left open, hard declines never fail over', async () => {
    // Prepare: EUR tries stripe first, everything else sandbox first, failover on
    const key = await merchantWithRouting({
      rules: [{ conditions: { currency: ['EUR'] }, connectors: ['stripe', 'sandbox'] }],
      default: ['sandbox', 'stripe'],
      failover: true,
    });
    const cards = [VISA, VISA, MASTERCARD, SOFT_DECLINE, HARD_DECLINE, HANG_AUTHORIZE];
    const outages: [number, 'none' | 'unavailable' | 'timeout', 'none' | 'unavailable' | 'timeout'][] = [
      [1500, 'unavailable', 'none'],
      [3500, 'none', 'timeout'],
      [5500, 'timeout', 'unavailable'],
      [7500, 'none', 'none'],
    ];
    const switched = (async () => {
      const started = Date.now();
      for (const [at, sandboxMode, stripeMode] of outages) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - (Date.now() - started))));
        await Promise.all([setOutage(stack.pspUrl, sandboxMode), setOutage(stack.stripeSandboxUrl, stripeMode)]);
      }
    })();
    // Act: 24 payments, one every 300 ms, across the outage windows (a payment reaches its PSP ~1-3 s after it starts)
    const runs = Array.from({ length: 24 }, async (_, index) => {
      await new Promise((resolve) => setTimeout(resolve, index * 300));
      const card = cards[index % cards.length]!;
      const checkout = await pay(key, card, 1000 + index, index % 2 === 0 ? 'EUR' : 'USD');
      return { card, checkout };
    });
    const results = await Promise.all(runs);
    await switched;
    // Assess
    for (const { card, checkout } of results) {
      const books = await ledgers(checkout.id);
      expect(crossLedgerViolations(checkout, books.all), checkout.id).toEqual([]);
      const attempts = checkout.payment?.attempts ?? [];
      expect(attempts.filter((attempt) => attempt.status === 'captured').length, checkout.id).toBe(
        checkout.status === 'succeeded' ? 1 : 0,
      );
      // A hard decline is always the last attempt (an outage before it may have failed over to it).
      const hard = attempts.findIndex((attempt) => attempt.failure_code === 'insufficient_funds');
      if (hard >= 0) expect(hard, checkout.id).toBe(attempts.length - 1);
      if (card === SOFT_DECLINE) expect(checkout.status, checkout.id).toBe('failed');
    }
    const outageFailovers = results.filter(({ checkout }) =>
      (checkout.payment?.attempts ?? []).some(
        (attempt) => attempt.failure_code === 'psp_unavailable' || attempt.failure_code === 'psp_timeout',
      ),
    );
    expect(outageFailovers.length).toBeGreaterThan(1);
    expect(results.filter(({ card, checkout }) => card === VISA && checkout.status === 'succeeded').length).toBeGreaterThan(0);
  });
});

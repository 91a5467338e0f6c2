/**
 * `npm run chaos`: thousands of checkouts through the local stack with faults injected, then the
 * money invariants checked against the sandbox PSP's own ledger and the demo merchant's stock.
 *
 * Faults: PSP 5xx-then-success (4000000000000119), PSP hangs past our timeout on authorize
 * (...0333) and on capture (...0440), declines, async PSP results by callback (...0770), duplicate
 * callbacks (...0887), out-of-order callbacks (...0994), a merchant slower than the 10 s limit, a
 * merchant answering 500, out of stock, a stock race on a limited product, duplicate pay clicks,
 * and a crash of the whole local host mid-run (SIGKILL to the stack process and its DynamoDB Local
 * JVM, restarted on the same data directory and ports; the reconciliation sweep finishes what the
 * lost executions left in `processing`). Off-session renewals join the mix when the API offers
 * them (customers on checkouts and `off_session` on pay, read from its OpenAPI document): a
 * customer's first checkout saves its vaulted card, then the merchant pays a second checkout for
 * that customer with the saved `pm_` and its secret key (`off_session: true`); one renewal buys an
 * out-of-stock item, so its authorization is voided. Every renewal charge is a checkout of its own
 * (`off_session_charge`), held to the same invariants.
 *
 * Across both connectors: soft (do_not_honor) and hard (card_declined, insufficient_funds)
 * declines, outages of either sandbox toggled mid-run (`PUT /v1/test/outage` unavailable / timeout
 * on the sandbox PSP and on the Stripe-protocol sandbox, CHAOS_OUTAGES), and, when the API offers
 * `PUT /v1/routing`, the merchant routed over both connectors with failover on (large amounts to
 * stripe first, the rest to sandbox first), buyers paying with vaulted cards (`pm_`) when the pay
 * route takes them, so failover can move a payment to the other PSP.
 *
 * Invariants (each printed with its count; any breach exits 1): every checkout terminal; 0 double
 * captures; 0 captures without confirmation; 0 dangling authorizations (and the rest of
 * test/support/money-invariants.ts); across both PSP ledgers (sandbox PSP GET /v1/ledger, Stripe
 * sandbox GET /v1/test/ledger) at most one capture per checkout and every other authorization voided
 * (test/support/cross-ledger-invariants.ts); captured total in the PSP ledgers = sum of succeeded
 * checkouts; every terminal checkout's checkout.* webhook delivered; stock never oversold.
 *
 * 3-D Secure (bench/chaos-challenges.ts): challenge cards on both connectors, the buyer completing,
 * failing or abandoning the challenge at the sandbox's page over HTTP.
 *
 * Flags / env: --checkouts N (CHAOS_CHECKOUTS, default 2000), --concurrency C (CHAOS_CONCURRENCY,
 * default 24), --seed S (CHAOS_SEED), --no-restart, --no-outages, --out FILE (CHAOS_OUT).
 */
import '../local/polyfills';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchLedger, type LedgerOperation } from '../local/sandbox-psp/client';
import { PaystepClient } from '../local/paystep-client';
import { moneyInvariantViolations } from '../test/support/money-invariants';
import { crossLedgerViolations, type ConnectorLedgerOperation } from '../test/support/cross-ledger-invariants';
import { setOutage, type OutageMode } from '../local/sandbox-psp/client';
import {
  createCheckout,
  createCustomer,
  numberOption,
  payCheckout,
  payCheckoutWith,
  readCatalogue,
  readCheckout,
  readOrders,
  runPool,
  savedPaymentMethodIds,
  setCatalogue,
  sleep,
  TERMINAL_STATUSES,
  tokenize,
  vaultCard,
  type CatalogueProduct,
  type CreatedCheckout,
  type TimelineCheckout,
} from './checkout-driver';
import { startBenchStack, type BenchStack } from './stack-runner';
import {
  CHALLENGE_SCENARIOS,
  CHALLENGE_STACK_ENV,
  challengeOutcomes,
  formatChallenges,
  newChallengeTally,
  playBuyerAtChallenge,
  type ChallengeAnswer,
  type ChallengeTally,
} from './chaos-challenges';

const CATALOGUE: CatalogueProduct[] = [
  { sku: 'mug', name: 'Mug', unit_amount: 1250, currency: 'USD', stock: 1_000_000 },
  { sku: 'limited', name: 'Limited drop', unit_amount: 5000, currency: 'USD', stock: 15 },
  { sku: 'poster', name: 'Poster', unit_amount: 7500, currency: 'USD', stock: 1_000_000 },
  { sku: 'sold-out', name: 'Sold out print', unit_amount: 15000, currency: 'USD', stock: 0 },
  {
    sku: 'slow',
    name: 'Merchant slower than 10 s',
    unit_amount: 999,
    currency: 'USD',
    stock: 1_000_000,
    behavior: { delayMs: 11_000 },
  },
  {
    sku: 'broken',
    name: 'Merchant answering 500',
    unit_amount: 999,
    currency: 'USD',
    stock: 1_000_000,
    behavior: { status: 500, body: 'upstream exploded', contentType: 'text/plain' },
  },
];

interface Scenario {
  name: string;
  weight: number;
  card: string;
  sku: string;
  /** Pay clicks sent at once (then one more a moment later). */
  clicks?: number;
  /**
   * A renewal: the first checkout is a new customer's with `save_payment_method`, then the merchant
   * charges `renewalSku` (default: the same sku) off-session with the saved card.
   */
  renewal?: { sku?: string };
  /** A 3-D Secure challenge card: what the buyer does at the challenge page (bench/chaos-challenges.ts). */
  challenge?: ChallengeAnswer;
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'approve', weight: 34, card: '4242424242424242', sku: 'mug' },
  { name: 'decline', weight: 5, card: '4000000000000002', sku: 'mug' },
  // Hard decline (never fails over) and soft decline (fails over when routing allows it).
  { name: 'hard_decline_insufficient_funds', weight: 3, card: '4000000000009995', sku: 'mug' },
  { name: 'soft_decline_do_not_honor', weight: 4, card: '4000000000000101', sku: 'mug' },
  // Above the routing rule's threshold (5000): stripe first, then sandbox.
  { name: 'approve_routed_to_stripe', weight: 6, card: '4242424242424242', sku: 'poster' },
  { name: 'psp_5xx_then_ok', weight: 8, card: '4000000000000119', sku: 'mug' },
  { name: 'psp_hang_authorize', weight: 3, card: '4000000000000333', sku: 'mug' },
  { name: 'psp_hang_capture', weight: 3, card: '4000000000000440', sku: 'mug' },
  { name: 'async_callback', weight: 5, card: '4000000000000770', sku: 'mug' },
  { name: 'duplicate_callbacks', weight: 4, card: '4000000000000887', sku: 'mug' },
  { name: 'reordered_callbacks', weight: 4, card: '4000000000000994', sku: 'mug' },
  { name: 'merchant_slow_11s', weight: 3, card: '4242424242424242', sku: 'slow' },
  { name: 'merchant_500', weight: 5, card: '4242424242424242', sku: 'broken' },
  { name: 'out_of_stock', weight: 4, card: '4242424242424242', sku: 'sold-out' },
  { name: 'stock_race', weight: 10, card: '4242424242424242', sku: 'limited' },
  { name: 'duplicate_pay_clicks', weight: 8, card: '4242424242424242', sku: 'mug', clicks: 3 },
  { name: 'off_session_renewal', weight: 7, card: '4242424242424242', sku: 'mug', renewal: {} },
  { name: 'off_session_renewal_out_of_stock', weight: 2, card: '4242424242424242', sku: 'mug', renewal: { sku: 'sold-out' } },
  ...CHALLENGE_SCENARIOS,
];

/** The scenario name of the off-session charge that follows a renewal scenario's first checkout. */
const RENEWAL_CHARGE = 'off_session_charge';

/** Environment for the stack under chaos: short PSP timeout and hangs, compressed callbacks and recovery. */
export const CHAOS_STACK_ENV: Record<string, string> = {
  PSP_TIMEOUT_MS: '2000',
  PAYSTEP_PSP_HANG_MS: '4000',
  PAYSTEP_PSP_CALLBACK_DELAY_MS: '1000',
  PAYSTEP_RECOVERY_AFTER_MS: '12000',
  PAYSTEP_RECOVERY_LEASE_MS: '10000',
  ...CHALLENGE_STACK_ENV,
};

/** One sandbox outage: from the checkout at `from` (share of the run) until the one at `until`. */
export interface OutageWindow {
  target: 'sandbox' | 'stripe';
  mode: Exclude<OutageMode, 'none'>;
  from: number;
  until: number;
}

/**
 * Both sandboxes, both modes, none spanning the host crash at 0.4 (a restarted sandbox starts
 * without an outage). Timeouts hold an authorization past PSP_TIMEOUT_MS, unrecorded, so the
 * attempt is settled from the PSP's truth as "not authorized".
 */
export const CHAOS_OUTAGES: readonly OutageWindow[] = [
  { target: 'sandbox', mode: 'unavailable', from: 0.1, until: 0.2 },
  { target: 'stripe', mode: 'timeout', from: 0.24, until: 0.34 },
  { target: 'sandbox', mode: 'timeout', from: 0.5, until: 0.6 },
  { target: 'stripe', mode: 'unavailable', from: 0.64, until: 0.76 },
];

/** The routing the chaos merchant gets when the API has it: both connectors, failover on. */
export const CHAOS_ROUTING = {
  rules: [{ conditions: { amount_gte: 5000 }, connectors: ['stripe', 'sandbox'] }],
  default: ['sandbox', 'stripe'],
  failover: true,
};

export interface ChaosOptions {
  checkouts: number;
  concurrency: number;
  /** Crash and restart the stack once this share of checkouts has started; omit for no restart. */
  restartAt?: number;
  seed: number;
  /** Bound for the final wait until every checkout is terminal and its webhook delivered. */
  settleTimeoutMs: number;
  /** Sandbox outages toggled mid-run; default CHAOS_OUTAGES, [] for none. */
  outages?: readonly OutageWindow[];
  log: (line: string) => void;
}

export interface InvariantResult {
  name: string;
  ok: boolean;
  /** What was counted (e.g. "0 of 2000"). */
  value: string;
  examples: string[];
}

export interface ChaosReport {
  kind: 'paystep-chaos';
  measuredAt: string;
  options: Omit<ChaosOptions, 'log'>;
  loadAverageBefore: number[];
  wallSeconds: number;
  restart: { done: boolean; atCheckout?: number; downSeconds?: number };
  /** Each outage as it was switched on and off (checkout numbers). */
  outages: { target: string; mode: string; onAtCheckout?: number; offAtCheckout?: number }[];
  /** Whether the merchant was routed over both connectors with failover (needs PUT /v1/routing). */
  routing: { applied: boolean; detail: string };
  /** How buyers paid: vaulted cards (failover possible) or single-use sandbox tokens. */
  payWith: 'payment_method' | 'payment_token';
  /** Whether renewal scenarios charged off-session (needs payment_method, customers on checkouts and off_session). */
  renewals: 'off_session' | 'not offered by the API';
  /** Attempts per connector and failovers, from the checkouts' payment.attempts[]. */
  attempts: { byConnector: Record<string, number>; failovers: number };
  /** 3-D Secure: what buyers met and did at challenge pages, and how each kind ended. */
  challenges: { tally: ChallengeTally; outcomes: Record<string, Record<string, number>> };
  scenarios: Record<string, number>;
  statuses: Record<string, number>;
  failureReasons: Record<string, number>;
  ledger: {
    authorizations: number;
    captures: number;
    voids: number;
    capturedTotal: number;
    succeededTotal: number;
    /** Succeeded operations per PSP ledger, e.g. {"sandbox":{"authorize":..},"stripe":{...}}. */
    byConnector: Record<string, Record<string, number>>;
  };
  clientObservations: { retriedRequests: number; payAnswersOtherThan202: number; orphanedCreates: number };
  invariants: InvariantResult[];
  breaches: number;
}

interface Tracked {
  index: number;
  scenario: Scenario;
  merchantOrderRef: string;
  checkout?: CreatedCheckout;
  amount: number;
  last?: TimelineCheckout;
  /** Why driving it stopped early (a non-transient answer). */
  error?: string;
}

/** A small seeded PRNG (mulberry32) so a run's scenario mix can be replayed with --seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickScenario(random: () => number): Scenario {
  const total = SCENARIOS.reduce((sum, s) => sum + s.weight, 0);
  let roll = random() * total;
  for (const scenario of SCENARIOS) {
    roll -= scenario.weight;
    if (roll < 0) return scenario;
  }
  return SCENARIOS[0] as Scenario;
}

/** Runs the chaos scenario mix, crashes and restarts the host once, then checks every invariant. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log;
  const loadAverageBefore = loadavg();
  const dataDir = mkdtempSync(join(tmpdir(), 'paystep-chaos-'));
  const random = seededRandom(options.seed);
  const tracked: Tracked[] = Array.from({ length: options.checkouts }, (_, index) => {
    const scenario = pickScenario(random);
    const product = CATALOGUE.find((p) => p.sku === scenario.sku) as CatalogueProduct;
    return {
      index,
      scenario,
      merchantOrderRef: `chaos-${options.seed}-${Date.now().toString(36)}-${index}`,
      amount: product.unit_amount,
    };
  });
  const stockBreaches: string[] = [];
  const observations = { retriedRequests: 0, payAnswersOtherThan202: 0, orphanedCreates: 0 };
  /** Checkouts the merchant abandoned (canceled) after a crash hid their create response. */
  const orphans: Tracked[] = [];
  const restart: ChaosReport['restart'] = { done: false };
  const outageWindows = options.outages ?? CHAOS_OUTAGES;
  const outages: ChaosReport['outages'] = outageWindows.map((w) => ({ target: w.target, mode: w.mode }));
  let routing: ChaosReport['routing'] = { applied: false, detail: 'not tried' };
  let payWith: ChaosReport['payWith'] = 'payment_token';
  let renewalsOffered = false;
  /** The off-session charges of renewal scenarios, each a checkout of its own. */
  const renewals: Tracked[] = [];
  const challengeTally = newChallengeTally();

  log(`chaos: starting the local stack (data in ${dataDir})...`);
  let stack: BenchStack = await startBenchStack({ dataDir, env: CHAOS_STACK_ENV });
  let epoch = 0;
  let restarting: Promise<void> | undefined;
  const started = performance.now();
  try {
    await setCatalogue(stack.merchantUrl, CATALOGUE);
    const api = (): PaystepClient => new PaystepClient(stack.apiUrl);
    payWith = await detectPayWith(stack.apiUrl);
    renewalsOffered = payWith === 'payment_method' && (await detectOffSession(stack.apiUrl));
    routing = await applyRouting(api(), stack.secretKey);
    log(`chaos: buyers pay with ${payWith}; routing over both connectors: ${routing.applied ? 'on' : 'off'} (${routing.detail})`);

    /** Retries a call while the host is down (connection refused/reset) or restarting. */
    const resilient = async <T>(label: string, call: () => Promise<T>): Promise<T> => {
      const deadline = Date.now() + 180_000;
      for (let attempt = 0; ; attempt += 1) {
        if (restarting !== undefined) await restarting;
        try {
          return await call();
        } catch (error) {
          const message =
            error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error);
          // idempotency_key_in_use: a create that was in flight when the host died holds its key until
          // the lock times out (60 s); the merchant retries with the same key, as the 409 asks.
          const transient =
            /fetch failed|ECONNREFUSED|ECONNRESET|socket|terminated|other side closed| 50[234]|UND_ERR|idempotency_key_in_use/i.test(
              message,
            );
          if (!transient || Date.now() > deadline) throw new Error(`${label}: ${message}`, { cause: error });
          observations.retriedRequests += 1;
          await sleep(Math.min(2_000, 200 * (attempt + 1)));
        }
      }
    };

    // The demo merchant's stock, sampled every second per process lifetime: never negative, never
    // more sold than it had, units conserved.
    const sampleStock = async (): Promise<void> => {
      if (restarting !== undefined) return;
      const sampledEpoch = epoch;
      let products: CatalogueProduct[];
      try {
        products = await readCatalogue(stack.merchantUrl);
      } catch {
        return; // down or restarting
      }
      if (sampledEpoch !== epoch || restarting !== undefined) return;
      for (const product of products) {
        const initial = CATALOGUE.find((p) => p.sku === product.sku)?.stock ?? 0;
        const blocked = product.blocked ?? 0;
        const sold = product.sold ?? 0;
        if (product.stock < 0 || blocked < 0 || sold < 0 || sold > initial || product.stock + blocked + sold !== initial) {
          stockBreaches.push(
            `epoch ${sampledEpoch} ${product.sku}: stock ${product.stock}, blocked ${blocked}, sold ${sold} of ${initial}`,
          );
        }
      }
    };
    const sampler = setInterval(() => void sampleStock(), 1_000);

    const restartAt =
      options.restartAt === undefined ? Number.POSITIVE_INFINITY : Math.floor(options.checkouts * options.restartAt);
    const crashAndRestart = async (atCheckout: number): Promise<void> => {
      log(`chaos: SIGKILL the local host (pid ${stack.pid} and its descendants) at checkout ${atCheckout}`);
      const down = performance.now();
      await stack.kill();
      stack = await startBenchStack({ dataDir, ports: stack.ports, env: CHAOS_STACK_ENV });
      await setCatalogue(stack.merchantUrl, CATALOGUE);
      epoch += 1;
      restart.done = true;
      restart.atCheckout = atCheckout;
      restart.downSeconds = Math.round((performance.now() - down) / 100) / 10;
      log(`chaos: restarted on the same data dir after ${restart.downSeconds} s`);
    };

    /**
     * Switches each outage on while the run is inside its window and off after it. State-based, so a
     * switch due while the host was restarting happens at the next checkout (a failed switch is logged).
     */
    const outageActive = outageWindows.map(() => false);
    const switchOutages = (atCheckout: number): void => {
      outageWindows.forEach((window, index) => {
        const record = outages[index] as ChaosReport['outages'][number];
        const url = window.target === 'sandbox' ? stack.pspUrl : stack.stripeSandboxUrl;
        const inside =
          atCheckout >= Math.floor(options.checkouts * window.from) && atCheckout < Math.floor(options.checkouts * window.until);
        const done = record.offAtCheckout !== undefined;
        if (inside === outageActive[index] || done || (inside && record.onAtCheckout !== undefined)) return;
        outageActive[index] = inside;
        const mode: OutageMode = inside ? window.mode : 'none';
        if (inside) record.onAtCheckout = atCheckout;
        else if (record.onAtCheckout !== undefined) record.offAtCheckout = atCheckout;
        else return; // the whole window passed during a restart: never switched on
        log(`chaos: ${window.target} outage ${mode} at checkout ${atCheckout}`);
        setOutage(url, mode).catch((error: unknown) => log(`chaos: outage switch failed: ${String(error)}`));
      });
    };

    let begun = 0;
    let finished = 0;
    const progress = setInterval(() => {
      log(`chaos: ${finished}/${options.checkouts} driven${restarting !== undefined ? ' (host restarting)' : ''}`);
    }, 5_000);
    try {
      await runPool(options.checkouts, options.concurrency, async (index) => {
        const item = tracked[index] as Tracked;
        // No new checkout starts while the host restarts (its first call would wait anyway), so the
        // outage windows and the crash point keep their places in the run.
        while (restarting !== undefined) await restarting;
        begun += 1;
        if (restarting === undefined) switchOutages(begun);
        if (begun === restartAt && restarting === undefined) {
          restarting = crashAndRestart(begun).finally(() => {
            restarting = undefined;
          });
        }
        try {
          await driveCheckout(item);
        } catch (error) {
          // Recorded, not fatal: the invariants report a checkout never created or never terminal.
          item.error = error instanceof Error ? error.message : String(error);
        }
        finished += 1;
      });
    } finally {
      clearInterval(progress);
    }

    async function driveCheckout(item: Tracked): Promise<void> {
      const token =
        payWith === 'payment_token' ? await resilient('tokenize', () => tokenize(stack.pspUrl, item.scenario.card)) : '';
      const customer =
        item.scenario.renewal !== undefined && renewalsOffered
          ? await resilient('customer', () =>
              createCustomer(
                api(),
                stack.secretKey,
                `${item.merchantOrderRef}@chaos.example`,
                `customer-${item.merchantOrderRef}`,
              ),
            )
          : undefined;
      const create = (merchantOrderRef: string): Promise<CreatedCheckout> =>
        resilient('create', () =>
          createCheckout(api(), stack.secretKey, {
            merchantOrderRef,
            sku: item.scenario.sku,
            quantity: 1,
            unitAmount: item.amount,
            currency: 'USD',
            ...(customer !== undefined ? { customer, savePaymentMethod: true } : {}),
          }),
        );
      let checkout: CreatedCheckout;
      try {
        checkout = await create(item.merchantOrderRef);
      } catch (error) {
        // The host died after the checkout was written but before its Idempotency-Key record was
        // completed: once the key's lock lapses the retry runs again and hits the unique order ref.
        // The merchant finds the orphan by its ref, cancels it, and sells under a new ref.
        if (!(error instanceof Error && error.message.includes('duplicate_merchant_order_ref'))) throw error;
        const found = await resilient('lookup', () =>
          api().call<{ id?: string }>('GET', `/v1/checkouts?merchant_order_ref=${encodeURIComponent(item.merchantOrderRef)}`, {
            token: stack.secretKey,
          }),
        );
        if (found.body.id === undefined) throw error;
        const orphan: Tracked = {
          ...item,
          index: -1,
          merchantOrderRef: item.merchantOrderRef,
          checkout: { id: found.body.id, clientSecret: '' },
        };
        await resilient('cancel', () =>
          api().call('POST', `/v1/checkouts/${found.body.id}/cancel`, {
            token: stack.secretKey,
            idempotencyKey: `cancel-${found.body.id}`,
          }),
        );
        orphans.push(orphan);
        observations.orphanedCreates += 1;
        item.merchantOrderRef = `${item.merchantOrderRef}-again`;
        checkout = await create(item.merchantOrderRef);
      }
      item.checkout = checkout;
      const paymentMethod =
        payWith === 'payment_method'
          ? await resilient('payment method', () => vaultCard(api(), checkout, item.scenario.card))
          : undefined;
      const clicks = item.scenario.clicks ?? 1;
      const pay = async (): Promise<void> => {
        await resilient('pay', async () => {
          try {
            if (paymentMethod !== undefined)
              await payCheckoutWith(api(), checkout.id, checkout.clientSecret, { payment_method: paymentMethod });
            else await payCheckout(api(), checkout, token);
          } catch (error) {
            if (error instanceof Error && error.message.startsWith('pay answered')) observations.payAnswersOtherThan202 += 1;
            throw error;
          }
        });
      };
      await Promise.all(Array.from({ length: clicks }, () => pay()));
      if (clicks > 1) {
        await sleep(150);
        await pay();
      }
      const answer = item.scenario.challenge;
      if (answer !== undefined)
        await playBuyerAtChallenge({
          read: () => readCheckout(api(), stack.secretKey, checkout.id),
          answer,
          tally: challengeTally,
          waitMs: 20_000,
        });
      // Follow it like the pending page would, for a while; the final phase waits for the rest.
      await follow(item, 15_000);
      if (customer !== undefined && paymentMethod !== undefined) await chargeRenewal(item, customer, paymentMethod);
    }

    /** Reads the checkout until it is terminal or the time is up (the final phase waits for the rest). */
    async function follow(item: Tracked, forMs: number): Promise<void> {
      const deadline = Date.now() + forMs;
      while (Date.now() < deadline) {
        await sleep(400);
        try {
          const view = await readCheckout(api(), stack.secretKey, (item.checkout as CreatedCheckout).id);
          item.last = view;
          if (TERMINAL_STATUSES.has(view.status)) return;
        } catch {
          // host down: the final phase catches up
        }
      }
    }

    /**
     * The merchant's renewal: once the customer's first checkout succeeded and its card is saved, a
     * new checkout for that customer paid off-session with the saved `pm_` and the secret key. A
     * first checkout that did not succeed saved nothing, so there is nothing to renew.
     */
    async function chargeRenewal(first: Tracked, customer: string, paymentMethod: string): Promise<void> {
      if (first.last === undefined || !TERMINAL_STATUSES.has(first.last.status)) await follow(first, 60_000);
      if (first.last?.status !== 'succeeded') return;
      const savedBy = Date.now() + 30_000;
      const sku = first.scenario.renewal?.sku ?? first.scenario.sku;
      const renewal: Tracked = {
        index: -1,
        scenario: { ...first.scenario, name: RENEWAL_CHARGE, sku },
        merchantOrderRef: `${first.merchantOrderRef}-renewal`,
        amount: (CATALOGUE.find((p) => p.sku === sku) as CatalogueProduct).unit_amount,
      };
      renewals.push(renewal);
      for (;;) {
        const saved = await resilient('saved cards', () => savedPaymentMethodIds(api(), stack.secretKey, customer));
        if (saved.includes(paymentMethod)) break;
        if (Date.now() > savedBy) {
          renewal.error = `${paymentMethod} was never saved on ${customer} after ${first.checkout?.id} succeeded`;
          return;
        }
        await sleep(500);
      }
      renewal.checkout = await resilient('create renewal', async () => {
        try {
          return await createCheckout(api(), stack.secretKey, {
            merchantOrderRef: renewal.merchantOrderRef,
            sku,
            quantity: 1,
            unitAmount: renewal.amount,
            currency: 'USD',
            customer,
          });
        } catch (error) {
          // A crash hid the create's answer: the merchant pays the checkout it finds under its ref
          // (off-session needs the secret key only, not the client secret).
          if (!(error instanceof Error && error.message.includes('duplicate_merchant_order_ref'))) throw error;
          const found = await api().call<{ id?: string }>(
            'GET',
            `/v1/checkouts?merchant_order_ref=${encodeURIComponent(renewal.merchantOrderRef)}`,
            { token: stack.secretKey },
          );
          if (found.body.id === undefined) throw error;
          return { id: found.body.id, clientSecret: '' };
        }
      });
      const renewalId = renewal.checkout.id;
      await resilient('pay off-session', () =>
        payCheckoutWith(api(), renewalId, stack.secretKey, { payment_method: paymentMethod, off_session: true }),
      );
      await follow(renewal, 15_000);
    }

    while (restarting !== undefined) await restarting;
    // Every outage ends with the run (a window cut short by a small run or the crash included).
    await Promise.all([setOutage(stack.pspUrl, 'none'), setOutage(stack.stripeSandboxUrl, 'none')]).catch(() => undefined);
    log(
      `chaos: all ${options.checkouts} checkouts driven in ${((performance.now() - started) / 1000).toFixed(1)} s; waiting for terminal statuses and webhooks (bound ${options.settleTimeoutMs / 1000} s)...`,
    );
    const settleDeadline = Date.now() + options.settleTimeoutMs;
    const everyCheckout = (): Tracked[] => [...tracked, ...orphans, ...renewals];
    for (;;) {
      const pending = everyCheckout().filter((item) => item.checkout !== undefined && !settled(item.last));
      if (pending.length === 0 || Date.now() > settleDeadline) break;
      await runPool(pending.length, 16, async (i) => {
        const item = pending[i] as Tracked;
        try {
          item.last = await readCheckout(api(), stack.secretKey, (item.checkout as CreatedCheckout).id);
        } catch {
          // keep the last view
        }
      });
      const left = everyCheckout().filter((item) => item.checkout !== undefined && !settled(item.last)).length;
      if (left === 0) break;
      log(`chaos: ${left} not yet terminal with webhook delivered`);
      await sleep(2_000);
    }
    clearInterval(sampler);
    await sampleStock();

    const ledger = await fetchBothLedgers(stack);
    const orders = await readOrders(stack.merchantUrl);
    const report = checkInvariants({ tracked: everyCheckout(), ledger, orders, stockBreaches });
    return {
      kind: 'paystep-chaos',
      measuredAt: new Date().toISOString(),
      options: {
        checkouts: options.checkouts,
        concurrency: options.concurrency,
        ...(options.restartAt !== undefined ? { restartAt: options.restartAt } : {}),
        seed: options.seed,
        settleTimeoutMs: options.settleTimeoutMs,
      },
      loadAverageBefore,
      wallSeconds: Math.round((performance.now() - started) / 100) / 10,
      restart,
      outages,
      routing,
      payWith,
      renewals: renewalsOffered ? 'off_session' : 'not offered by the API',
      attempts: attemptFigures([...tracked, ...renewals]),
      challenges: { tally: challengeTally, outcomes: challengeOutcomes(tracked) },
      scenarios: countBy([...tracked, ...renewals].map((t) => t.scenario.name)),
      statuses: countBy([...tracked, ...renewals].map((t) => t.last?.status ?? 'unknown')),
      failureReasons: countBy(
        [...tracked, ...renewals].filter((t) => t.last?.status === 'failed').map((t) => String(t.last?.failure_reason ?? 'none')),
      ),
      ledger: report.ledger,
      clientObservations: observations,
      invariants: report.invariants,
      breaches: report.invariants.filter((i) => !i.ok).length,
    };
  } finally {
    await stack.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Whether the pay route takes a vaulted card (`payment_method`), read from the API's own OpenAPI document. */
async function detectPayWith(apiUrl: string): Promise<ChaosReport['payWith']> {
  const response = await fetch(`${apiUrl}/v1/openapi.json`);
  const document = (await response.json()) as { paths?: Record<string, { post?: unknown }> };
  const pay = JSON.stringify(document.paths?.['/v1/checkouts/{id}/pay']?.post ?? {});
  return pay.includes('"payment_method"') ? 'payment_method' : 'payment_token';
}

/** Routes the merchant over both connectors with failover (CHAOS_ROUTING), if the API has PUT /v1/routing. */
async function applyRouting(api: PaystepClient, secretKey: string): Promise<ChaosReport['routing']> {
  const answer = await api.call('PUT', '/v1/routing', { token: secretKey, body: CHAOS_ROUTING });
  if (answer.status === 200) return { applied: true, detail: JSON.stringify(CHAOS_ROUTING) };
  return { applied: false, detail: `PUT /v1/routing answered ${answer.status}; every payment goes to sandbox` };
}

/** Whether the API offers renewals: customers with save_payment_method on checkouts, and off_session on pay. */
async function detectOffSession(apiUrl: string): Promise<boolean> {
  const response = await fetch(`${apiUrl}/v1/openapi.json`);
  const document = (await response.json()) as { paths?: Record<string, { post?: unknown }> };
  const pay = JSON.stringify(document.paths?.['/v1/checkouts/{id}/pay']?.post ?? {});
  const create = JSON.stringify(document.paths?.['/v1/checkouts']?.post ?? {});
  return pay.includes('"off_session"') && create.includes('"save_payment_method"');
}

/** Both PSPs' own ledgers, each row tagged with its connector (the Stripe sandbox names its authorization `payment_intent`). */
async function fetchBothLedgers(stack: BenchStack): Promise<ConnectorLedgerOperation[]> {
  const sandbox = (await fetchLedger(stack.pspUrl)).map((op) => ({ ...op, connector: 'sandbox' }));
  const response = await fetch(`${stack.stripeSandboxUrl}/v1/test/ledger`);
  if (!response.ok) throw new Error(`Stripe sandbox ledger read failed: ${response.status}`);
  const stripe = (
    (await response.json()) as { operations: (LedgerOperation & { payment_intent?: string | null })[] }
  ).operations.map((op) => ({ ...op, authorization_id: op.authorization_id ?? op.payment_intent ?? null, connector: 'stripe' }));
  return [...sandbox, ...stripe];
}

/** Attempts per connector and failovers (an attempt after a failed one at another connector), from payment.attempts[]. */
function attemptFigures(tracked: Tracked[]): ChaosReport['attempts'] {
  const byConnector: Record<string, number> = {};
  let failovers = 0;
  for (const item of tracked) {
    const attempts = (item.last as { payment?: { attempts?: { connector: string; status: string }[] } } | undefined)?.payment
      ?.attempts;
    attempts?.forEach((attempt, index) => {
      byConnector[attempt.connector] = (byConnector[attempt.connector] ?? 0) + 1;
      const previous = index > 0 ? attempts[index - 1] : undefined;
      if (previous !== undefined && previous.status === 'failed' && previous.connector !== attempt.connector) failovers += 1;
    });
  }
  return { byConnector, failovers };
}

/** Terminal, and for succeeded/failed the checkout.<status> webhook delivered (canceled and expired send none). */
function settled(view: TimelineCheckout | undefined): boolean {
  if (view === undefined || !TERMINAL_STATUSES.has(view.status)) return false;
  if (view.status !== 'succeeded' && view.status !== 'failed') return true;
  return view.events.some((e) => e.type === 'webhook_delivered' && e.data?.event_type === `checkout.${view.status}`);
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** Every invariant of the issue, from the final checkout views, the PSP ledger and the merchant's books. */
function checkInvariants(input: {
  tracked: Tracked[];
  ledger: ConnectorLedgerOperation[];
  orders: { order_ref: string | null; state: string; oversold: number }[];
  stockBreaches: string[];
}): { invariants: InvariantResult[]; ledger: ChaosReport['ledger'] } {
  const { tracked, ledger } = input;
  const byReference = new Map<string, ConnectorLedgerOperation[]>();
  for (const op of ledger) byReference.set(op.reference, [...(byReference.get(op.reference) ?? []), op]);
  const ours = tracked.filter((t) => t.checkout !== undefined);
  const total = tracked.length;
  const notCreated = tracked
    .filter((t) => t.checkout === undefined)
    .map((t) => `${t.merchantOrderRef}: never created (${t.error ?? 'unknown'})`);

  const notTerminal: string[] = [];
  const webhookMissing: string[] = [];
  const doubleCaptures: string[] = [];
  const withoutConfirmation: string[] = [];
  const dangling: string[] = [];
  const otherMoney: string[] = [];
  const crossLedger: string[] = [];
  const byConnector: Record<string, Record<string, number>> = {};
  let capturedTotal = 0;
  let succeededTotal = 0;
  let authorizations = 0;
  let captures = 0;
  let voids = 0;
  for (const item of ours) {
    const view = item.last;
    const id = (item.checkout as CreatedCheckout).id;
    if (view === undefined || !TERMINAL_STATUSES.has(view.status)) {
      const timeline = view?.events.map((e) => `${e.at.slice(11, 23)} ${e.type}`).join(', ') ?? '';
      notTerminal.push(
        `${id} (${item.scenario.name}): ${view?.status ?? 'never read'}${item.error !== undefined ? `; ${item.error}` : ''}${timeline ? ` [timeline: ${timeline}]` : ''}`,
      );
      continue;
    }
    if (!settled(view)) webhookMissing.push(`${id} (${item.scenario.name}): ${view.status}, no checkout.${view.status} delivery`);
    const ops = (byReference.get(id) ?? []).filter((op) => op.status === 'succeeded');
    for (const op of ops) {
      const counts = (byConnector[op.connector] ??= {});
      counts[op.type] = (counts[op.type] ?? 0) + 1;
    }
    for (const violation of crossLedgerViolations(view, byReference.get(id) ?? [])) {
      crossLedger.push(`${violation} (${item.scenario.name})`);
    }
    authorizations += ops.filter((op) => op.type === 'authorize').length;
    captures += ops.filter((op) => op.type === 'capture').length;
    voids += ops.filter((op) => op.type === 'void').length;
    capturedTotal +=
      ops.filter((op) => op.type === 'capture').reduce((sum, op) => sum + op.amount, 0) -
      ops.filter((op) => op.type === 'refund').reduce((sum, op) => sum + op.amount, 0);
    if (view.status === 'succeeded') succeededTotal += view.amount;
    for (const violation of moneyInvariantViolations({ ...view, confirmationRequired: true }, byReference.get(id) ?? [])) {
      const line = `${violation} (${item.scenario.name})`;
      if (/captured \d+ times/.test(violation)) doubleCaptures.push(line);
      else if (/without an inventory confirmation|before the confirmation/.test(violation)) withoutConfirmation.push(line);
      else if (/neither captured nor voided/.test(violation)) dangling.push(line);
      else otherMoney.push(line);
    }
  }
  const oversold = input.orders.filter((o) => o.oversold > 0).map((o) => `order ${o.order_ref}: oversold ${o.oversold}`);
  const stock = [...input.stockBreaches, ...oversold];
  const result = (name: string, bad: string[], value: string): InvariantResult => ({
    name,
    ok: bad.length === 0,
    value,
    examples: bad.slice(0, 10),
  });
  const invariants = [
    result(
      'every checkout created and terminal',
      [...notCreated, ...notTerminal],
      `${total - notCreated.length - notTerminal.length} of ${total} terminal`,
    ),
    result('0 double captures', doubleCaptures, `${doubleCaptures.length}`),
    result('0 captures without confirmation', withoutConfirmation, `${withoutConfirmation.length}`),
    result('0 dangling authorizations', dangling, `${dangling.length}`),
    result('other money invariants (one authorization, amounts, capture xor void)', otherMoney, `${otherMoney.length}`),
    result(
      'across both PSP ledgers: at most one capture per checkout, every other authorization voided',
      crossLedger,
      `${crossLedger.length}`,
    ),
    result(
      'captured total (PSP ledger) = sum of succeeded checkouts',
      capturedTotal === succeededTotal ? [] : [`ledger ${capturedTotal} != succeeded ${succeededTotal}`],
      `${capturedTotal} = ${succeededTotal} (minor units)`,
    ),
    result(
      "every terminal checkout's webhook delivered",
      webhookMissing,
      `${ours.length - notTerminal.length - webhookMissing.length} of ${ours.length - notTerminal.length}`,
    ),
    result('stock never oversold (sampled every second, per host lifetime)', stock, `${stock.length} breaches`),
  ];
  return { invariants, ledger: { authorizations, captures, voids, capturedTotal, succeededTotal, byConnector } };
}

/** The printed result: counts per scenario and status, then one line per invariant. */
export function formatChaosReport(report: ChaosReport): string {
  const lines = [
    `Chaos run ${report.measuredAt.slice(0, 19)}Z: ${report.options.checkouts} checkouts at concurrency ${report.options.concurrency}, seed ${report.options.seed}, ${report.wallSeconds} s, load average before ${report.loadAverageBefore.map((v) => v.toFixed(2)).join(' ')}`,
    `Host crash: ${report.restart.done ? `SIGKILL at checkout ${report.restart.atCheckout}, back after ${report.restart.downSeconds} s on the same data dir` : 'none'}`,
    `Outages: ${
      report.outages
        .map((o) => `${o.target} ${o.mode} checkouts ${o.onAtCheckout ?? '-'}..${o.offAtCheckout ?? 'end'}`)
        .join(', ') || 'none'
    }`,
    `Routing over both connectors with failover: ${report.routing.applied ? 'on' : `off (${report.routing.detail})`}; buyers pay with ${report.payWith}; renewals: ${report.renewals}`,
    `Attempts per connector: ${
      Object.entries(report.attempts.byConnector)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }; failovers ${report.attempts.failovers}`,
    formatChallenges(report.challenges),
    `Scenarios: ${Object.entries(report.scenarios)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `Statuses: ${Object.entries(report.statuses)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; failure reasons: ${Object.entries(report.failureReasons)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `PSP ledgers (succeeded operations): ${
      Object.entries(report.ledger.byConnector)
        .map(
          ([connector, counts]) =>
            `${connector} ${Object.entries(counts)
              .map(([type, n]) => `${type} ${n}`)
              .join(' ')}`,
        )
        .join('; ') || 'none'
    }`,
    `PSP ledgers total: ${report.ledger.authorizations} authorizations, ${report.ledger.captures} captures, ${report.ledger.voids} voids; client retries while the host was down: ${report.clientObservations.retriedRequests}; creates orphaned by the crash (canceled, re-created): ${report.clientObservations.orphanedCreates}`,
    '',
    '| invariant | result | value |',
    '|---|---|---|',
    ...report.invariants.map((i) => `| ${i.name} | ${i.ok ? 'ok' : '**BREACH**'} | ${i.value} |`),
  ];
  for (const invariant of report.invariants.filter((i) => !i.ok)) {
    lines.push('', `${invariant.name}:`, ...invariant.examples.map((e) => `  - ${e}`));
  }
  lines.push('', report.breaches === 0 ? 'All invariants hold.' : `${report.breaches} invariant(s) breached.`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options: ChaosOptions = {
    checkouts: numberOption(argv, 'checkouts', 'CHAOS_CHECKOUTS', 2000),
    concurrency: numberOption(argv, 'concurrency', 'CHAOS_CONCURRENCY', 24),
    seed: numberOption(argv, 'seed', 'CHAOS_SEED', Date.now() % 1_000_000),
    settleTimeoutMs: 180_000,
    ...(argv.includes('--no-restart') ? {} : { restartAt: 0.4 }),
    ...(argv.includes('--no-outages') ? { outages: [] } : {}),
    log: (line) => console.error(line),
  };
  const outIndex = argv.indexOf('--out');
  const out = resolve(
    outIndex !== -1 && argv[outIndex + 1]
      ? (argv[outIndex + 1] as string)
      : (process.env.CHAOS_OUT ?? 'bench/results/latest-chaos.json'),
  );
  const report = await runChaos(options);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${formatChaosReport(report)}\n\nWritten: ${out}\n`);
  process.stdout.write(
    `chaos: ${report.options.checkouts} checkouts in ${report.wallSeconds} s, ${report.restart.done ? 'host crashed and restarted' : 'no host crash'}, ` +
      `${report.invariants.length - report.breaches}/${report.invariants.length} invariants hold${report.breaches === 0 ? '' : ` (${report.breaches} BREACHED)`}\n`,
  );
  process.exitCode = report.breaches === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`chaos failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  });
}

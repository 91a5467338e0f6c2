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
 * lost executions left in `processing`).
 *
 * Invariants (each printed with its count; any breach exits 1): every checkout terminal; 0 double
 * captures; 0 captures without confirmation; 0 dangling authorizations (and the rest of
 * test/support/money-invariants.ts); captured total in the PSP ledger = sum of succeeded
 * checkouts; every terminal checkout's checkout.* webhook delivered; stock never oversold.
 *
 * Flags / env: --checkouts N (CHAOS_CHECKOUTS, default 2000), --concurrency C (CHAOS_CONCURRENCY,
 * default 24), --seed S (CHAOS_SEED), --no-restart, --out FILE (CHAOS_OUT).
 */
import '../local/polyfills';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchLedger, type LedgerOperation } from '../local/sandbox-psp/client';
import { PaystepClient } from '../local/paystep-client';
import { moneyInvariantViolations } from '../test/support/money-invariants';
import {
  createCheckout,
  numberOption,
  payCheckout,
  readCatalogue,
  readCheckout,
  readOrders,
  runPool,
  setCatalogue,
  sleep,
  TERMINAL_STATUSES,
  tokenize,
  type CatalogueProduct,
  type CreatedCheckout,
  type TimelineCheckout,
} from './checkout-driver';
import { startBenchStack, type BenchStack } from './stack-runner';

const CATALOGUE: CatalogueProduct[] = [
  { sku: 'mug', name: 'Mug', unit_amount: 1250, currency: 'USD', stock: 1_000_000 },
  { sku: 'limited', name: 'Limited drop', unit_amount: 5000, currency: 'USD', stock: 15 },
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
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'approve', weight: 34, card: '4242424242424242', sku: 'mug' },
  { name: 'decline', weight: 5, card: '4000000000000002', sku: 'mug' },
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
];

/** Environment for the stack under chaos: short PSP timeout and hangs, compressed callbacks and recovery. */
export const CHAOS_STACK_ENV: Record<string, string> = {
  PSP_TIMEOUT_MS: '2000',
  PAYSTEP_PSP_HANG_MS: '4000',
  PAYSTEP_PSP_CALLBACK_DELAY_MS: '1000',
  PAYSTEP_RECOVERY_AFTER_MS: '12000',
  PAYSTEP_RECOVERY_LEASE_MS: '10000',
};

export interface ChaosOptions {
  checkouts: number;
  concurrency: number;
  /** Crash and restart the stack once this share of checkouts has started; omit for no restart. */
  restartAt?: number;
  seed: number;
  /** Bound for the final wait until every checkout is terminal and its webhook delivered. */
  settleTimeoutMs: number;
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
  scenarios: Record<string, number>;
  statuses: Record<string, number>;
  failureReasons: Record<string, number>;
  ledger: { authorizations: number; captures: number; voids: number; capturedTotal: number; succeededTotal: number };
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

  log(`chaos: starting the local stack (data in ${dataDir})...`);
  let stack: BenchStack = await startBenchStack({ dataDir, env: CHAOS_STACK_ENV });
  let epoch = 0;
  let restarting: Promise<void> | undefined;
  const started = performance.now();
  try {
    await setCatalogue(stack.merchantUrl, CATALOGUE);
    const api = (): PaystepClient => new PaystepClient(stack.apiUrl);

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

    let begun = 0;
    let finished = 0;
    const progress = setInterval(() => {
      log(`chaos: ${finished}/${options.checkouts} driven${restarting !== undefined ? ' (host restarting)' : ''}`);
    }, 5_000);
    try {
      await runPool(options.checkouts, options.concurrency, async (index) => {
        const item = tracked[index] as Tracked;
        begun += 1;
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
      const token = await resilient('tokenize', () => tokenize(stack.pspUrl, item.scenario.card));
      const create = (merchantOrderRef: string): Promise<CreatedCheckout> =>
        resilient('create', () =>
          createCheckout(api(), stack.secretKey, {
            merchantOrderRef,
            sku: item.scenario.sku,
            quantity: 1,
            unitAmount: item.amount,
            currency: 'USD',
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
      const clicks = item.scenario.clicks ?? 1;
      const pay = async (): Promise<void> => {
        await resilient('pay', async () => {
          try {
            await payCheckout(api(), checkout, token);
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
      // Follow it like the pending page would, for a while; the final phase waits for the rest.
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        await sleep(400);
        try {
          const view = await readCheckout(api(), stack.secretKey, checkout.id);
          item.last = view;
          if (TERMINAL_STATUSES.has(view.status)) return;
        } catch {
          // host down: the final phase catches up
        }
      }
    }

    while (restarting !== undefined) await restarting;
    log(
      `chaos: all ${options.checkouts} checkouts driven in ${((performance.now() - started) / 1000).toFixed(1)} s; waiting for terminal statuses and webhooks (bound ${options.settleTimeoutMs / 1000} s)...`,
    );
    const settleDeadline = Date.now() + options.settleTimeoutMs;
    const everyCheckout = (): Tracked[] => [...tracked, ...orphans];
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

    const ledger = await fetchLedger(stack.pspUrl);
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
      scenarios: countBy(tracked.map((t) => t.scenario.name)),
      statuses: countBy(tracked.map((t) => t.last?.status ?? 'unknown')),
      failureReasons: countBy(
        tracked.filter((t) => t.last?.status === 'failed').map((t) => String(t.last?.failure_reason ?? 'none')),
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
  ledger: LedgerOperation[];
  orders: { order_ref: string | null; state: string; oversold: number }[];
  stockBreaches: string[];
}): { invariants: InvariantResult[]; ledger: ChaosReport['ledger'] } {
  const { tracked, ledger } = input;
  const byReference = new Map<string, LedgerOperation[]>();
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
  return { invariants, ledger: { authorizations, captures, voids, capturedTotal, succeededTotal } };
}

/** The printed result: counts per scenario and status, then one line per invariant. */
export function formatChaosReport(report: ChaosReport): string {
  const lines = [
    `Chaos run ${report.measuredAt.slice(0, 19)}Z: ${report.options.checkouts} checkouts at concurrency ${report.options.concurrency}, seed ${report.options.seed}, ${report.wallSeconds} s, load average before ${report.loadAverageBefore.map((v) => v.toFixed(2)).join(' ')}`,
    `Host crash: ${report.restart.done ? `SIGKILL at checkout ${report.restart.atCheckout}, back after ${report.restart.downSeconds} s on the same data dir` : 'none'}`,
    `Scenarios: ${Object.entries(report.scenarios)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `Statuses: ${Object.entries(report.statuses)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; failure reasons: ${Object.entries(report.failureReasons)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `PSP ledger: ${report.ledger.authorizations} authorizations, ${report.ledger.captures} captures, ${report.ledger.voids} voids; client retries while the host was down: ${report.clientObservations.retriedRequests}; creates orphaned by the crash (canceled, re-created): ${report.clientObservations.orphanedCreates}`,
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

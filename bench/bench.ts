/**
 * `npm run bench`: throughput, latency and AWS cost per checkout, measured on the local stack.
 *
 * Starts the instrumented local stack in a child process (bench/stack-process.ts, in memory,
 * random ports; the sandbox PSP approves, the demo merchant confirms at once), then:
 *   1. warm-up checkouts (not measured);
 *   2. a serial phase (concurrency 1) that measures each Lambda's duration without CPU contention,
 *      which is what the GB-s cost uses (Lambda runs one request per container), and the latency
 *      of one checkout at a time (pay -> terminal, create -> webhook delivered);
 *   2b. a sizing phase (concurrency 1, not timed): DynamoDB write units by AWS's own rules, from
 *      strongly consistent reads of every written item before and after the write
 *      (bench/instrumentation.ts), index writes included;
 *   3. the raw DynamoDB Local PutItem rate at the benchmark's concurrency (the storage bound);
 *   4. N complete checkouts (create -> pay -> terminal -> webhook delivered) at fixed concurrency:
 *      checkouts/s, p50/p95/p99 of create and pay, time to terminal and to webhook delivered, and
 *      per checkout the DynamoDB calls and capacity units, Lambda invocations, API requests and
 *      (from the emulator's GetExecutionHistory) Step Functions state transitions;
 *   5. the AWS list-price cost per million checkouts (bench/prices.ts), with the write units by
 *      AWS's rules when the sizing phase ran;
 *   6. the bundle figures of the last `npm run bundle-report` (.paystep/bundles/report.json).
 * Every headline figure is printed beside issue 14's target (ok/over).
 * Writes bench/results/latest-bench.json and prints a markdown table for the README.
 *
 * Flags / env: --checkouts N (BENCH_CHECKOUTS, default 600), --concurrency C (BENCH_CONCURRENCY,
 * default 16), --serial N (BENCH_SERIAL, default 40), --sizing N (BENCH_SIZING, default 10), --out
 * FILE (BENCH_OUT). A short run: `npm run bench -- --checkouts 100 --serial 10 --sizing 5`.
 */
import '../local/polyfills';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { LOCAL_AWS } from '../local/dynamodb-local';
import { PaystepClient } from '../local/paystep-client';
import { stateMachineArnFor } from '../local/stepfunctions-emulator';
import { BUNDLE_REPORT_DIR } from '../lib/bundle-report';
import { BUNDLE_TARGET_BYTES, INIT_TARGET_MS } from '../lib/bundling';
import { LOCAL_TABLE_NAME } from '../lib/table-schema';
import {
  createCheckout,
  numberOption,
  payCheckout,
  readCheckout,
  runPool,
  setCatalogue,
  sleep,
  summarize,
  timelineMoments,
  tokenize,
  type LatencySummary,
} from './checkout-driver';
import type { CounterSnapshot, EntryCounters } from './instrumentation';
import {
  costPerMillionCheckouts,
  fixedMonthlyUsd,
  PRICES,
  PRICES_RECORDED,
  PRICES_REGION,
  type PerCheckoutUsage,
} from './prices';
import { startBenchStack, type BenchStack } from './stack-runner';

const CARD_OK = '4242424242424242';
const PRODUCT = { sku: 'bench-item', name: 'Benchmark item', unit_amount: 1000, currency: 'USD', stock: 100_000_000 };
/** Routes the load generator calls only to learn when a checkout is done (a browser's pending page polls the status route instead). */
const POLL_KEYS = new Set(['api-checkouts GET /v1/checkouts/{id}']);
/** Scheduled on AWS (fixed monthly cost), on fast timers locally: not per-checkout work. */
const BACKGROUND_KEYS = new Set(['webhook-dispatcher', 'reconciliation-sweep', '(outside a handler)']);

/** Issue 14's targets, per successful checkout unless said otherwise; the bench prints each figure against its target. */
export const BENCH_TARGETS = {
  dynamoWriteRequests: 5,
  writeRequestUnitsAws: 10,
  readRequestUnitsAws: 10,
  stateTransitions: 3,
  lambdaInvocations: 6,
  costUsdPerMillion: 90,
  serialPayToTerminalP50Ms: 60,
  serialCreateToWebhookDeliveredP50Ms: 150,
  checkoutsPerSecond: 25,
  bundleKiB: BUNDLE_TARGET_BYTES / 1024,
  initMs: INIT_TARGET_MS,
} as const;

export interface BenchOptions {
  checkouts: number;
  concurrency: number;
  serialCheckouts: number;
  /** Serial checkouts with AWS write-unit sizing on (0: no sizing, the write units are DynamoDB Local's). */
  sizingCheckouts: number;
  warmupCheckouts: number;
  putItems: number;
  log: (line: string) => void;
}

interface CheckoutTiming {
  id: string;
  status: string;
  createMs: number;
  payMs: number;
  /** Create request start -> terminal status recorded (timeline). */
  toTerminalMs?: number;
  /** Pay request start -> terminal status recorded. */
  payToTerminalMs?: number;
  /** Create request start -> webhook delivered (timeline). */
  toWebhookMs?: number;
  /** GET /v1/checkouts/{id} calls the load generator made to see it finish. */
  polls: number;
}

export interface BenchReport {
  kind: 'paystep-bench';
  measuredAt: string;
  machine: { cpus: number; cpuModel: string; node: string; loadAverageBefore: number[]; loadAverageAfter: number[] };
  options: Omit<BenchOptions, 'log'>;
  throughput: { checkouts: number; succeeded: number; wallSeconds: number; checkoutsPerSecond: number };
  latencyMs: {
    create: LatencySummary;
    pay: LatencySummary;
    createToTerminal: LatencySummary;
    payToTerminal: LatencySummary;
    createToWebhookDelivered: LatencySummary;
    /** One checkout at a time (the serial phase), instant PSP and merchant. */
    serialPayToTerminal: LatencySummary;
    serialCreateToTerminal: LatencySummary;
    serialCreateToWebhookDelivered: LatencySummary;
  };
  /** Status polls the load generator made in the measured run (one GET every 100 ms per checkout in flight). */
  statusPolls: { total: number; perCheckout: number };
  storageBound: {
    putItemsPerSecond: number;
    putItems: number;
    concurrency: number;
    dynamoWriteCallsPerCheckout: number;
    checkoutsPerSecondBound: number;
    ratioToBound: number;
  };
  perCheckout: PerCheckoutUsage & {
    /** DynamoDB write API calls (Put/Update/Delete/TransactWrite/BatchWrite), background components included. */
    dynamoWriteRequests: number;
    /** Items those calls wrote (a transaction of 3 items counts 3). */
    dynamoItemsWritten: number;
    /** Write units by AWS's rules (sizing phase; null when it did not run), index writes included. */
    writeRequestUnitsAws: number | null;
    /** Write units DynamoDB Local reported (ReturnConsumedCapacity), background components included. */
    writeRequestUnitsLocal: number;
    /** Read units by AWS's rules, from the items the reads returned. */
    readRequestUnitsAws: number;
    /** Read units DynamoDB Local reported. */
    readRequestUnitsLocal: number;
    /** The part of writeRequestUnitsAws spent on gsi1 entries (the index projects ALL attributes). */
    indexWriteRequestUnitsAws: number | null;
    /** DynamoDB Local's write units for the sizing phase's checkouts (the same writes as writeRequestUnitsAws). */
    writeRequestUnitsLocalSizing: number | null;
    /** The sizing phase's write units per command (which calls the units go to). */
    writeRequestUnitsAwsByCommand: Record<string, number>;
    /** The sizing phase's writes per `<entry> <command>`: requests, items, units by AWS rules and Local's. */
    writesByEntry: Record<string, { requests: number; items: number; unitsAws: number; unitsLocal: number }>;
    dynamoCallsByCommand: Record<string, number>;
    lambdaInvocationsByEntry: Record<string, number>;
    /** Mean billed ms per invocation, from the serial phase. */
    lambdaMsPerInvocationSerial: Record<string, number>;
    executionHistoriesRead: number;
  };
  perStatusPoll: { lambdaInvocations: number; readRequestUnits: number };
  /** From the last `npm run bundle-report` (null when it has not run on this checkout). */
  bundles: { maxKiB: number | null; maxInitMs: number | null; measuredAt: string | null; node: string | null };
  targets: typeof BENCH_TARGETS;
  cost: ReturnType<typeof costPerMillionCheckouts> & {
    pricesRegion: string;
    pricesRecorded: string;
    fixedMonthlyUsd: { item: string; usd: number }[];
  };
}

/** Runs the whole benchmark against a fresh in-memory stack and returns the report. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log;
  const loadAverageBefore = loadavg();
  log(`bench: starting the local stack (in memory)...`);
  const stack = await startBenchStack();
  try {
    const api = new PaystepClient(stack.apiUrl);
    await setCatalogue(stack.merchantUrl, [PRODUCT]);
    let serial = 0;
    const nextRef = (phase: string): string => `bench-${phase}-${Date.now().toString(36)}-${(serial += 1)}`;

    log(`bench: warm-up, ${options.warmupCheckouts} checkouts`);
    await runPool(options.warmupCheckouts, Math.min(4, options.concurrency), async () => {
      await oneCheckout(stack, api, nextRef('warm'));
    });

    log(`bench: serial phase, ${options.serialCheckouts} checkouts at concurrency 1 (Lambda durations)`);
    await stack.resetCounters();
    const serialTimings: CheckoutTiming[] = [];
    await runPool(options.serialCheckouts, 1, async () => {
      serialTimings.push(await oneCheckout(stack, api, nextRef('serial')));
    });
    const serialCounters = await stack.resetCounters();

    let sizing: { counters: CounterSnapshot; succeeded: number } | undefined;
    if (options.sizingCheckouts > 0) {
      log(`bench: sizing phase, ${options.sizingCheckouts} checkouts at concurrency 1 (AWS write units; not timed)`);
      await stack.setWriteSizing(true);
      const sizingTimings: CheckoutTiming[] = [];
      try {
        await runPool(options.sizingCheckouts, 1, async () => {
          sizingTimings.push(await oneCheckout(stack, api, nextRef('sizing')));
        });
        await sleep(500);
      } finally {
        await stack.setWriteSizing(false);
      }
      sizing = {
        counters: await stack.resetCounters(),
        succeeded: sizingTimings.filter((t) => t.status === 'succeeded').length,
      };
    }

    log(`bench: raw DynamoDB Local PutItem rate, ${options.putItems} items at concurrency ${options.concurrency}`);
    const putItemsPerSecond = await measurePutItemRate(stack.dynamoDbEndpoint, options.putItems, options.concurrency);
    log(`bench: ${putItemsPerSecond.toFixed(0)} PutItem/s`);

    log(`bench: ${options.checkouts} checkouts at concurrency ${options.concurrency}`);
    await sleep(500);
    await stack.resetCounters();
    const timings: CheckoutTiming[] = [];
    const startedAt = performance.now();
    let done = 0;
    const progress = setInterval(() => {
      const elapsed = (performance.now() - startedAt) / 1000;
      log(`bench: ${done}/${options.checkouts} done, ${(done / elapsed).toFixed(1)} checkouts/s`);
    }, 3_000);
    try {
      await runPool(options.checkouts, options.concurrency, async () => {
        timings.push(await oneCheckout(stack, api, nextRef('run')));
        done += 1;
      });
    } finally {
      clearInterval(progress);
    }
    const wallSeconds = (performance.now() - startedAt) / 1000;
    const runCounters = await stack.counters();
    const succeeded = timings.filter((t) => t.status === 'succeeded');
    log(`bench: ${succeeded.length}/${timings.length} succeeded in ${wallSeconds.toFixed(1)} s; reading execution histories...`);
    const transitions = await countStateTransitions(stack.sfnUrl, succeeded.map((t) => t.id).slice(0, 400));

    const usage = perCheckoutUsage(runCounters, serialCounters, succeeded.length, transitions);
    const writeCalls = usage.dynamoWriteCalls;
    const writes = writeFigures(runCounters, succeeded.length);
    const sized = sizing === undefined ? undefined : writeFigures(sizing.counters, sizing.succeeded);
    const writeRequestUnitsAws = sized === undefined ? null : round(sized.writeUnitsAws, 2);
    // What AWS bills: the write units by its rules when the sizing phase measured them.
    const billedUsage = { ...usage.usage, writeRequestUnits: writeRequestUnitsAws ?? writes.writeUnitsLocal };
    const polls = timings.reduce((sum, t) => sum + t.polls, 0);
    const report: BenchReport = {
      kind: 'paystep-bench',
      measuredAt: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        node: process.version,
        loadAverageBefore,
        loadAverageAfter: loadavg(),
      },
      options: {
        checkouts: options.checkouts,
        concurrency: options.concurrency,
        serialCheckouts: options.serialCheckouts,
        sizingCheckouts: options.sizingCheckouts,
        warmupCheckouts: options.warmupCheckouts,
        putItems: options.putItems,
      },
      throughput: {
        checkouts: timings.length,
        succeeded: succeeded.length,
        wallSeconds: round(wallSeconds, 2),
        checkoutsPerSecond: round(timings.length / wallSeconds, 2),
      },
      latencyMs: {
        create: summarize(timings.map((t) => t.createMs)),
        pay: summarize(timings.map((t) => t.payMs)),
        createToTerminal: summarize(defined(timings.map((t) => t.toTerminalMs))),
        payToTerminal: summarize(defined(timings.map((t) => t.payToTerminalMs))),
        createToWebhookDelivered: summarize(defined(timings.map((t) => t.toWebhookMs))),
        serialPayToTerminal: summarize(defined(serialTimings.map((t) => t.payToTerminalMs))),
        serialCreateToTerminal: summarize(defined(serialTimings.map((t) => t.toTerminalMs))),
        serialCreateToWebhookDelivered: summarize(defined(serialTimings.map((t) => t.toWebhookMs))),
      },
      statusPolls: { total: polls, perCheckout: round(timings.length === 0 ? 0 : polls / timings.length, 2) },
      storageBound: {
        putItemsPerSecond: round(putItemsPerSecond, 1),
        putItems: options.putItems,
        concurrency: options.concurrency,
        dynamoWriteCallsPerCheckout: round(writeCalls, 2),
        checkoutsPerSecondBound: round(putItemsPerSecond / writeCalls, 2),
        ratioToBound: round(timings.length / wallSeconds / (putItemsPerSecond / writeCalls), 3),
      },
      perCheckout: {
        ...billedUsage,
        dynamoWriteRequests: round(writes.writeRequests, 2),
        dynamoItemsWritten: round(writes.itemsWritten, 2),
        writeRequestUnitsAws,
        writeRequestUnitsLocal: round(writes.writeUnitsLocal, 2),
        readRequestUnitsAws: round(usage.readUnitsAws, 2),
        readRequestUnitsLocal: usage.usage.readRequestUnits,
        indexWriteRequestUnitsAws: sized === undefined ? null : round(sized.indexWriteUnitsAws, 2),
        writeRequestUnitsLocalSizing: sized === undefined ? null : round(sized.writeUnitsLocal, 2),
        writeRequestUnitsAwsByCommand: sized?.writeUnitsAwsByCommand ?? {},
        writesByEntry: sized?.byEntry ?? {},
        dynamoCallsByCommand: usage.callsByCommand,
        lambdaInvocationsByEntry: usage.invocationsByEntry,
        lambdaMsPerInvocationSerial: usage.msPerInvocation,
        executionHistoriesRead: transitions.histories,
      },
      perStatusPoll: usage.perPoll,
      bundles: readBundleReport(),
      targets: BENCH_TARGETS,
      cost: {
        ...costPerMillionCheckouts(billedUsage),
        pricesRegion: PRICES_REGION,
        pricesRecorded: PRICES_RECORDED,
        fixedMonthlyUsd: fixedMonthlyUsd(),
      },
    };
    return report;
  } finally {
    await stack.stop();
  }
}

/** One checkout, start to webhook delivered; the merchant's timeline gives the server-side moments. */
async function oneCheckout(stack: BenchStack, api: PaystepClient, merchantOrderRef: string): Promise<CheckoutTiming> {
  const token = await tokenize(stack.pspUrl, CARD_OK);
  const createStart = Date.now();
  let mark = performance.now();
  const checkout = await createCheckout(api, stack.secretKey, {
    merchantOrderRef,
    sku: PRODUCT.sku,
    quantity: 1,
    unitAmount: PRODUCT.unit_amount,
    currency: PRODUCT.currency,
  });
  const createMs = performance.now() - mark;
  const payStart = Date.now();
  mark = performance.now();
  await payCheckout(api, checkout, token);
  const payMs = performance.now() - mark;
  const deadline = Date.now() + 60_000;
  let polls = 0;
  for (;;) {
    await sleep(100);
    const view = await readCheckout(api, stack.secretKey, checkout.id);
    polls += 1;
    const moments = timelineMoments(view);
    if ((moments.terminalAt !== undefined && moments.webhookDeliveredAt !== undefined) || Date.now() > deadline) {
      return {
        id: checkout.id,
        status: view.status,
        createMs,
        payMs,
        polls,
        ...(moments.terminalAt !== undefined
          ? { toTerminalMs: moments.terminalAt - createStart, payToTerminalMs: moments.terminalAt - payStart }
          : {}),
        ...(moments.webhookDeliveredAt !== undefined ? { toWebhookMs: moments.webhookDeliveredAt - createStart } : {}),
      };
    }
  }
}

/** PutItem of a checkout-sized item (~1 KB) into the Paystep table, `count` of them at `concurrency`. */
async function measurePutItemRate(endpoint: string, count: number, concurrency: number): Promise<number> {
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint, maxAttempts: 1 });
  const payload = 'x'.repeat(800);
  try {
    const started = performance.now();
    await runPool(count, concurrency, async (index) => {
      await client.send(
        new PutItemCommand({
          TableName: LOCAL_TABLE_NAME,
          Item: { pk: { S: `BENCH#${index}` }, sk: { S: 'RAW' }, payload: { S: payload }, n: { N: String(index) } },
        }),
      );
    });
    return count / ((performance.now() - started) / 1000);
  } finally {
    client.destroy();
  }
}

/**
 * Billed state transitions per execution, from GetExecutionHistory: every state entered, plus
 * every Task retry (a retried Task schedules its function again without a new StateEntered).
 */
async function countStateTransitions(
  sfnUrl: string,
  checkoutIds: string[],
): Promise<{ perExecution: number; histories: number }> {
  const client = new SFNClient({ ...LOCAL_AWS, endpoint: sfnUrl });
  const machine = stateMachineArnFor();
  const executionPrefix = machine.replace(':stateMachine:', ':execution:');
  let total = 0;
  let histories = 0;
  try {
    await runPool(checkoutIds.length, 8, async (index) => {
      const events: HistoryEvent[] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(
          new GetExecutionHistoryCommand({
            executionArn: `${executionPrefix}:${checkoutIds[index]}`,
            maxResults: 1000,
            nextToken,
          }),
        );
        events.push(...(page.events ?? []));
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      const entered = events.filter((e) => e.type?.endsWith('StateEntered')).length;
      const taskEntered = events.filter((e) => e.type === 'TaskStateEntered').length;
      const scheduled = events.filter((e) => e.type === 'LambdaFunctionScheduled' || e.type === 'TaskScheduled').length;
      total += entered + Math.max(0, scheduled - taskEntered);
      histories += 1;
    });
  } finally {
    client.destroy();
  }
  return { perExecution: histories === 0 ? 0 : total / histories, histories };
}

function perCheckoutUsage(
  run: CounterSnapshot,
  serial: CounterSnapshot,
  succeeded: number,
  transitions: { perExecution: number },
) {
  const per = (value: number): number => (succeeded === 0 ? 0 : value / succeeded);
  const work = Object.entries(run.entries).filter(([key]) => !POLL_KEYS.has(key) && !BACKGROUND_KEYS.has(key));
  const msPerInvocation: Record<string, number> = {};
  for (const [key, counters] of Object.entries(serial.entries)) {
    if (counters.invocations > 0) msPerInvocation[key] = round(counters.billedMs / counters.invocations, 1);
  }
  let invocations = 0;
  let apiRequests = 0;
  let billedMs = 0;
  let writeUnits = 0;
  let readUnits = 0;
  let readUnitsAws = 0;
  let writeCalls = 0;
  const callsByCommand: Record<string, number> = {};
  const invocationsByEntry: Record<string, number> = {};
  for (const [key, counters] of work) {
    invocations += counters.invocations;
    if (key.includes(' ')) apiRequests += counters.invocations;
    billedMs += counters.invocations * (msPerInvocation[key] ?? counters.billedMs / Math.max(1, counters.invocations));
    invocationsByEntry[key] = round(per(counters.invocations), 2);
    for (const [command, calls] of Object.entries(counters.dynamodb)) {
      writeUnits += calls.writeUnits;
      readUnits += calls.readUnits;
      readUnitsAws += calls.readUnitsAws ?? 0;
      callsByCommand[command] = (callsByCommand[command] ?? 0) + calls.calls;
      if (/Put|Update|Delete|Write/.test(command)) writeCalls += calls.items;
    }
  }
  for (const command of Object.keys(callsByCommand)) callsByCommand[command] = round(per(callsByCommand[command] as number), 2);
  const polls = [...POLL_KEYS].map((key) => run.entries[key]).filter((c): c is EntryCounters => c !== undefined);
  const pollInvocations = polls.reduce((sum, c) => sum + c.invocations, 0);
  const pollReads = polls.reduce((sum, c) => sum + Object.values(c.dynamodb).reduce((s, d) => s + d.readUnits, 0), 0);
  return {
    usage: {
      apiRequests: round(per(apiRequests), 2),
      lambdaInvocations: round(per(invocations), 2),
      lambdaBilledMs: round(per(billedMs), 1),
      stateTransitions: round(transitions.perExecution, 2),
      executions: 1,
      writeRequestUnits: round(per(writeUnits), 2),
      readRequestUnits: round(per(readUnits), 2),
    },
    dynamoWriteCalls: per(writeCalls),
    readUnitsAws: per(readUnitsAws),
    callsByCommand,
    invocationsByEntry,
    msPerInvocation,
    perPoll: { lambdaInvocations: 1, readRequestUnits: pollInvocations === 0 ? 0 : round(pollReads / pollInvocations, 2) },
  };
}

const WRITE_COMMAND = /Put|Update|Delete|Write/;

/**
 * Per successful checkout, DynamoDB writes made by every component (the dispatcher's and the
 * sweep's included: on AWS they are per checkout too), but not the load generator's polls.
 */
function writeFigures(counters: CounterSnapshot, succeeded: number) {
  const per = (value: number): number => (succeeded === 0 ? 0 : value / succeeded);
  let writeRequests = 0;
  let itemsWritten = 0;
  let writeUnitsLocal = 0;
  let writeUnitsAws = 0;
  let indexWriteUnitsAws = 0;
  const byCommand: Record<string, number> = {};
  const byEntry: Record<string, { requests: number; items: number; unitsAws: number; unitsLocal: number }> = {};
  for (const [key, entry] of Object.entries(counters.entries)) {
    if (POLL_KEYS.has(key)) continue;
    for (const [command, calls] of Object.entries(entry.dynamodb)) {
      if (!WRITE_COMMAND.test(command)) continue;
      writeRequests += calls.calls;
      itemsWritten += calls.items;
      writeUnitsLocal += calls.writeUnits;
      writeUnitsAws += calls.writeUnitsAws ?? 0;
      indexWriteUnitsAws += calls.indexWriteUnitsAws ?? 0;
      byCommand[command] = (byCommand[command] ?? 0) + (calls.writeUnitsAws ?? 0);
      const row = (byEntry[`${key} ${command.replace('Command', '')}`] ??= { requests: 0, items: 0, unitsAws: 0, unitsLocal: 0 });
      row.requests += calls.calls;
      row.items += calls.items;
      row.unitsAws += calls.writeUnitsAws ?? 0;
      row.unitsLocal += calls.writeUnits;
    }
  }
  for (const command of Object.keys(byCommand)) byCommand[command] = round(per(byCommand[command] as number), 2);
  for (const row of Object.values(byEntry)) {
    row.requests = round(per(row.requests), 2);
    row.items = round(per(row.items), 2);
    row.unitsAws = round(per(row.unitsAws), 2);
    row.unitsLocal = round(per(row.unitsLocal), 2);
  }
  return {
    writeRequests: per(writeRequests),
    itemsWritten: per(itemsWritten),
    writeUnitsLocal: per(writeUnitsLocal),
    writeUnitsAws: per(writeUnitsAws),
    indexWriteUnitsAws: per(indexWriteUnitsAws),
    writeUnitsAwsByCommand: byCommand,
    byEntry,
  };
}

/** The headline figures of the last `npm run bundle-report`, when it ran in this checkout. */
function readBundleReport(): BenchReport['bundles'] {
  const file = `${BUNDLE_REPORT_DIR}/report.json`;
  if (!existsSync(file)) return { maxKiB: null, maxInitMs: null, measuredAt: null, node: null };
  const report = JSON.parse(readFileSync(file, 'utf8')) as {
    maxKiB?: number;
    maxInitMs?: number | null;
    measuredAt?: string;
    node?: string;
  };
  return {
    maxKiB: report.maxKiB ?? null,
    maxInitMs: report.maxInitMs ?? null,
    measuredAt: report.measuredAt ?? null,
    node: report.node ?? null,
  };
}

/** `ok` when `value` is within `target` (at most, or at least for `atLeast`), `over` otherwise, `n/a` without a value. */
function againstTarget(value: number | null, target: number, atLeast = false): string {
  if (value === null || Number.isNaN(value)) return 'n/a';
  return (atLeast ? value >= target : value <= target) ? 'ok' : 'over';
}

/** The figures issue 14 sets targets for, each beside its target. */
export function formatTargetsMarkdown(report: BenchReport): string {
  const t = report.targets;
  const p = report.perCheckout;
  const l = report.latencyMs;
  const rows: [string, number | null, string, number, boolean?][] = [
    [
      'checkouts/s at concurrency ' + report.options.concurrency,
      report.throughput.checkoutsPerSecond,
      '>=',
      t.checkoutsPerSecond,
      true,
    ],
    ['pay -> terminal p50, one at a time (ms)', l.serialPayToTerminal.p50, '<=', t.serialPayToTerminalP50Ms],
    [
      'create -> webhook delivered p50, one at a time (ms)',
      l.serialCreateToWebhookDelivered.p50,
      '<=',
      t.serialCreateToWebhookDeliveredP50Ms,
    ],
    ['DynamoDB write requests per checkout', p.dynamoWriteRequests, '<=', t.dynamoWriteRequests],
    [
      `DynamoDB write units per checkout, AWS rules (DynamoDB Local reports ${p.writeRequestUnitsLocalSizing ?? p.writeRequestUnitsLocal} for the same writes)`,
      p.writeRequestUnitsAws,
      '<=',
      t.writeRequestUnitsAws,
    ],
    [
      `DynamoDB read units per checkout, AWS rules (Local reports ${p.readRequestUnitsLocal})`,
      p.readRequestUnitsAws,
      '<=',
      t.readRequestUnitsAws,
    ],
    ['Step Functions state transitions per checkout', p.stateTransitions, '<=', t.stateTransitions],
    ['Lambda invocations per checkout', p.lambdaInvocations, '<=', t.lambdaInvocations],
    ['USD per million checkouts (list price)', round(report.cost.totalUsd, 2), '<=', t.costUsdPerMillion],
    ['largest Lambda bundle (KiB, bundle report)', report.bundles.maxKiB, '<=', round(t.bundleKiB, 1)],
    ['slowest module initialisation (ms, bundle report)', report.bundles.maxInitMs, '<=', t.initMs],
  ];
  return [
    '| figure (issue 14) | measured | target | |',
    '|---|---:|---:|:---:|',
    ...rows.map(
      ([name, value, sign, target, atLeast]) =>
        `| ${name} | ${value === null ? 'n/a' : value} | ${sign} ${target} | ${againstTarget(value, target, atLeast)} |`,
    ),
  ].join('\n');
}

/** The README table: one markdown block with the run's figures and the cost lines. */
export function formatBenchMarkdown(report: BenchReport): string {
  const l = report.latencyMs;
  const row = (name: string, s: LatencySummary): string => `| ${name} | ${s.p50} | ${s.p95} | ${s.p99} | ${s.max} |`;
  const usd = (value: number): string => `$${value < 1 ? value.toFixed(3) : value.toFixed(2)}`;
  const m = report.machine;
  const lines = [
    `Measured ${report.measuredAt.slice(0, 10)} on ${m.cpus} cores (${m.cpuModel}), Node ${m.node}, load average before ${m.loadAverageBefore.map((v) => v.toFixed(2)).join(' ')}.`,
    `${report.throughput.checkouts} checkouts at concurrency ${report.options.concurrency}, in memory, sandbox PSP approving, demo merchant confirming at once.`,
    '',
    '| throughput | value |',
    '|---|---|',
    `| checkouts/s (create -> pay -> terminal -> webhook delivered) | **${report.throughput.checkoutsPerSecond}** (${report.throughput.succeeded}/${report.throughput.checkouts} succeeded in ${report.throughput.wallSeconds} s) |`,
    `| DynamoDB Local raw PutItem/s at concurrency ${report.storageBound.concurrency} | ${report.storageBound.putItemsPerSecond} |`,
    `| DynamoDB write calls per checkout | ${report.storageBound.dynamoWriteCallsPerCheckout} |`,
    `| storage bound (PutItem/s / writes per checkout) | ${report.storageBound.checkoutsPerSecondBound} checkouts/s |`,
    `| measured / storage bound | ${report.storageBound.ratioToBound} |`,
    '',
    '| latency (ms) | p50 | p95 | p99 | max |',
    '|---|---|---|---|---|',
    row('POST /v1/checkouts (create)', l.create),
    row('POST /v1/checkouts/{id}/pay', l.pay),
    row('pay -> terminal status', l.payToTerminal),
    row('create -> terminal status', l.createToTerminal),
    row('create -> webhook delivered', l.createToWebhookDelivered),
    row('pay -> terminal status, one at a time', l.serialPayToTerminal),
    row('create -> webhook delivered, one at a time', l.serialCreateToWebhookDelivered),
    '',
    `Status polls by the load generator: ${report.statusPolls.total} (${report.statusPolls.perCheckout} per checkout, one GET every 100 ms; not counted in the figures below).`,
    '',
    formatTargetsMarkdown(report),
    '',
    '| per successful checkout | count |',
    '|---|---|',
    `| API Gateway requests (create + pay + PSP callbacks) | ${report.perCheckout.apiRequests} |`,
    `| Lambda invocations | ${report.perCheckout.lambdaInvocations} |`,
    `| Lambda billed ms (serial-phase durations) | ${report.perCheckout.lambdaBilledMs} |`,
    `| Step Functions state transitions | ${report.perCheckout.stateTransitions} |`,
    `| DynamoDB calls | ${Object.entries(report.perCheckout.dynamoCallsByCommand)
      .map(([c, n]) => `${c.replace('Command', '')} ${n}`)
      .join(', ')} |`,
    `| DynamoDB write requests / items written (every component) | ${report.perCheckout.dynamoWriteRequests} / ${report.perCheckout.dynamoItemsWritten} |`,
    `| DynamoDB WRU, AWS rules (of which gsi1 entries) / DynamoDB Local's figure, same checkouts | ${report.perCheckout.writeRequestUnitsAws ?? 'n/a'} (${report.perCheckout.indexWriteRequestUnitsAws ?? 'n/a'}) / ${report.perCheckout.writeRequestUnitsLocalSizing ?? 'n/a'} |`,
    `| DynamoDB WRU, DynamoDB Local's figure in the measured run (retries under contention included) | ${report.perCheckout.writeRequestUnitsLocal} |`,
    `| AWS-rule WRU by command (sizing phase) | ${Object.entries(report.perCheckout.writeRequestUnitsAwsByCommand)
      .map(([c, n]) => `${c.replace('Command', '')} ${n}`)
      .join(', ')} |`,
    `| DynamoDB RRU, AWS rules / DynamoDB Local's figure | ${report.perCheckout.readRequestUnitsAws} / ${report.perCheckout.readRequestUnitsLocal} |`,
    '',
    `| cost per million checkouts (AWS list prices, ${report.cost.pricesRegion}) | per checkout | USD per 1M |`,
    '|---|---|---|',
    ...report.cost.lines.map(
      (line) =>
        `| ${line.item}${line.basis === 'estimated' ? ' (estimate)' : ''} | ${round(line.quantityPerCheckout, 3)} ${line.unit} | ${usd(line.usdPerMillionCheckouts)} |`,
    ),
    `| **total** (measured lines only: ${usd(report.cost.measuredUsd)}) | | **${usd(report.cost.totalUsd)}** |`,
    '',
    `Fixed per month, independent of traffic: ${report.cost.fixedMonthlyUsd.map((f) => `${f.item} ${usd(f.usd)}`).join('; ')}.`,
    `Prices: ${report.cost.pricesRecorded}, bench/prices.ts. A buyer's status poll adds ${usd(PRICES.httpApiRequest.usd * 1e6 + PRICES.lambdaRequest.usd * 1e6)} per million polls plus its Lambda time and ${report.perStatusPoll.readRequestUnits} RRU.`,
  ];
  return lines.join('\n');
}

function defined(values: (number | undefined)[]): number[] {
  return values.filter((v): v is number => v !== undefined);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options: BenchOptions = {
    checkouts: numberOption(argv, 'checkouts', 'BENCH_CHECKOUTS', 600),
    concurrency: numberOption(argv, 'concurrency', 'BENCH_CONCURRENCY', 16),
    serialCheckouts: numberOption(argv, 'serial', 'BENCH_SERIAL', 40),
    sizingCheckouts: numberOption(argv, 'sizing', 'BENCH_SIZING', 10),
    warmupCheckouts: 20,
    putItems: 4000,
    log: (line) => console.error(line),
  };
  const outIndex = argv.indexOf('--out');
  const out = resolve(
    outIndex !== -1 && argv[outIndex + 1]
      ? (argv[outIndex + 1] as string)
      : (process.env.BENCH_OUT ?? 'bench/results/latest-bench.json'),
  );
  const report = await runBench(options);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${formatBenchMarkdown(report)}\n\nWritten: ${out}\n`);
  process.stdout.write(`${benchSummaryLine(report)}\n`);
}

/** The last line `npm run bench` prints: the headline figures in one line. */
export function benchSummaryLine(report: BenchReport): string {
  const t = report.throughput;
  return (
    `bench: ${t.succeeded}/${t.checkouts} checkouts succeeded in ${t.wallSeconds.toFixed(1)} s (${t.checkoutsPerSecond.toFixed(1)}/s), ` +
    `pay -> terminal p50 ${report.latencyMs.payToTerminal.p50} ms p99 ${report.latencyMs.payToTerminal.p99} ms ` +
    `(one at a time p50 ${report.latencyMs.serialPayToTerminal.p50} ms), ` +
    `${round(report.cost.totalUsd, 2)} USD per million checkouts`
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  });
}

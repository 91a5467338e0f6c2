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
 * Every headline figure is printed beside issue 14's target (ok/over). The figures, the JSON and the
 * markdown are built in bench/report.ts; this file runs the phases and measures.
 * A checkout is done when its result webhook was delivered (the stack's instrumentation tells the
 * load generator, whichever component delivered it) and GET /v1/checkouts/{id} shows the terminal
 * status and the `webhook_delivered` row (latencies come from those server-side timestamps).
 * Writes bench/results/latest-bench.json and prints a markdown table for the README.
 *
 * Flags / env: --checkouts N (BENCH_CHECKOUTS, default 600), --concurrency C (BENCH_CONCURRENCY,
 * default 16), --serial N (BENCH_SERIAL, default 40), --sizing N (BENCH_SIZING, default 10), --out
 * FILE (BENCH_OUT). A short run: `npm run bench -- --checkouts 100 --serial 10 --sizing 5`.
 * PAYSTEP_BENCH_STACK_NODE_ARGS: extra Node flags for the stack process only, after its defaults
 * (bench/stack-runner.ts STACK_NODE_FLAGS), e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile
 * it (Node refuses --cpu-prof in NODE_OPTIONS).
 * PAYSTEP_DYNAMODB_LOCAL_JVM_FLAGS: DynamoDB Local's JVM flags instead of local/dynamodb-local.ts's
 * defaults (empty: the JVM's own), to compare launch settings by throughput.cpuMsPerCheckout.childProcesses.
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
import { LOCAL_TABLE_NAME } from '../lib/table-schema';
import { WEBHOOK_DISPATCHER } from '../lib/stateless-stack';
import {
  createCheckout,
  numberOption,
  payCheckout,
  readCheckout,
  runPool,
  setCatalogue,
  sleep,
  timelineMoments,
  tokenize,
} from './checkout-driver';
import type { CounterSnapshot } from './instrumentation';
import { benchSummaryLine, formatBenchMarkdown } from './report-markdown';
import { buildBenchReport, type BenchOptions, type BenchReport, type BundleFigures, type CheckoutTiming } from './report';
import { stackNodeArgs, startBenchStack, type BenchStack } from './stack-runner';
import { listDescendants } from '../test/e2e/harness';
import { closeKeepAliveFetch, keepAliveFetch } from './keep-alive-fetch';

export { BENCH_TARGETS, type BenchOptions, type BenchReport } from './report';
export { benchSummaryLine, formatBenchMarkdown, formatTargetsMarkdown } from './report-markdown';

const CARD_OK = '4242424242424242';
const PRODUCT = { sku: 'bench-item', name: 'Benchmark item', unit_amount: 1000, currency: 'USD', stock: 100_000_000 };

/** Runs the whole benchmark against a fresh in-memory stack and returns the report. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log;
  const loadAverageBefore = loadavg();
  log(`bench: starting the local stack (in memory)...`);
  // The dispatcher polls for due retries at the pace it does on AWS (every WEBHOOK_DISPATCHER.pollMs
  // while a scheduled run lasts), not `npm start`'s 250 ms: the result webhooks go out from the saga
  // in-process either way, and a faster poll would charge every checkout reads AWS does not make.
  const stack = await startBenchStack({ env: { PAYSTEP_WEBHOOK_DISPATCH_INTERVAL_MS: String(WEBHOOK_DISPATCHER.pollMs) } });
  try {
    // The load generator's requests over node:http keep-alive (keep-alive-fetch.ts: less of its CPU taken from the stack).
    const api = new PaystepClient(stack.apiUrl, keepAliveFetch);
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
    const cpuBefore = processTreeCpuSeconds(stack.pid);
    const loadGeneratorCpuBefore = process.cpuUsage();
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
    const cpuAfter = processTreeCpuSeconds(stack.pid);
    const loadGeneratorCpu = process.cpuUsage(loadGeneratorCpuBefore);
    const runCpuSeconds =
      cpuBefore === undefined || cpuAfter === undefined
        ? undefined
        : {
            stackProcess: cpuAfter.stackProcess - cpuBefore.stackProcess,
            childProcesses: cpuAfter.childProcesses - cpuBefore.childProcesses,
            loadGenerator: (loadGeneratorCpu.user + loadGeneratorCpu.system) / 1e6,
          };
    const runCounters = await stack.counters();
    const succeeded = timings.filter((t) => t.status === 'succeeded');
    log(`bench: ${succeeded.length}/${timings.length} succeeded in ${wallSeconds.toFixed(1)} s; reading execution histories...`);
    const transitions = await countStateTransitions(stack.sfnUrl, succeeded.map((t) => t.id).slice(0, 400));
    const report = buildBenchReport({
      measuredAt: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        node: process.version,
        stackNodeArgs: stackNodeArgs(),
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
      timings,
      wallSeconds,
      ...(runCpuSeconds !== undefined ? { runCpuSeconds } : {}),
      runCounters,
      serialTimings,
      serialCounters,
      ...(sizing !== undefined ? { sizing } : {}),
      putItemsPerSecond,
      transitions,
      bundles: readBundleReport(),
    });
    return report;
  } finally {
    closeKeepAliveFetch();
    await stack.stop();
  }
}

/** CPU seconds (user + system) of a process, from /proc/<pid>/stat (undefined where unreadable). */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the command; clock ticks of 1/100 s.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** CPU seconds of the stack process and, summed, of its descendants (DynamoDB Local's JVM). */
function processTreeCpuSeconds(pid: number): { stackProcess: number; childProcesses: number } | undefined {
  const own = cpuSecondsOf(pid);
  if (own === undefined) return undefined;
  const children = listDescendants(pid).reduce((sum, child) => sum + (cpuSecondsOf(child) ?? 0), 0);
  return { stackProcess: own, childProcesses: children };
}

/** One checkout, start to webhook delivered; the merchant's timeline gives the server-side moments. */
async function oneCheckout(stack: BenchStack, api: PaystepClient, merchantOrderRef: string): Promise<CheckoutTiming> {
  const token = await tokenize(stack.pspUrl, CARD_OK, keepAliveFetch);
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
  // Told by the stack when the result webhook was delivered (no API polling meanwhile); the
  // timeline then has the terminal status and, once the delivery is recorded, `webhook_delivered`.
  await stack.waitForResultWebhook(checkout.id, 30_000);
  let polls = 0;
  for (;;) {
    if (polls > 0) await sleep(100);
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

/** The headline figures of the last `npm run bundle-report`, when it ran in this checkout. */
function readBundleReport(): BundleFigures {
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

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  });
}

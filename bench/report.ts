/**
 * The benchmark's report: what `npm run bench` measured (bench/bench.ts) turned into the figures
 * issue 14 sets targets for, the JSON other tools read (bench/results/latest-bench.json) and the
 * markdown table for the README. Pure: no I/O, so a unit test can build a report from counters.
 *
 * Nothing here knows a saga state, step or function name. Entries are told apart only by how
 * they were invoked (bench/instrumentation.ts): API routes and other invocations (saga Tasks,
 * streams) are per checkout; scheduled runs (the timers standing in for EventBridge schedules)
 * are a fixed monthly cost on AWS, but their DynamoDB work and webhook deliveries when they found
 * work are per checkout; the load generator's status polls are counted apart.
 */
import type { CounterSnapshot, EntryCounters } from './instrumentation';
import { costPerMillionCheckouts, fixedMonthlyUsd, PRICES_RECORDED, PRICES_REGION, type PerCheckoutUsage } from './prices';
import { summarize, type LatencySummary } from './checkout-driver';
import { BUNDLE_TARGET_BYTES, INIT_TARGET_MS } from '../lib/bundling';
import { latencyBreakdown, type LatencyBreakdown } from './latency-breakdown';

/** API routes the load generator calls only to learn when a checkout is done (a browser's pending page polls the same route). */
export const POLL_ROUTES = new Set(['GET /v1/checkouts/{id}']);

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

/**
 * The JSON keys other tools read (issue 14); every report carries them (null only where the
 * input was not measured: no sizing phase, no bundle report).
 */
export const REQUIRED_REPORT_KEYS = [
  'throughput.checkoutsPerSecond',
  'latencyMs.serialPayToTerminal.p50',
  'latencyMs.serialCreateToWebhookDelivered.p50',
  'perCheckout.dynamoWriteRequests',
  'perCheckout.writeRequestUnitsAws',
  'perCheckout.readRequestUnitsAws',
  'perCheckout.stateTransitions',
  'perCheckout.lambdaInvocations',
  'cost.totalUsd',
  'bundles.maxKiB',
  'bundles.maxInitMs',
] as const;

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

export interface CheckoutTiming {
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

/** The bundle report's headline figures (null when `npm run bundle-report` has not run). */
export interface BundleFigures {
  maxKiB: number | null;
  maxInitMs: number | null;
  measuredAt: string | null;
  node: string | null;
}

/** Everything one bench run measured, before it is turned into figures. */
export interface BenchMeasurements {
  measuredAt: string;
  machine: BenchReport['machine'];
  options: Omit<BenchOptions, 'log'>;
  /** The measured run (at the benchmark's concurrency). */
  timings: CheckoutTiming[];
  wallSeconds: number;
  /** CPU seconds the stack process and its children used during the measured run (/proc). */
  runCpuSeconds?: { stackProcess: number; childProcesses: number; loadGenerator: number };
  runCounters: CounterSnapshot;
  /** One checkout at a time: latency, and the Lambda durations the GB-s cost uses. */
  serialTimings: CheckoutTiming[];
  serialCounters: CounterSnapshot;
  /** The sizing phase (AWS write units), when it ran. */
  sizing?: { counters: CounterSnapshot; succeeded: number };
  putItemsPerSecond: number;
  /** Billed state transitions per execution, from the execution histories. */
  transitions: { perExecution: number; histories: number };
  bundles: BundleFigures;
}

export interface BenchReport {
  kind: 'paystep-bench';
  measuredAt: string;
  machine: {
    cpus: number;
    cpuModel: string;
    node: string;
    /** The stack process's Node flags (bench/stack-runner.ts stackNodeArgs); absent in older reports. */
    stackNodeArgs?: string[];
    loadAverageBefore: number[];
    loadAverageAfter: number[];
  };
  options: Omit<BenchOptions, 'log'>;
  throughput: {
    checkouts: number;
    succeeded: number;
    wallSeconds: number;
    checkoutsPerSecond: number;
    /**
     * CPU ms per checkout in the measured run (from /proc; null where not readable): the stack's
     * Node process (API host, emulator, every handler, sandboxes) and its child processes
     * (DynamoDB Local's JVM), and the load generator (this process: the buyer's side). 1000 /
     * stackProcess is the most one core can give that process.
     */
    cpuMsPerCheckout: { stackProcess: number | null; childProcesses: number | null; loadGenerator: number | null };
  };
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
    /**
     * Where the serial phase's time went, per entry (mean per invocation): wall, DynamoDB at the
     * SDK, outgoing HTTP per destination, the rest, and the gap before each saga step.
     */
    serialBreakdown: LatencyBreakdown;
  };
  /** Status polls the load generator made (one GET every 100 ms per checkout in flight until terminal and delivered). */
  statusPolls: { total: number; perCheckout: number; serialTotal: number; serialPerCheckout: number };
  /**
   * Webhook delivery attempts in the measured run, by whatever sent them (counted where the
   * request leaves the process), and which entries sent them (per successful checkout).
   */
  webhookDeliveries: {
    attempts: number;
    delivered: number;
    distinctWebhookIds: number;
    perCheckout: number;
    bySender: Record<string, number>;
  };
  storageBound: {
    putItemsPerSecond: number;
    putItems: number;
    concurrency: number;
    dynamoWriteCallsPerCheckout: number;
    checkoutsPerSecondBound: number;
    ratioToBound: number;
  };
  perCheckout: PerCheckoutUsage & {
    /** DynamoDB write API calls (Put/Update/Delete/TransactWrite/BatchWrite) by every component, polls and idle timer runs excepted. */
    dynamoWriteRequests: number;
    /** Items those calls wrote (a transaction of 3 items counts 3). */
    dynamoItemsWritten: number;
    /** Write units by AWS's rules (sizing phase; null when it did not run), index writes included. */
    writeRequestUnitsAws: number | null;
    /** Write units DynamoDB Local reported (ReturnConsumedCapacity), background components included. */
    writeRequestUnitsLocal: number;
    /** Read units by AWS's rules, from the items the reads returned (every component, polls and idle timer runs excepted). */
    readRequestUnitsAws: number;
    /** Read units DynamoDB Local reported, same calls. */
    readRequestUnitsLocal: number;
    /** The part of writeRequestUnitsAws spent on index entries (sizing phase). */
    indexWriteRequestUnitsAws: number | null;
    /** indexWriteRequestUnitsAws per index (gsi1 projects ALL, gsi2 KEYS_ONLY). */
    indexWriteRequestUnitsAwsByIndex: Record<string, number>;
    /** DynamoDB Local's write units for the sizing phase's checkouts (the same writes as writeRequestUnitsAws). */
    writeRequestUnitsLocalSizing: number | null;
    /** The sizing phase's write units per command (which calls the units go to). */
    writeRequestUnitsAwsByCommand: Record<string, number>;
    /** The sizing phase's writes per `<entry> <command>`: requests, items, units by AWS rules and Local's. */
    writesByEntry: Record<string, { requests: number; items: number; unitsAws: number; unitsLocal: number }>;
    /**
     * The measured run's reads per `<entry> <command>` (GetItem, BatchGetItem, Query, Scan,
     * TransactGetItems), polls and idle timer runs excepted: requests, items asked for (keys of a
     * batch or transaction, 1 per Query/Scan page), read units by AWS rules and Local's.
     */
    readsByEntry: Record<string, EntryCallRow>;
    dynamoCallsByCommand: Record<string, number>;
    lambdaInvocationsByEntry: Record<string, number>;
    /** Mean billed ms per invocation, from the serial phase. */
    lambdaMsPerInvocationSerial: Record<string, number>;
    /** Webhook delivery attempts (every sender). */
    webhookDeliveries: number;
    executionHistoriesRead: number;
  };
  perStatusPoll: { lambdaInvocations: number; readRequestUnits: number };
  /** From the last `npm run bundle-report` (null when it has not run on this checkout). */
  bundles: BundleFigures;
  targets: typeof BENCH_TARGETS;
  cost: ReturnType<typeof costPerMillionCheckouts> & {
    pricesRegion: string;
    pricesRecorded: string;
    fixedMonthlyUsd: { item: string; usd: number }[];
  };
}

const WRITE_COMMAND = /Put|Update|Delete|Write/;
const READ_COMMAND = /Get|Query|Scan/;

/** One `<entry> <command>` row of writesByEntry / readsByEntry, per successful checkout. */
export interface EntryCallRow {
  requests: number;
  items: number;
  unitsAws: number;
  unitsLocal: number;
}

/** The load generator's status polls (not per-checkout work). */
function isPoll(counters: EntryCounters): boolean {
  return counters.kind === 'api' && counters.routeKey !== undefined && POLL_ROUTES.has(counters.routeKey);
}

/** Entries whose DynamoDB work and deliveries belong to the checkouts: all but polls and idle timer runs. */
function isCheckoutWork(counters: EntryCounters): boolean {
  return !isPoll(counters) && counters.idle !== true;
}

/** Entries whose invocations are per checkout on AWS (API requests and other invocations; not schedules). */
function isPerCheckoutInvocation(counters: EntryCounters): boolean {
  return (counters.kind === 'api' || counters.kind === 'invoked') && !isPoll(counters);
}

/** Turns one run's measurements into the report (figures per successful checkout). */
export function buildBenchReport(m: BenchMeasurements): BenchReport {
  const { timings, serialTimings, wallSeconds, sizing } = m;
  const succeeded = timings.filter((t) => t.status === 'succeeded').length;
  const usage = perCheckoutUsage(m.runCounters, m.serialCounters, succeeded, m.transitions);
  const writeCalls = usage.dynamoWriteCalls;
  const writes = writeFigures(m.runCounters, succeeded);
  const sized = sizing === undefined ? undefined : writeFigures(sizing.counters, sizing.succeeded);
  const writeRequestUnitsAws = sized === undefined ? null : round(sized.writeUnitsAws, 2);
  // What AWS bills: the write units by its rules when the sizing phase measured them.
  const billedUsage = { ...usage.usage, writeRequestUnits: writeRequestUnitsAws ?? writes.writeUnitsLocal };
  const polls = timings.reduce((sum, t) => sum + t.polls, 0);
  const serialPolls = serialTimings.reduce((sum, t) => sum + t.polls, 0);
  const per = (value: number): number => (succeeded === 0 ? 0 : value / succeeded);
  const bySender: Record<string, number> = {};
  for (const [key, counters] of Object.entries(m.runCounters.entries)) {
    if (counters.webhookDeliveries > 0) bySender[key] = round(per(counters.webhookDeliveries), 2);
  }
  const checkoutsPerSecond = wallSeconds > 0 ? timings.length / wallSeconds : 0;
  const bound = writeCalls > 0 ? m.putItemsPerSecond / writeCalls : 0;
  return {
    kind: 'paystep-bench',
    measuredAt: m.measuredAt,
    machine: m.machine,
    options: m.options,
    throughput: {
      checkouts: timings.length,
      succeeded,
      wallSeconds: round(wallSeconds, 2),
      checkoutsPerSecond: round(checkoutsPerSecond, 2),
      cpuMsPerCheckout: {
        stackProcess: cpuMsPerCheckout(m, 'stackProcess'),
        childProcesses: cpuMsPerCheckout(m, 'childProcesses'),
        loadGenerator: cpuMsPerCheckout(m, 'loadGenerator'),
      },
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
      serialBreakdown: latencyBreakdown(m.serialCounters.spans ?? []),
    },
    statusPolls: {
      total: polls,
      perCheckout: round(timings.length === 0 ? 0 : polls / timings.length, 2),
      serialTotal: serialPolls,
      serialPerCheckout: round(serialTimings.length === 0 ? 0 : serialPolls / serialTimings.length, 2),
    },
    webhookDeliveries: {
      attempts: m.runCounters.webhooks.attempts,
      delivered: m.runCounters.webhooks.delivered,
      distinctWebhookIds: m.runCounters.webhooks.distinctWebhookIds,
      perCheckout: round(per(m.runCounters.webhooks.attempts), 2),
      bySender,
    },
    storageBound: {
      putItemsPerSecond: round(m.putItemsPerSecond, 1),
      putItems: m.options.putItems,
      concurrency: m.options.concurrency,
      dynamoWriteCallsPerCheckout: round(writeCalls, 2),
      checkoutsPerSecondBound: round(bound, 2),
      ratioToBound: round(bound > 0 ? checkoutsPerSecond / bound : 0, 3),
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
      indexWriteRequestUnitsAwsByIndex: sized?.indexWriteUnitsAwsByIndex ?? {},
      writeRequestUnitsLocalSizing: sized === undefined ? null : round(sized.writeUnitsLocal, 2),
      writeRequestUnitsAwsByCommand: sized?.writeUnitsAwsByCommand ?? {},
      writesByEntry: sized?.byEntry ?? {},
      readsByEntry: readsByEntry(m.runCounters, succeeded),
      dynamoCallsByCommand: usage.callsByCommand,
      lambdaInvocationsByEntry: usage.invocationsByEntry,
      lambdaMsPerInvocationSerial: usage.msPerInvocation,
      webhookDeliveries: round(per(m.runCounters.webhooks.attempts), 2),
      executionHistoriesRead: m.transitions.histories,
    },
    perStatusPoll: usage.perPoll,
    bundles: m.bundles,
    targets: BENCH_TARGETS,
    cost: {
      ...costPerMillionCheckouts(billedUsage),
      pricesRegion: PRICES_REGION,
      pricesRecorded: PRICES_RECORDED,
      fixedMonthlyUsd: fixedMonthlyUsd(),
    },
  };
}

/** CPU ms per checkout of the measured run for one process group (null when /proc was not read). */
function cpuMsPerCheckout(m: BenchMeasurements, of: keyof NonNullable<BenchMeasurements['runCpuSeconds']>): number | null {
  if (m.runCpuSeconds === undefined || m.timings.length === 0) return null;
  return round((m.runCpuSeconds[of] * 1000) / m.timings.length, 1);
}

/** Per successful checkout: invocations, API requests, billed ms, transitions, read units (AWS rules and Local's). */
function perCheckoutUsage(
  run: CounterSnapshot,
  serial: CounterSnapshot,
  succeeded: number,
  transitions: { perExecution: number },
) {
  const per = (value: number): number => (succeeded === 0 ? 0 : value / succeeded);
  const msPerInvocation: Record<string, number> = {};
  for (const [key, counters] of Object.entries(serial.entries)) {
    if (counters.invocations > 0 && isPerCheckoutInvocation(counters))
      msPerInvocation[key] = round(counters.billedMs / counters.invocations, 1);
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
  for (const [key, counters] of Object.entries(run.entries)) {
    if (isPerCheckoutInvocation(counters)) {
      invocations += counters.invocations;
      if (counters.kind === 'api') apiRequests += counters.invocations;
      billedMs += counters.invocations * (msPerInvocation[key] ?? counters.billedMs / Math.max(1, counters.invocations));
      invocationsByEntry[key] = round(per(counters.invocations), 2);
    }
    if (!isCheckoutWork(counters)) continue;
    for (const [command, calls] of Object.entries(counters.dynamodb)) {
      writeUnits += calls.writeUnits;
      readUnits += calls.readUnits;
      readUnitsAws += calls.readUnitsAws;
      callsByCommand[command] = (callsByCommand[command] ?? 0) + calls.calls;
      if (WRITE_COMMAND.test(command)) writeCalls += calls.items;
    }
  }
  for (const command of Object.keys(callsByCommand)) callsByCommand[command] = round(per(callsByCommand[command] as number), 2);
  const polls = Object.values(run.entries).filter(isPoll);
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

/**
 * Per successful checkout, DynamoDB writes made by every component (a timer's run that found work
 * included: on AWS that work is per checkout too), but not the load generator's polls.
 */
function writeFigures(counters: CounterSnapshot, succeeded: number) {
  const per = (value: number): number => (succeeded === 0 ? 0 : value / succeeded);
  let writeRequests = 0;
  let itemsWritten = 0;
  let writeUnitsLocal = 0;
  let writeUnitsAws = 0;
  let indexWriteUnitsAws = 0;
  const byIndex: Record<string, number> = {};
  const byCommand: Record<string, number> = {};
  const byEntry: Record<string, { requests: number; items: number; unitsAws: number; unitsLocal: number }> = {};
  for (const [key, entry] of Object.entries(counters.entries)) {
    if (!isCheckoutWork(entry)) continue;
    for (const [command, calls] of Object.entries(entry.dynamodb)) {
      if (!WRITE_COMMAND.test(command)) continue;
      writeRequests += calls.calls;
      itemsWritten += calls.items;
      writeUnitsLocal += calls.writeUnits;
      writeUnitsAws += calls.writeUnitsAws;
      indexWriteUnitsAws += calls.indexWriteUnitsAws;
      for (const [index, units] of Object.entries(calls.indexWriteUnitsAwsByIndex ?? {})) {
        byIndex[index] = (byIndex[index] ?? 0) + units;
      }
      byCommand[command] = (byCommand[command] ?? 0) + calls.writeUnitsAws;
      const row = (byEntry[`${key} ${command.replace('Command', '')}`] ??= { requests: 0, items: 0, unitsAws: 0, unitsLocal: 0 });
      row.requests += calls.calls;
      row.items += calls.items;
      row.unitsAws += calls.writeUnitsAws;
      row.unitsLocal += calls.writeUnits;
    }
  }
  for (const command of Object.keys(byCommand)) byCommand[command] = round(per(byCommand[command] as number), 2);
  for (const index of Object.keys(byIndex)) byIndex[index] = round(per(byIndex[index] as number), 2);
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
    indexWriteUnitsAwsByIndex: byIndex,
    writeUnitsAwsByCommand: byCommand,
    byEntry,
  };
}

/** Per successful checkout, the reads each entry made (every component; not polls, not idle timer runs). */
function readsByEntry(counters: CounterSnapshot, succeeded: number): Record<string, EntryCallRow> {
  const per = (value: number): number => (succeeded === 0 ? 0 : value / succeeded);
  const rows: Record<string, EntryCallRow> = {};
  for (const [key, entry] of Object.entries(counters.entries)) {
    if (!isCheckoutWork(entry)) continue;
    for (const [command, calls] of Object.entries(entry.dynamodb)) {
      if (!READ_COMMAND.test(command) || calls.calls === 0) continue;
      rows[`${key} ${command.replace('Command', '')}`] = {
        requests: round(per(calls.calls), 2),
        items: round(per(calls.items), 2),
        unitsAws: round(per(calls.readUnitsAws), 2),
        unitsLocal: round(per(calls.readUnits), 2),
      };
    }
  }
  return rows;
}

export function defined(values: (number | undefined)[]): number[] {
  return values.filter((v): v is number => v !== undefined);
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

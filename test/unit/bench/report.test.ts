/**
 * The bench's report (bench/report.ts), built from counters as the instrumentation hands them
 * over: every JSON key other tools read is there with its meaning (per successful checkout, by
 * every component, polls and idle timer runs apart), and nothing depends on a step's name.
 */
import { describe, expect, it } from 'vitest';
import type { CounterSnapshot, DynamoCallCounts, EntryCounters } from '../../../bench/instrumentation';
import { costPerMillionCheckouts } from '../../../bench/prices';
import { buildBenchReport, REQUIRED_REPORT_KEYS, type BenchMeasurements, type CheckoutTiming } from '../../../bench/report';
import { formatBenchMarkdown } from '../../../bench/report-markdown';

function calls(partial: Partial<DynamoCallCounts>): DynamoCallCounts {
  return {
    calls: 0,
    failed: 0,
    writeUnits: 0,
    readUnits: 0,
    items: 0,
    readUnitsAws: 0,
    writeUnitsAws: 0,
    indexWriteUnitsAws: 0,
    indexWriteUnitsAwsByIndex: {},
    sizedCalls: 0,
    ...partial,
  };
}

function entry(partial: Partial<EntryCounters> & Pick<EntryCounters, 'kind'>): EntryCounters {
  return { invocations: 0, durationMs: 0, billedMs: 0, errors: 0, dynamodb: {}, webhookDeliveries: 0, ...partial };
}

function snapshot(entries: Record<string, EntryCounters>, webhooks = { attempts: 0, delivered: 0, distinctWebhookIds: 0 }) {
  return { takenAt: '2026-12-01T00:00:00.000Z', sinceMs: 1000, entries, webhooks } satisfies CounterSnapshot;
}

function timing(id: string, payToTerminalMs: number, toWebhookMs: number): CheckoutTiming {
  return { id, status: 'succeeded', createMs: 10, payMs: 12, toTerminalMs: 30, payToTerminalMs, toWebhookMs, polls: 2 };
}

/** Two successful checkouts; names are arbitrary (the report must not know any). */
function measurements(): BenchMeasurements {
  const run = snapshot(
    {
      'any-api POST /v1/things': entry({
        kind: 'api',
        routeKey: 'POST /v1/things',
        invocations: 2,
        billedMs: 20,
        dynamodb: { PutItemCommand: calls({ calls: 2, items: 2, writeUnits: 2, readUnitsAws: 0 }) },
      }),
      'any-step': entry({
        kind: 'invoked',
        invocations: 6,
        billedMs: 60,
        webhookDeliveries: 1,
        dynamodb: {
          TransactWriteItemsCommand: calls({ calls: 4, items: 8, writeUnits: 16 }),
          GetItemCommand: calls({ calls: 4, readUnits: 4, readUnitsAws: 2 }),
        },
      }),
      // A timer run that found work: its writes and deliveries count, its invocation does not.
      'any-timer': entry({
        kind: 'scheduled',
        invocations: 1,
        billedMs: 5,
        webhookDeliveries: 1,
        dynamodb: {
          UpdateItemCommand: calls({ calls: 2, items: 2, writeUnits: 2 }),
          QueryCommand: calls({ calls: 1, readUnitsAws: 1 }),
        },
      }),
      // Idle timer runs and the load generator's polls count for nothing per checkout.
      'any-timer (idle)': entry({
        kind: 'scheduled',
        idle: true,
        invocations: 40,
        dynamodb: { QueryCommand: calls({ calls: 40, readUnitsAws: 20 }) },
      }),
      'any-api GET /v1/checkouts/{id}': entry({
        kind: 'api',
        routeKey: 'GET /v1/checkouts/{id}',
        invocations: 4,
        dynamodb: { GetItemCommand: calls({ calls: 4, readUnits: 8, readUnitsAws: 8 }) },
      }),
    },
    { attempts: 2, delivered: 2, distinctWebhookIds: 2 },
  );
  const sized = snapshot({
    'any-step': entry({
      kind: 'invoked',
      dynamodb: {
        TransactWriteItemsCommand: calls({
          calls: 2,
          items: 4,
          writeUnits: 8,
          writeUnitsAws: 14,
          indexWriteUnitsAws: 4,
          indexWriteUnitsAwsByIndex: { gsi1: 3, gsi2: 1 },
        }),
      },
    }),
  });
  return {
    measuredAt: '2026-12-01T00:00:00.000Z',
    machine: { cpus: 2, cpuModel: 'test', node: 'v20', loadAverageBefore: [0, 0, 0], loadAverageAfter: [0, 0, 0] },
    options: { checkouts: 2, concurrency: 2, serialCheckouts: 2, sizingCheckouts: 1, warmupCheckouts: 0, putItems: 100 },
    timings: [timing('a', 100, 200), timing('b', 300, 400)],
    wallSeconds: 0.5,
    runCounters: run,
    serialTimings: [timing('c', 40, 120), timing('d', 50, 130), timing('e', 60, 140)],
    serialCounters: run,
    sizing: { counters: sized, succeeded: 1 },
    putItemsPerSecond: 500,
    transitions: { perExecution: 3, histories: 2 },
    bundles: { maxKiB: 120.5, maxInitMs: 40, measuredAt: '2026-12-01T00:00:00.000Z', node: 'v20' },
  };
}

function valueAt(object: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], object);
}

describe('bench report', () => {
  it('carries every JSON key other tools read, each a number once measured', () => {
    // Act
    const report = buildBenchReport(measurements());
    const json = JSON.parse(JSON.stringify(report)) as unknown;
    // Assess
    for (const key of REQUIRED_REPORT_KEYS) expect([key, typeof valueAt(json, key)]).toEqual([key, 'number']);
    expect(REQUIRED_REPORT_KEYS).toHaveLength(11);
  });

  it('gives each key its meaning: per successful checkout, every component, polls and idle timer runs apart', () => {
    // Act
    const report = buildBenchReport(measurements());
    // Assess: 2 checkouts in 0.5 s.
    expect(report.throughput.checkoutsPerSecond).toBe(4);
    // Serial phase only: p50 of 40/50/60 and of 120/130/140.
    expect(report.latencyMs.serialPayToTerminal.p50).toBe(50);
    expect(report.latencyMs.serialCreateToWebhookDelivered.p50).toBe(130);
    // Write calls of the API, the step and the working timer run: (2 + 4 + 2) / 2.
    expect(report.perCheckout.dynamoWriteRequests).toBe(4);
    // The sizing phase's units (1 checkout), index entries per index.
    expect(report.perCheckout.writeRequestUnitsAws).toBe(14);
    expect(report.perCheckout.indexWriteRequestUnitsAwsByIndex).toEqual({ gsi1: 3, gsi2: 1 });
    // Reads by AWS rules: the step's 2 + the working timer's 1, not the idle runs' nor the polls': / 2.
    expect(report.perCheckout.readRequestUnitsAws).toBe(1.5);
    expect(report.perCheckout.stateTransitions).toBe(3);
    // API requests and other invocations are per checkout, scheduled runs are not: (2 + 6) / 2; polls apart.
    expect(report.perCheckout.lambdaInvocations).toBe(4);
    expect(report.perCheckout.apiRequests).toBe(1);
    // Deliveries counted whoever sent them.
    expect(report.webhookDeliveries).toMatchObject({
      attempts: 2,
      perCheckout: 1,
      bySender: { 'any-step': 0.5, 'any-timer': 0.5 },
    });
    expect(report.statusPolls).toEqual({ total: 4, perCheckout: 2, serialTotal: 6, serialPerCheckout: 2 });
    expect(report.cost.totalUsd).toBe(costPerMillionCheckouts({ ...report.perCheckout, writeRequestUnits: 14 }).totalUsd);
    expect(report.bundles).toMatchObject({ maxKiB: 120.5, maxInitMs: 40 });
  });

  it('breaks reads down per entry and command like the writes, polls and idle timer runs apart', () => {
    // Act
    const report = buildBenchReport(measurements());
    const markdown = formatBenchMarkdown(report);
    // Assess: per successful checkout (2), from the measured run.
    expect(report.perCheckout.readsByEntry).toEqual({
      'any-step GetItem': { requests: 2, items: 0, unitsAws: 1, unitsLocal: 2 },
      'any-timer Query': { requests: 0.5, items: 0, unitsAws: 0.5, unitsLocal: 0 },
    });
    expect(report.perCheckout.writesByEntry).toEqual({
      'any-step TransactWriteItems': { requests: 2, items: 4, unitsAws: 14, unitsLocal: 8 },
    });
    expect(markdown).toContain('| any-step GetItem | 2 | 0 | 1 | 2 |');
    expect(markdown).toContain('| any-step TransactWriteItems | 2 | 4 | 14 | 8 |');
    expect(markdown).not.toContain('GET /v1/checkouts/{id} GetItem');
  });

  it('gives the CPU ms per checkout of the stack process, its children and the load generator, null when not read', () => {
    // Prepare
    const withCpu = { ...measurements(), runCpuSeconds: { stackProcess: 0.16, childProcesses: 0.1, loadGenerator: 0.04 } };
    // Act
    const report = buildBenchReport(withCpu);
    const { runCpuSeconds: _unused, ...without } = withCpu;
    // Assess: 2 checkouts.
    expect(report.throughput.cpuMsPerCheckout).toEqual({ stackProcess: 80, childProcesses: 50, loadGenerator: 20 });
    expect(formatBenchMarkdown(report)).toContain('| 80 / 50 / 20 |');
    expect(buildBenchReport(without).throughput.cpuMsPerCheckout).toEqual({
      stackProcess: null,
      childProcesses: null,
      loadGenerator: null,
    });
  });

  it('leaves the AWS write units null without a sizing phase and prints n/a for them', () => {
    // Prepare
    const { sizing: _unused, ...withoutSizing } = measurements();
    // Act
    const report = buildBenchReport(withoutSizing);
    // Assess
    expect(report.perCheckout.writeRequestUnitsAws).toBeNull();
    expect(formatBenchMarkdown(report)).toContain('| DynamoDB write units per checkout, AWS rules');
    expect(formatBenchMarkdown(report)).toMatch(/AWS rules \(DynamoDB Local reports [\d.]+ for the same writes\) \| n\/a \|/);
  });
});

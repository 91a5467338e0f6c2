/**
 * The serial phase's spans (bench/latency-trace.ts) turned into where one checkout's time goes:
 * per entry, the mean wall time of an invocation, of its DynamoDB calls at the SDK, of its
 * outgoing HTTP requests per destination, and the rest (handler code, host and SDK CPU, waiting
 * for the event loop); and before each saga step (an `invoked` entry), the gap since the
 * previous API or saga invocation ended (timer runs aside): the Step Functions emulator's transition and dispatch (for the first
 * step, from StartExecution inside the pay request). Pure: no I/O.
 */
import type { InvocationSpan } from './latency-trace';

export interface EntryLatency {
  invocations: number;
  /** Mean wall ms of an invocation. */
  wallMs: number;
  /** Mean ms of its DynamoDB calls at the SDK, summed per invocation (calls in parallel overlap). */
  dynamoMs: number;
  dynamoCalls: number;
  /** Mean ms of outgoing HTTP requests per destination service (DynamoDB Local's are inside dynamoMs). */
  outboundMs: Record<string, number>;
  /** wallMs minus dynamoMs and the non-DynamoDB outbound ms (handler code, CPU, event-loop waits). */
  otherMs: number;
  /** Mean ms from the previous invocation's end to this one's start (`invoked` entries only). */
  gapBeforeMs?: number;
}

export interface LatencyBreakdown {
  /** Spans the figures come from. */
  spans: number;
  byEntry: Record<string, EntryLatency>;
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

/** Per entry means over the spans; `dynamoService` names the DynamoDB destination in `outbound`. */
export function latencyBreakdown(spans: readonly InvocationSpan[], dynamoService = 'DynamoDB Local'): LatencyBreakdown {
  const sorted = [...spans].sort((a, b) => a.startMs - b.startMs);
  interface Sums {
    n: number;
    wall: number;
    dynamo: number;
    calls: number;
    outbound: Map<string, number>;
    gaps: number[];
  }
  const sums = new Map<string, Sums>();
  let previousEnd: number | undefined;
  for (const span of sorted) {
    const row: Sums = sums.get(span.entry) ?? {
      n: 0,
      wall: 0,
      dynamo: 0,
      calls: 0,
      outbound: new Map<string, number>(),
      gaps: [],
    };
    sums.set(span.entry, row);
    row.n += 1;
    row.wall += span.endMs - span.startMs;
    row.dynamo += span.dynamoMs;
    row.calls += span.dynamoCalls;
    for (const [service, out] of Object.entries(span.outbound))
      row.outbound.set(service, (row.outbound.get(service) ?? 0) + out.ms);
    if (span.kind === 'invoked' && previousEnd !== undefined) row.gaps.push(span.startMs - previousEnd);
    // Timer runs (the dispatcher, the sweep) interleave with any checkout: they do not close a step.
    if (span.kind !== 'scheduled') previousEnd = Math.max(previousEnd ?? span.endMs, span.endMs);
  }
  const byEntry: Record<string, EntryLatency> = {};
  for (const [entry, row] of sums) {
    const outboundMs = Object.fromEntries([...row.outbound].map(([service, ms]) => [service, round1(ms / row.n)]));
    const nonDynamoOutbound = [...row.outbound].filter(([service]) => service !== dynamoService).reduce((s, [, ms]) => s + ms, 0);
    byEntry[entry] = {
      invocations: row.n,
      wallMs: round1(row.wall / row.n),
      dynamoMs: round1(row.dynamo / row.n),
      dynamoCalls: round1(row.calls / row.n),
      outboundMs,
      otherMs: round1((row.wall - row.dynamo - nonDynamoOutbound) / row.n),
      ...(row.gaps.length > 0 ? { gapBeforeMs: round1(row.gaps.reduce((s, g) => s + g, 0) / row.gaps.length) } : {}),
    };
  }
  return { spans: spans.length, byEntry };
}

/**
 * Where a serial checkout's time goes (bench/latency-trace.ts + bench/latency-breakdown.ts): each
 * invocation's span carries its DynamoDB time at the SDK and its outgoing HTTP time per named
 * service; the breakdown gives per-entry means and the gap before each saga step, timer runs
 * aside.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latencyBreakdown } from '../../../bench/latency-breakdown';
import {
  installOutboundHttpTracing,
  nameServices,
  takeSpans,
  traceDynamoDbCalls,
  traceInvocation,
  type InvocationSpan,
} from '../../../bench/latency-trace';

function span(entry: string, kind: string, startMs: number, endMs: number, extra: Partial<InvocationSpan> = {}): InvocationSpan {
  return { entry, kind, startMs, endMs, dynamoMs: 0, dynamoCalls: 0, outbound: {}, ...extra };
}

describe('serial latency breakdown', () => {
  it('gives per-entry means and the gap before each saga step, timer runs not closing a step', () => {
    // Prepare: pay 0-40 (20 ms in DynamoDB, 5 ms to the emulator), a timer run in between, two steps.
    const spans = [
      span('api-pay POST /pay', 'api', 0, 40, {
        dynamoMs: 20,
        dynamoCalls: 4,
        outbound: { 'DynamoDB Local': { requests: 4, ms: 15 }, 'Step Functions emulator': { requests: 1, ms: 5 } },
      }),
      span('dispatcher', 'scheduled', 41, 60),
      span('step-a', 'invoked', 43, 70, { dynamoMs: 10, dynamoCalls: 2, outbound: { 'sandbox PSP': { requests: 1, ms: 8 } } }),
      span('step-b', 'invoked', 72, 80),
    ];
    // Act
    const breakdown = latencyBreakdown(spans);
    // Assess
    expect(breakdown.spans).toBe(4);
    expect(breakdown.byEntry['api-pay POST /pay']).toEqual({
      invocations: 1,
      wallMs: 40,
      dynamoMs: 20,
      dynamoCalls: 4,
      outboundMs: { 'DynamoDB Local': 15, 'Step Functions emulator': 5 },
      otherMs: 15,
    });
    expect(breakdown.byEntry['step-a']).toMatchObject({ gapBeforeMs: 3, wallMs: 27, otherMs: 9 });
    expect(breakdown.byEntry['step-b']).toMatchObject({ gapBeforeMs: 2 });
    expect(breakdown.byEntry['dispatcher']).not.toHaveProperty('gapBeforeMs');
  });
});

describe('latency trace', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((_request, response) => setTimeout(() => response.end('ok'), 20));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("attributes an invocation's DynamoDB calls and outgoing requests to its span", async () => {
    // Prepare
    let middleware: ((next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>) | undefined;
    traceDynamoDbCalls({ middlewareStack: { add: (added) => void (middleware = added) } });
    installOutboundHttpTracing();
    nameServices({ 'demo merchant': url });
    takeSpans(true);
    const slowCall = middleware!(async () => await new Promise((resolve) => setTimeout(() => resolve({ output: {} }), 15)));
    // Act
    await traceInvocation('step-x', 'invoked', async () => {
      await slowCall({});
      await new Promise<void>((resolve) => httpRequest(url, (response) => response.resume().on('end', resolve)).end());
    });
    await slowCall({}); // outside any invocation: counted nowhere
    const spans = takeSpans(true);
    // Assess
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ entry: 'step-x', kind: 'invoked', dynamoCalls: 1 });
    expect(spans[0]!.dynamoMs).toBeGreaterThanOrEqual(14);
    expect(spans[0]!.outbound['demo merchant']?.requests).toBe(1);
    expect(spans[0]!.outbound['demo merchant']?.ms).toBeGreaterThanOrEqual(19);
    expect(spans[0]!.endMs - spans[0]!.startMs).toBeGreaterThanOrEqual(spans[0]!.dynamoMs);
    expect(takeSpans(false)).toEqual([]);
  });
});

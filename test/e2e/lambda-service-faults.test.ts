/**
 * What the local runtime could not show before the first deploy: the Lambda service's own
 * behaviour around a saga step, injected into the local Step Functions emulator
 * (PAYSTEP_SFN_INVOCATION_FAULTS, local/stepfunctions-emulator.ts) while everything else is real
 * (`npm start` as a child process, the real ASL and handlers, the demo merchant over HTTP).
 *
 * - A throttled invoke of CapturePayment (Lambda.TooManyRequestsException, raised before the
 *   function runs) is retried, and the merchant is asked exactly once (its confirm phase runs first).
 * - A cold start comes out of the merchant's 10 s, counted from $$.State.EnteredTime: a merchant
 *   that answers in time after a cold start is confirmed; one that would answer past the Task's
 *   10 s is cut off by the function itself before that (inventory_timeout), and its late 200
 *   writes nothing onto the checkout being voided.
 *
 * The faults apply to CapturePayment's invocations in order, so the tests run in this order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { tokenizeTestCard } from '../../local/sandbox-psp/client';
import { PaystepClient } from '../../local/paystep-client';
import { LOCAL_AWS } from '../../local/dynamodb-local';
import type { CatalogueProduct } from '../../bench/checkout-driver';
import { executionNameFor } from '../../lambdas/use-cases/pay-checkout';
import { startStackProcess, type StackProcess } from './harness';

const CARD_OK = '4242424242424242';
const COLD_START_MS = 3_000;

const CATALOGUE: CatalogueProduct[] = [
  { sku: 'mug', name: 'Mug', unit_amount: 1250, currency: 'USD', stock: 100 },
  {
    sku: 'five-seconds',
    name: 'Five-second backend',
    unit_amount: 2000,
    currency: 'USD',
    stock: 10,
    behavior: { delayMs: 5_000 },
  },
  // 3 s cold start + 7.5 s answer: past the Task's 10 s, which used to leave a late "inventory confirmed" behind.
  {
    sku: 'seven-and-a-half-seconds',
    name: 'Slow backend',
    unit_amount: 999,
    currency: 'USD',
    stock: 10,
    behavior: { delayMs: 7_500 },
  },
];

const FAULTS = {
  CapturePayment: [
    { preInvocationError: 'Lambda.TooManyRequestsException' }, // test 1, first attempt
    {}, // test 1, the retry
    { startDelayMs: COLD_START_MS }, // test 2
    { startDelayMs: COLD_START_MS }, // test 3
  ],
};

let stack: StackProcess;
let api: PaystepClient;
let sfn: SFNClient;

async function purchase(sku: string) {
  const response = await fetch(`${stack.merchantUrl}/buy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sku, quantity: 1 }),
  });
  expect(response.status).toBe(200);
  const bought = (await response.json()) as { checkout_id: string; client_secret: string };
  const token = await tokenizeTestCard(stack.pspUrl, CARD_OK);
  const paid = await api.pay(bought.checkout_id, bought.client_secret, token);
  expect(paid.status).toBe(202);
  const terminal = await api.waitForTerminal(bought.checkout_id, bought.client_secret, 60_000);
  return { checkoutId: bought.checkout_id, terminal };
}

async function timeline(checkoutId: string): Promise<{ type: string; at: string; data?: Record<string, unknown> }[]> {
  const answer = await api.call<{ events: { type: string; at: string; data?: Record<string, unknown> }[] }>(
    'GET',
    `/v1/checkouts/${checkoutId}`,
    {
      token: stack.secretKey,
    },
  );
  expect(answer.status).toBe(200);
  return answer.body.events;
}

/** The CapturePayment part of the checkout's execution history (its confirm phase comes first). */
async function capturePaymentHistory(checkoutId: string): Promise<HistoryEvent[]> {
  const executions = await stack.listExecutions();
  const execution = executions.find((e) => e.name === executionNameFor(checkoutId));
  expect(execution).toBeDefined();
  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: execution!.executionArn, maxResults: 1000 }));
  const events = history.events ?? [];
  const start = events.findIndex((e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === 'CapturePayment');
  const end = events.findIndex(
    (e, i) => i > start && e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'CapturePayment',
  );
  const next = events.findIndex((e, i) => i > start && (e.type ?? '').endsWith('StateEntered'));
  return events.slice(start, end >= 0 ? end + 1 : next >= 0 ? next : undefined);
}

beforeAll(async () => {
  stack = await startStackProcess({ PAYSTEP_SFN_INVOCATION_FAULTS: JSON.stringify(FAULTS) });
  api = new PaystepClient(stack.apiUrl);
  sfn = new SFNClient({ ...LOCAL_AWS, endpoint: stack.sfnUrl });
  const response = await fetch(`${stack.merchantUrl}/admin/products`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(CATALOGUE),
  });
  expect(response.status).toBe(200);
});

afterAll(async () => {
  sfn?.destroy();
  await stack?.stop();
});

describe("Lambda-service faults around CapturePayment's inventory confirmation", () => {
  it('a throttled invoke is retried before the function runs, and the merchant is asked exactly once', async () => {
    // Act
    const { checkoutId, terminal } = await purchase('mug');
    // Assess
    expect(terminal.status).toBe('succeeded');
    const history = await capturePaymentHistory(checkoutId);
    expect(
      history.filter((e) => e.type === 'LambdaFunctionFailed').map((e) => e.lambdaFunctionFailedEventDetails?.error),
    ).toEqual(['Lambda.TooManyRequestsException']);
    expect(history.filter((e) => e.type === 'LambdaFunctionScheduled')).toHaveLength(2);
    const events = await timeline(checkoutId);
    expect(events.filter((e) => e.type === 'inventory_confirmed')).toHaveLength(1);
  }, 60_000);

  it('after a 3 s cold start, a merchant answering in 5 s is still confirmed', async () => {
    // Act
    const { checkoutId, terminal } = await purchase('five-seconds');
    // Assess
    expect(terminal.status).toBe('succeeded');
    const history = await capturePaymentHistory(checkoutId);
    const entered = history[0]!.timestamp!.getTime();
    const events = await timeline(checkoutId);
    const confirmed = events.find((e) => e.type === 'inventory_confirmed')!;
    // The injected cold start ran before the handler, inside the Task's clock (sent_at: the merchant call).
    expect(Date.parse(String(confirmed.data?.sent_at)) - entered).toBeGreaterThanOrEqual(COLD_START_MS - 50);
  }, 60_000);

  it('after a 3 s cold start, a merchant still silent at the 10 s mark is cut off by the function, and its late 200 writes nothing', async () => {
    // Act
    const { checkoutId, terminal } = await purchase('seven-and-a-half-seconds');
    // Assess
    expect(terminal).toMatchObject({ status: 'failed', failure_reason: 'inventory_timeout' });
    const history = await capturePaymentHistory(checkoutId);
    const entered = history[0]!.timestamp!.getTime();
    // The function gave up within the 10 s (a Lambda failure, not the Task's States.Timeout).
    const failed = history.find((e) => e.type === 'LambdaFunctionFailed');
    expect(failed?.lambdaFunctionFailedEventDetails?.error).toBe('InventoryTimeoutError');
    expect(history.some((e) => e.type === 'LambdaFunctionTimedOut')).toBe(false);
    expect(failed!.timestamp!.getTime() - entered).toBeLessThan(10_000);
    // The merchant's 200 arrives at ~10.5 s after entry; wait past it: nothing confirmed on the checkout.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const events = await timeline(checkoutId);
    expect(events.some((e) => e.type === 'inventory_confirmed' || e.type === 'inventory_rejected')).toBe(false);
  }, 60_000);
});

/**
 * Observability wiring with metrics switched on (as on AWS): the checkout id is the correlation id
 * of every log line of its invocation and of nothing after it; metrics are flushed as EMF at the
 * end, also when the invocation throws (the error itself untouched); the port decorators emit
 * PspCallLatency, InventoryConfirmationLatency, WebhookDeliveryFailed and WebhookDeadLettered with
 * the names the CDK alarms watch; and an API failure's log line carries no header, body or secret.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { METRICS_NAMESPACE, PAYSTEP_METRICS } from '../../../lambdas/shared/metric-names';
import type { EventStore } from '../../../lambdas/ports/events';
import type { InventoryConfirmer } from '../../../lambdas/ports/inventory';
import type { PaymentGateway } from '../../../lambdas/ports/payments';
import type { WebhookSender } from '../../../lambdas/ports/webhooks';
import { MemoryIdempotencyStore, markerCipher } from './fakes';

type ObservabilityModule = typeof import('../../../lambdas/shared/observability');
type HttpModule = typeof import('../../../lambdas/shared/http');

interface Emf {
  _aws?: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

const context = {
  functionName: 'paystep-test',
  awsRequestId: 'req-1',
  memoryLimitInMB: '256',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:0:function:paystep-test',
} as Context;

describe('observability', () => {
  let observability: ObservabilityModule;
  let http: HttpModule;
  let lines: Record<string, unknown>[];

  beforeEach(async () => {
    // Prepare: fresh module instances with metrics on and INFO logs, stdout captured as JSON lines.
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'paystep');
    vi.resetModules();
    lines = [];
    const capture = (chunk: string | Uint8Array): boolean => {
      for (const line of String(chunk).split('\n'))
        if (line.trim().startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture as typeof process.stderr.write);
    observability = await import('../../../lambdas/shared/observability');
    http = await import('../../../lambdas/shared/http');
  });

  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  const metricLines = (name: string): Emf[] =>
    (lines as Emf[]).filter((line) =>
      line._aws?.CloudWatchMetrics.some((directive) => directive.Metrics.some((metric) => metric.Name === name)),
    );

  it('puts the checkout id on every log line of the invocation only, and flushes its metrics at the end', async () => {
    // Act
    const result = await observability.observeInvocation({ context, correlationId: 'chk_abc' }, async () => {
      observability.observability.logger.info('inside');
      observability.recordCheckoutOutcome({ status: 'succeeded' });
      return 42;
    });
    observability.observability.logger.info('after');
    // Assess
    expect(result).toBe(42);
    expect(lines.find((line) => line.message === 'inside')).toMatchObject({
      correlation_id: 'chk_abc',
      function_name: 'paystep-test',
      service: 'paystep',
    });
    expect(lines.find((line) => line.message === 'after')?.correlation_id).toBeUndefined();
    const [emf] = metricLines(PAYSTEP_METRICS.checkoutSucceeded);
    expect(emf?._aws?.CloudWatchMetrics[0]).toMatchObject({ Namespace: METRICS_NAMESPACE, Dimensions: [['service']] });
    expect(emf).toMatchObject({ service: 'paystep', [PAYSTEP_METRICS.checkoutSucceeded]: 1 });
  });

  it('rethrows the step error untouched (its name drives the ASL Catch) after flushing, and counts failures by reason', async () => {
    // Prepare
    class InventoryRejectedError extends Error {
      override readonly name = 'InventoryRejectedError';
    }
    // Act
    const attempt = observability.observeInvocation({ correlationId: 'chk_def' }, async () => {
      observability.recordCheckoutOutcome({ status: 'failed', reason: 'inventory_rejected' });
      throw new InventoryRejectedError('out of stock');
    });
    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InventoryRejectedError' });
    const [emf] = metricLines(PAYSTEP_METRICS.checkoutFailed);
    expect(emf).toMatchObject({ reason: 'inventory_rejected', service: 'paystep', [PAYSTEP_METRICS.checkoutFailed]: 1 });
    expect(emf?._aws?.CloudWatchMetrics[0]?.Dimensions[0]).toEqual(expect.arrayContaining(['service', 'reason']));
  });

  it('times PSP calls by operation and outcome, keeping the gateway contract', async () => {
    // Prepare
    const gateway = {
      connector: 'sandbox',
      authorize: async () => ({ pspReference: 'psp_1' }),
      capture: async () => {
        throw Object.assign(new Error('PSP down'), { name: 'PspUnavailableError' });
      },
    } as unknown as PaymentGateway;
    const observed = observability.observeGateway(gateway);
    // Act
    const authorized = await observed.authorize({} as Parameters<PaymentGateway['authorize']>[0]);
    const captured = observed.capture({} as Parameters<PaymentGateway['capture']>[0]);
    // Assess
    expect(observed.connector).toBe('sandbox');
    expect(authorized).toEqual({ pspReference: 'psp_1' });
    await expect(captured).rejects.toMatchObject({ name: 'PspUnavailableError' });
    const latencies = metricLines(PAYSTEP_METRICS.pspCallLatency).map((line) => [line.operation, line.outcome]);
    expect(latencies).toEqual([
      ['authorize', 'ok'],
      ['capture', 'error'],
    ]);
  });

  it('builds no single-metric instance when metrics are disabled (nothing would be printed)', async () => {
    // Prepare: a fresh module with metrics off, as locally
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    vi.resetModules();
    const disabled = await import('../../../lambdas/shared/observability');
    const singleMetric = vi.spyOn(disabled.observability.metrics, 'singleMetric');
    const observed = disabled.observeGateway({ authorize: async () => ({ pspReference: 'psp_1' }) } as unknown as PaymentGateway);
    // Act
    const authorized = await observed.authorize({} as Parameters<PaymentGateway['authorize']>[0]);
    disabled.recordCheckoutOutcome({ status: 'failed', reason: 'psp_declined' });
    // Assess
    expect(authorized).toEqual({ pspReference: 'psp_1' });
    expect(singleMetric).not.toHaveBeenCalled();
    expect(metricLines(PAYSTEP_METRICS.pspCallLatency)).toEqual([]);
  });

  it('records the inventory confirmation latency by outcome', async () => {
    // Prepare
    const confirmer: InventoryConfirmer = {
      confirmInventory: async () => ({ outcome: 'rejected', reason: 'inventory_timeout', message: 'slow', latencyMs: 10_000 }),
    };
    // Act
    const decision = await observability
      .observeInventoryConfirmer(confirmer)
      .confirmInventory('https://m.example', {} as never, 'whsec_x');
    // Assess
    expect(decision.outcome).toBe('rejected');
    expect(metricLines(PAYSTEP_METRICS.inventoryConfirmationLatency)[0]).toMatchObject({
      outcome: 'inventory_timeout',
      [PAYSTEP_METRICS.inventoryConfirmationLatency]: 10_000,
    });
  });

  it('counts failed webhook attempts and dead letters, and logs the receiver host only', async () => {
    // Prepare
    const sender: WebhookSender = { send: async () => ({ ok: false, httpStatus: 503, latencyMs: 12 }) };
    const completions: string[] = [];
    const store = {
      marker: 'store',
      completeAttempt: async (_eventId: string, _endpointId: string, _lease: string, outcome: { status: string }) => (
        completions.push(outcome.status),
        true
      ),
      getEvent(this: { marker: string }) {
        return Promise.resolve(this.marker);
      },
    } as unknown as EventStore;
    const observedStore = observability.observeWebhookCompletions(store);
    // Act
    await observability.observeInvocation({}, async () => {
      await observability.observeWebhookSender(sender).send('https://hooks.example.com/path?token=tok_secret', 'whsec_secret', {
        id: 'evt_1',
        timestamp: new Date(),
        body: '{}',
      });
      await observedStore.completeAttempt('evt_1', 'we_1', 'lease', {
        status: 'pending',
        attempt: 1,
        nextAttemptAt: '',
        now: '',
      });
      await observedStore.completeAttempt('evt_1', 'we_1', 'lease', {
        status: 'dead_lettered',
        attempt: 8,
        nextAttemptAt: '',
        now: '',
      });
    });
    // Assess
    expect(completions).toEqual(['pending', 'dead_lettered']);
    expect(await (observedStore as unknown as { getEvent(): Promise<string> }).getEvent()).toBe('store');
    const [emf] = metricLines(PAYSTEP_METRICS.webhookDeadLettered);
    expect(emf).toMatchObject({ [PAYSTEP_METRICS.webhookDeadLettered]: 1, [PAYSTEP_METRICS.webhookDeliveryFailed]: 1 });
    expect(lines.find((line) => line.message === 'webhook attempt failed')).toMatchObject({
      host: 'hooks.example.com',
      httpStatus: 503,
    });
    expect(JSON.stringify(lines)).not.toMatch(/tok_secret|whsec_secret/);
  });

  it('logs an API failure with the checkout id as correlation id and without headers, body or secrets', async () => {
    // Prepare
    const handler = http.createApiHandler(
      {
        'POST /v1/checkouts/{id}/pay': {
          auth: ['merchant'],
          handle: async () => {
            throw new Error('boom');
          },
        },
      },
      {
        authenticate: async () => ({ kind: 'admin' }),
        idempotency: { store: new MemoryIdempotencyStore(), cipher: markerCipher },
      },
    );
    const event = {
      version: '2.0',
      routeKey: 'POST /v1/checkouts/{id}/pay',
      rawPath: '/v1/checkouts/chk_777/pay',
      rawQueryString: '',
      pathParameters: { id: 'chk_777' },
      headers: { authorization: 'Bearer sk_test_supersecret', 'idempotency-key': 'k1' },
      body: JSON.stringify({ card: { number: '4242424242424242', cvc: '123' } }),
      requestContext: { http: { method: 'POST', path: '/v1/checkouts/chk_777/pay' } },
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    // Act
    const response = await handler(event, context);
    // Assess
    expect(response).toMatchObject({ statusCode: 500 });
    const failure = lines.find((line) => line.message === 'Unhandled error');
    expect(failure).toMatchObject({ correlation_id: 'chk_777', routeKey: 'POST /v1/checkouts/{id}/pay', level: 'ERROR' });
    expect(JSON.stringify(lines)).not.toMatch(/sk_test_supersecret|4242424242424242|"cvc"/);
  });
});

describe('tracer loading', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('wants tracing only inside Lambda, outside the SAM and Amplify mocks, unless POWERTOOLS_TRACE_ENABLED is false', async () => {
    // Prepare
    const { tracingWanted } = await import('../../../lambdas/shared/observability');
    const lambda = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' };
    // Act / Assess
    expect(tracingWanted(lambda)).toBe(true);
    expect(tracingWanted({ ...lambda, POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(true);
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted({ ...lambda, POWERTOOLS_TRACE_ENABLED: 'FALSE' })).toBe(false);
    expect(tracingWanted({ ...lambda, AWS_SAM_LOCAL: 'true' })).toBe(false);
    expect(tracingWanted({ AWS_EXECUTION_ENV: 'AWS_Lambda_amplify-mock' })).toBe(false);
  });

  it('creates a Powertools tracer with tracing on inside Lambda and none elsewhere', async () => {
    // Prepare: outside Lambda (the test environment has no AWS_EXECUTION_ENV).
    vi.stubEnv('AWS_EXECUTION_ENV', '');
    vi.resetModules();
    const outside = await import('../../../lambdas/shared/observability');
    // Prepare: as in Lambda.
    vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs24.x');
    vi.resetModules();
    const inside = await import('../../../lambdas/shared/observability');
    // Assess
    expect(outside.observability.tracer).toBeUndefined();
    expect(inside.observability.tracer?.isTracingEnabled()).toBe(true);
    // An invocation outside a real X-Ray segment still runs (no segment, no subsegment).
    await expect(inside.observeInvocation({}, async () => 'ran')).resolves.toBe('ran');
  });
});

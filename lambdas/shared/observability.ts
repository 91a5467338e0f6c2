/**
 * Logs, metrics and traces for every Lambda (Powertools logger, metrics, tracer), created once per
 * container. Handlers wrap each invocation in `observeInvocation` (createApiHandler and sagaStep do
 * it for them): the checkout id becomes the `correlation_id` log key and an X-Ray annotation, and
 * the invocation's metrics are flushed at its end. The `observe*` decorators time the calls that
 * leave Paystep (PSP, merchant inventory confirmation, webhooks) at the port, so the use cases stay
 * free of telemetry.
 *
 * Never handed to the logger or the tracer: request bodies, headers, card data, secrets, or a
 * handler's result (API responses carry secret keys and client secrets), which is why the handler
 * subsegment is opened here and not with Powertools' captureLambdaHandler (it records the result).
 *
 * Env: POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL (local runs use WARN),
 * POWERTOOLS_METRICS_DISABLED (true locally and in tests: no EMF lines on stdout). The tracer is
 * active only inside Lambda with active tracing; it (and the X-Ray SDK behind it, about 110 KiB
 * minified) is imported only where Powertools would trace (tracingWanted), so a local run, a test
 * or a function with POWERTOOLS_TRACE_ENABLED=false never loads it: the `await import()` below is
 * its own lazily loaded chunk of the bundle (lib/bundling.ts), read only when tracing is wanted.
 * Deployed functions get POWERTOOLS_TRACE_ENABLED=false unless the CDK context `powertoolsTracer`
 * is `true` (runtimeOptions in lib/constructs/paystep-function.ts); Lambda's active tracing records
 * them either way.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import type { EventStore } from '../ports/events';
import type { InventoryConfirmer } from '../ports/inventory';
import type { PaymentGateway } from '../ports/payments';
import type { WebhookSender } from '../ports/webhooks';
import { METRICS_NAMESPACE, PAYSTEP_METRICS, type PaystepMetricName } from './metric-names';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'paystep';

/**
 * Whether the Powertools Tracer would trace in this environment, by its own rules: inside Lambda
 * (AWS_EXECUTION_ENV set), not under the SAM CLI or the Amplify mock, and POWERTOOLS_TRACE_ENABLED
 * not `false`. Where it would not, a Tracer would be a no-op, so none is created.
 */
export function tracingWanted(env: Record<string, string | undefined> = process.env): boolean {
  const executionEnv = env.AWS_EXECUTION_ENV ?? '';
  return (
    (env.POWERTOOLS_TRACE_ENABLED ?? '').toLowerCase() !== 'false' &&
    executionEnv !== '' &&
    executionEnv !== 'AWS_Lambda_amplify-mock' &&
    (env.AWS_SAM_LOCAL ?? '') === ''
  );
}

/** Powertools Metrics that tell whether they print anything (its isDisabled() is protected). */
class PaystepMetrics extends Metrics {
  printsNothing(): boolean {
    return this.isDisabled();
  }
}

const paystepMetrics = new PaystepMetrics({ namespace: METRICS_NAMESPACE, serviceName });

/** The container's one logger, metrics and tracer (Powertools keeps per-invocation state in them). */
export const observability: { logger: Logger; metrics: Metrics; tracer: Tracer | undefined } = {
  logger: new Logger({ serviceName }),
  metrics: paystepMetrics,
  tracer: tracingWanted() ? new (await import('@aws-lambda-powertools/tracer')).Tracer({ serviceName }) : undefined,
};

const { logger, metrics, tracer } = observability;

export interface InvocationScope {
  /** The Lambda context (absent when a test calls a handler directly). */
  readonly context?: Context | undefined;
  /** The checkout id when the invocation concerns one checkout. */
  readonly correlationId?: string | undefined;
}

/**
 * Runs one invocation with the correlation id on every log line and on the trace, and flushes its
 * metrics afterwards, also when it throws (the error itself is rethrown untouched: its `name` is
 * what the state machine's Retry/Catch match on).
 */
export async function observeInvocation<T>(scope: InvocationScope, run: () => Promise<T>): Promise<T> {
  if (typeof scope.context?.functionName === 'string') {
    logger.addContext(scope.context);
    metrics.captureColdStartMetric(scope.context.functionName);
  }
  if (scope.correlationId !== undefined) logger.appendKeys({ correlation_id: scope.correlationId });
  const parent = tracer?.isTracingEnabled() === true ? tracer.getSegment() : undefined;
  const subsegment = parent?.addNewSubsegment('## handler');
  if (tracer !== undefined && subsegment !== undefined) {
    tracer.setSegment(subsegment);
    tracer.annotateColdStart();
    tracer.addServiceNameAnnotation();
    if (scope.correlationId !== undefined) tracer.putAnnotation('checkoutId', scope.correlationId);
  }
  try {
    return await run();
  } catch (error) {
    if (subsegment !== undefined) tracer?.addErrorAsMetadata(error as Error);
    throw error;
  } finally {
    subsegment?.close();
    if (parent !== undefined) tracer?.setSegment(parent);
    logger.removeKeys(['correlation_id']);
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}

/**
 * One metric with its own dimensions, emitted at once (the shared instance's dimensions stay clean).
 * With metrics disabled (POWERTOOLS_METRICS_DISABLED, local runs and tests) nothing would be
 * printed, so no single-metric instance (a new Metrics and Console each) is built.
 */
function emitDimensioned(
  name: PaystepMetricName,
  unit: (typeof MetricUnit)[keyof typeof MetricUnit],
  value: number,
  dimensions: Record<string, string>,
): void {
  if (paystepMetrics.printsNothing()) return;
  const single = metrics.singleMetric();
  for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
  single.addMetric(name, unit, value);
}

/** The saga's end: CheckoutSucceeded, or CheckoutFailed by failure reason (RecordOutcome calls it). */
export function recordCheckoutOutcome(outcome: { status: string; reason?: string }): void {
  if (outcome.status === 'succeeded') {
    metrics.addMetric(PAYSTEP_METRICS.checkoutSucceeded, MetricUnit.Count, 1);
  } else {
    emitDimensioned(PAYSTEP_METRICS.checkoutFailed, MetricUnit.Count, 1, { reason: outcome.reason ?? 'unknown' });
  }
}

/**
 * The gateway with every PSP call timed as PspCallLatency (dimensions `operation`, `outcome`). A
 * proxy, so a method added to PaymentGateway later is timed without touching this file.
 */
export function observeGateway(gateway: PaymentGateway): PaymentGateway {
  return new Proxy(gateway, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return async (...args: unknown[]) => {
        const started = performance.now();
        let outcome = 'error';
        try {
          const result = (await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)) as unknown;
          outcome = 'ok';
          return result;
        } finally {
          emitDimensioned(PAYSTEP_METRICS.pspCallLatency, MetricUnit.Milliseconds, Math.round(performance.now() - started), {
            operation: property,
            outcome,
          });
        }
      };
    },
  });
}

/** The confirmer with InventoryConfirmationLatency (dimension `outcome`: confirmed or the failure reason). */
export function observeInventoryConfirmer(confirmer: InventoryConfirmer): InventoryConfirmer {
  return {
    async confirmInventory(url, request, signingSecret, options) {
      const decision = await confirmer.confirmInventory(url, request, signingSecret, options);
      const outcome = decision.outcome === 'confirmed' ? 'confirmed' : decision.reason;
      emitDimensioned(PAYSTEP_METRICS.inventoryConfirmationLatency, MetricUnit.Milliseconds, decision.latencyMs, { outcome });
      logger.info('inventory confirmation answered', { outcome, latencyMs: decision.latencyMs, httpStatus: decision.httpStatus });
      return decision;
    },
  };
}

/** The sender with WebhookDeliveryFailed counted for every attempt that did not get a 2xx. */
export function observeWebhookSender(sender: WebhookSender): WebhookSender {
  return {
    async send(url, secret, message, options) {
      const attempt = await sender.send(url, secret, message, options);
      if (!attempt.ok) {
        metrics.addMetric(PAYSTEP_METRICS.webhookDeliveryFailed, MetricUnit.Count, 1);
        // The URL's origin only: a path or query may carry a merchant's token.
        logger.warn('webhook attempt failed', {
          eventId: message.id,
          httpStatus: attempt.httpStatus,
          error: attempt.error,
          host: safeHost(url),
        });
      }
      return attempt;
    },
  };
}

/**
 * The event store with WebhookDeadLettered counted when a delivery's final state is written
 * (the alarm in lib/monitoring-construct.ts watches it: dead letters live in DynamoDB, not SQS).
 */
export function observeWebhookCompletions(store: EventStore): EventStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property !== 'completeAttempt' || typeof value !== 'function') {
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      const completeAttempt = value as EventStore['completeAttempt'];
      return async (...args: Parameters<EventStore['completeAttempt']>) => {
        const kept = await completeAttempt.apply(target, args);
        if (kept && args[3].status === 'dead_lettered') {
          metrics.addMetric(PAYSTEP_METRICS.webhookDeadLettered, MetricUnit.Count, 1);
          logger.error('webhook delivery dead-lettered', { eventId: args[0], endpointId: args[1], attempts: args[3].attempt });
        }
        return kept;
      };
    },
  });
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid-url';
  }
}

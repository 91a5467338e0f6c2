/**
 * The reconciliation sweep (lambdas/use-cases/reconciliation.ts): an EventBridge schedule invokes
 * it on AWS; locally local/stack.ts calls this same handler on a timer. One pass per invocation.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { pspCallbackStore, recoverySettings, recoveryStore, sagaExecutionArnFor, taskTokens } from '../shared/callback-wiring';
import { observeInvocation } from '../shared/observability';
import { sagaDependencies } from '../shared/saga-wiring';
import { runReconciliationSweep, type SweepReport } from '../use-cases/reconciliation';

/** Invoked by the schedule (the event's content is not used). */
export async function handler(_event?: unknown, context?: Context): Promise<SweepReport> {
  return await observeInvocation({ context }, () =>
    runReconciliationSweep({
      ...sagaDependencies,
      recovery: recoveryStore,
      callbacks: pspCallbackStore,
      resumer: taskTokens,
      executions: taskTokens,
      executionArnFor: sagaExecutionArnFor,
      ...recoverySettings,
      owner: `sweep:${context?.awsRequestId ?? randomUUID()}`,
      log: (message, extra) => console.warn(JSON.stringify({ level: 'WARN', message, ...extra })),
    }),
  );
}

/**
 * The reconciliation sweep (lambdas/use-cases/reconciliation.ts) and, as its sibling step, the
 * authorization-expiry sweep of manual-capture holds (lambdas/use-cases/authorization-expiry.ts):
 * an EventBridge schedule invokes it on AWS; locally local/stack.ts calls this same handler on a
 * timer. One pass of each per invocation.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { pspCallbackStore, taskTokens } from '../shared/recovery-lazy';
import { recoverySettings, recoveryStore, sagaExecutionArnFor } from '../shared/recovery-wiring';
import { observeInvocation } from '../shared/observability';
import { allSagaPorts } from '../shared/saga-wiring';
import { lazyMerchantHttp } from '../shared/merchant-http-lazy';
import { authorizationHoldStore } from '../shared/hold-wiring';
import { eventPublisher } from '../shared/event-publisher-wiring';
import { instrumentRepository } from '../shared/instrument-wiring';
import { savedPaymentMethods } from '../shared/card-vault-lazy';
import { customerReader } from '../shared/customers-lazy';
import { runAuthorizationExpirySweep, type AuthorizationExpiryReport } from '../use-cases/authorization-expiry';
import { runReconciliationSweep, type SweepReport } from '../use-cases/reconciliation';

/** Invoked by the schedule (the event's content is not used). */
export async function handler(
  _event?: unknown,
  context?: Context,
): Promise<SweepReport & { authorizationExpiry: AuthorizationExpiryReport }> {
  const owner = `sweep:${context?.awsRequestId ?? randomUUID()}`;
  const log = (message: string, extra?: Record<string, unknown>): void =>
    console.warn(JSON.stringify({ level: 'WARN', message, ...extra }));
  return await observeInvocation({ context }, async () => {
    // Recovery drives every step's logic, so its use case takes every saga port; the merchant HTTP
    // stack (inventory confirmer, webhook sender) only to re-drive a stuck checkout: imported then.
    const sagaDependencies = allSagaPorts(lazyMerchantHttp);
    const reconciliation = await runReconciliationSweep({
      ...sagaDependencies,
      customers: customerReader,
      savedPaymentMethods,
      recovery: recoveryStore,
      callbacks: pspCallbackStore,
      resumer: taskTokens,
      executions: taskTokens,
      executionArnFor: sagaExecutionArnFor,
      ...recoverySettings,
      owner,
      log,
    });
    const authorizationExpiry = await runAuthorizationExpirySweep({
      checkouts: sagaDependencies.checkouts,
      merchants: sagaDependencies.merchants,
      instruments: instrumentRepository,
      gateway: sagaDependencies.gateway,
      gateways: sagaDependencies.gateways,
      holds: authorizationHoldStore,
      publisher: eventPublisher,
      renderCheckout: sagaDependencies.renderCheckout,
      owner,
      leaseMs: recoverySettings.leaseMs,
      log,
    });
    return { ...reconciliation, authorizationExpiry };
  });
}

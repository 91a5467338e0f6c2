/**
 * The saga's AwaitAuthorization step (and AwaitAuthentication's wait): a `.waitForTaskToken` Task
 * that parks the task token on the authorization's record, where the PSP callback handler
 * (lambdas/use-cases/psp-callbacks.ts) finds it. If the result is already known (the callback beat
 * us, or it was lost and the PSP's status says so), the saga is resumed at once: a wait never
 * depends on the callback arriving after this step.
 */
import { connectorOf, pendingAuthorizationOf } from '../../domain/payment-attempt';
import { isForwardTransition } from '../../domain/psp-outcome';
import type { PspCallbackStore } from '../../ports/callbacks';
import type { TaskTokenResumer } from '../../ports/workflow';
import { gatewayFor } from '../connector-gateways';
import { loadCheckout, type SagaPorts } from './shared';

/** The callback store and the task-token resumer, beside the checkout and every connector's gateway. */
export type AwaitAuthorizationPorts = Pick<SagaPorts, 'checkouts' | 'gateway' | 'gateways'> & {
  callbacks: PspCallbackStore;
  resumer: TaskTokenResumer;
  now?: () => Date;
};

export interface AwaitAuthorizationInput {
  checkoutId: string;
  taskToken: string;
}

export async function awaitAuthorization(
  deps: AwaitAuthorizationPorts,
  input: AwaitAuthorizationInput,
): Promise<{ waiting: boolean; state: string }> {
  const now = deps.now?.() ?? new Date();
  const checkout = await loadCheckout(deps, input.checkoutId);
  const pending = pendingAuthorizationOf(checkout.payment);
  const connector = checkout.payment === undefined ? deps.gateway.connector : connectorOf(checkout.payment);
  const record = await deps.callbacks.registerTaskToken(
    connector,
    checkout.id,
    input.taskToken,
    { amount: checkout.amount, currency: checkout.currency, ...(pending !== undefined ? { authorizationId: pending } : {}) },
    now,
  );
  let state = record.state;
  if (state === 'pending' && pending !== undefined) {
    // The status query goes to the pending attempt's connector.
    const view = await gatewayFor(deps, connector, checkout.merchantId).getAuthorization(pending);
    const pspState = view.state;
    if (pspState !== undefined && pspState !== 'pending' && isForwardTransition(state, pspState)) {
      const advanced = await deps.callbacks.advanceAuthorization(
        {
          connector,
          reference: checkout.id,
          authorizationId: view.id,
          state: pspState,
          amount: view.amount,
          currency: view.currency,
          lastCallbackId: 'status_query',
        },
        now,
      );
      state = advanced.record.state;
    }
  }
  if (state !== 'pending') {
    await deps.resumer.succeed(input.taskToken, { state, resolved_by: 'await_authorization' });
    await deps.callbacks.clearTaskToken(connector, checkout.id, input.taskToken);
    return { waiting: false, state };
  }
  return { waiting: true, state };
}

/**
 * The saga's `AwaitAuthentication` Task state (statemachines/checkout.asl.json), invoked with the
 * `.waitForTaskToken` integration while the buyer is at a 3-D Secure challenge: it parks the task
 * token like AwaitAuthorization (the PSP's callback with the challenge result resumes the saga)
 * and publishes `payment.requires_action`. No result within the Task's 15 min: abandoned.
 */
import { awaitAuthorization, type AwaitAuthorizationInput } from '../use-cases/saga/await-authorization';
import { loadCheckout } from '../use-cases/saga/shared';
import { announceRequiredAction } from '../use-cases/three-d-secure';
import { pspCallbackStore, taskTokens } from '../shared/callback-wiring';
import { sagaStep } from '../shared/saga-wiring';

export const handler = sagaStep(
  ['checkouts', 'gateway', 'gateways', 'events', 'webhookEndpoints', 'renderCheckout'],
  async (deps, input: AwaitAuthorizationInput) => {
    const waited = await awaitAuthorization(
      {
        callbacks: pspCallbackStore,
        resumer: taskTokens,
        checkouts: deps.checkouts,
        gateway: deps.gateway,
        // The challenge's connector (a `stripe` attempt is read from Stripe, not the default connector).
        gateways: deps.gateways,
      },
      input,
    );
    if (waited.waiting) await announceRequiredAction(deps, await loadCheckout(deps, input.checkoutId));
    return waited;
  },
);

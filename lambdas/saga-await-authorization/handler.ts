/**
 * The saga's `AwaitAuthorization` Task state (statemachines/checkout.asl.json), invoked with the
 * `.waitForTaskToken` integration: it parks the task token for the PSP callback handler and
 * returns; the execution resumes when SendTaskSuccess arrives (or the wait times out).
 */
import { awaitAuthorization, type AwaitAuthorizationInput } from '../use-cases/saga/await-authorization';
import { pspCallbackStore, taskTokens } from '../shared/callback-wiring';
import { sagaStep } from '../shared/saga-wiring';

export const handler = sagaStep(['checkouts', 'gateway', 'gateways'], (deps, input: AwaitAuthorizationInput) =>
  awaitAuthorization(
    {
      callbacks: pspCallbackStore,
      resumer: taskTokens,
      checkouts: deps.checkouts,
      gateway: deps.gateway,
      gateways: deps.gateways,
    },
    input,
  ),
);

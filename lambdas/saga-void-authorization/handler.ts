/**
 * The saga's `VoidAuthorization` Task state (statemachines/checkout.asl.json), the failure path's
 * one terminal Task: the failure reason from the source state's error, the void, the terminal
 * `failed` write (or the reopen for another card), then the result webhook in-process; emits
 * CheckoutFailed.
 */
import { failPayment, type FailPaymentInput } from '../use-cases/saga/fail-payment';
import { recordCheckoutOutcome } from '../shared/observability';
import { sagaStep } from '../shared/saga-wiring';

export const handler = sagaStep(
  [
    'checkouts',
    'gateway',
    'gateways',
    'instruments',
    'events',
    'webhookEndpoints',
    'webhookSender',
    'cipher',
    'merchants',
    'schedule',
    'leaseMs',
    'log',
    'renderCheckout',
    'outcomeWatch',
  ],
  (deps, input: FailPaymentInput) => failPayment(deps, input),
  {
    // A declined try that reopened the checkout for another card is not an outcome yet.
    onResult: (_input, output) =>
      output.status === 'failed' && recordCheckoutOutcome({ status: 'failed', reason: output.reason }),
  },
);

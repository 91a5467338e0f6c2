/**
 * The saga's `VoidAuthorization` Task state (statemachines/checkout.asl.json), the failure path's
 * one terminal Task: the failure reason from the source state's error, the void, the terminal
 * `failed` write (or the reopen for another card), then the result webhook in-process; emits
 * CheckoutFailed.
 */
import { failPayment, type FailPaymentInput } from '../use-cases/saga/fail-payment';
import { recordCheckoutOutcome } from '../shared/observability';
import { NOTIFY_PORT_KEYS, sagaStep } from '../shared/saga-wiring';
import { merchantHttp } from '../shared/merchant-http-wiring';

export const handler = sagaStep(
  [...NOTIFY_PORT_KEYS, 'gateway', 'gateways'],
  (deps, input: FailPaymentInput) => failPayment(deps, input),
  {
    // A declined try that reopened the checkout for another card is not an outcome yet.
    onResult: (_input, output) =>
      output.status === 'failed' && recordCheckoutOutcome({ status: 'failed', reason: output.reason }),
    // The webhook sender runs on every payment that ends here: imported at the cold start.
    merchantHttp,
  },
);

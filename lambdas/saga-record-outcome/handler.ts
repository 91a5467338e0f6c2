/** The saga's `RecordOutcome` Task state (statemachines/checkout.asl.json); emits CheckoutSucceeded / CheckoutFailed. */
import { recordOutcome } from '../use-cases/saga/record-outcome';
import { recordCheckoutOutcome } from '../shared/observability';
import { savedPaymentMethods } from '../shared/card-vault-wiring';
import { customerRepository } from '../shared/customer-wiring';
import { sagaStep } from '../shared/saga-wiring';

export const handler = sagaStep(
  ['checkouts', 'instruments'],
  (deps, input: Parameters<typeof recordOutcome>[1]) =>
    recordOutcome({ ...deps, customers: customerRepository, savedPaymentMethods }, input),
  {
    onResult: (input, output) =>
      // A declined try that reopened the checkout for another card is not an outcome yet.
      output.status !== 'open' &&
      recordCheckoutOutcome(
        output.status === 'succeeded'
          ? { status: 'succeeded' }
          : { status: 'failed', ...('reason' in input.outcome ? { reason: input.outcome.reason } : {}) },
      ),
  },
);

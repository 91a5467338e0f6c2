/** The saga's `AuthorizePayment` Task state (statemachines/checkout.asl.json); the one step that reveals vaulted cards. */
import { authorizePayment } from '../use-cases/saga/authorize-payment';
import { cardVault } from '../shared/card-vault-lazy';
import { sagaStep } from '../shared/saga-wiring';

export const handler = sagaStep(
  ['checkouts', 'merchants', 'gateway', 'gateways', 'instruments', 'challengeReturnUrl'],
  (deps, input: Parameters<typeof authorizePayment>[1]) => authorizePayment({ ...deps, vault: cardVault }, input),
);

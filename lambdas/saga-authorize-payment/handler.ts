/** The saga's `AuthorizePayment` Task state (statemachines/checkout.asl.json). */
import { authorizePayment } from '../use-cases/saga/authorize-payment';
import { sagaStep } from '../shared/saga-wiring';

export const handler = sagaStep(authorizePayment);

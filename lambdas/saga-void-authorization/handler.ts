/** The saga's `VoidAuthorization` Task state (statemachines/checkout.asl.json). */
import { voidAuthorization } from '../use-cases/saga/void-authorization';
import { sagaStep } from '../shared/saga-wiring';

export const handler = sagaStep(['checkouts', 'gateway', 'gateways', 'instruments'], voidAuthorization);

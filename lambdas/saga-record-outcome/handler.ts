/** The saga's `RecordOutcome` Task state (statemachines/checkout.asl.json). */
import { recordOutcome } from '../use-cases/payment-saga';
import { sagaStep } from '../shared/saga-wiring';

export const handler = sagaStep(recordOutcome);

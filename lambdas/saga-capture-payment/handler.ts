/** The saga's `CapturePayment` Task state (statemachines/checkout.asl.json). */
import { capturePayment } from '../use-cases/saga/capture-payment';
import { sagaStep } from '../shared/saga-wiring';

export const handler = sagaStep(
  ['checkouts', 'gateway', 'gateways', 'instruments', 'authorizationHolds', 'authorizationPolicy'],
  capturePayment,
);

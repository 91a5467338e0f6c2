/** The saga's `CapturePayment` Task state (statemachines/checkout.asl.json). */
import { capturePayment } from '../use-cases/payment-saga';
import { sagaStep } from '../shared/saga-wiring';

export const handler = sagaStep(capturePayment);

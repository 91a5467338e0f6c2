/**
 * The saga's `CapturePayment` Task state (statemachines/checkout.asl.json): the merchant's
 * inventory confirmation (when required), the capture with the terminal `succeeded` write, then
 * the result webhook's publishing and first delivery in-process; emits CheckoutSucceeded.
 */
import { captureAndNotify } from '../use-cases/saga/capture-payment';
import { recordCheckoutOutcome } from '../shared/observability';
import { savedPaymentMethods } from '../shared/card-vault-lazy';
import { customerReader } from '../shared/customers-lazy';
import { NOTIFY_PORT_KEYS, sagaStep } from '../shared/saga-wiring';
import { merchantHttp } from '../shared/merchant-http-wiring';

export const handler = sagaStep(
  [...NOTIFY_PORT_KEYS, 'confirmer', 'gateway', 'gateways', 'authorizationHolds', 'authorizationPolicy'],
  (deps, input: Parameters<typeof captureAndNotify>[1]) =>
    captureAndNotify({ ...deps, customers: customerReader, savedPaymentMethods }, input),
  {
    onResult: (_input, output) => output.status === 'succeeded' && recordCheckoutOutcome({ status: 'succeeded' }),
    // The inventory confirmer and the webhook sender run on every payment: imported at the cold start.
    merchantHttp,
  },
);

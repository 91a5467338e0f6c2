/** The saga's `NotifyMerchant` Task state (statemachines/checkout.asl.json). */
import { notifyMerchant } from '../use-cases/saga/notify-merchant';
import { sagaStep } from '../shared/saga-wiring';

export const handler = sagaStep(notifyMerchant);

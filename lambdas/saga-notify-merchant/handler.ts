/** The saga's `NotifyMerchant` Task state (statemachines/checkout.asl.json). */
import { notifyMerchant } from '../use-cases/saga/notify-merchant';
import { sagaStep } from '../shared/saga-wiring';

export const handler = sagaStep(
  [
    'events',
    'webhookEndpoints',
    'webhookSender',
    'cipher',
    'checkouts',
    'merchants',
    'schedule',
    'leaseMs',
    'log',
    'instruments',
    'renderCheckout',
    'outcomeWatch',
  ],
  notifyMerchant,
);

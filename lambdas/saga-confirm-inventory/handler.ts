/** The saga's `ConfirmInventory` Task state (statemachines/checkout.asl.json). */
import { confirmInventory } from '../use-cases/saga/confirm-inventory';
import { sagaStep } from '../shared/saga-wiring';

export const handler = sagaStep(['checkouts', 'merchants', 'cipher', 'confirmer'], confirmInventory);

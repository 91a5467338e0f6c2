/**
 * Module-scope wiring of the checkout repository, on top of wiring.ts, for the entries that read or
 * write checkouts (the checkout and pay APIs, the saga steps, the webhook delivery, PSP callbacks,
 * payment methods). Kept out of wiring.ts so an entry that never touches a checkout (instruments,
 * NewStore, settings, connectors, merchants, operator) does not bundle the repository; the API's
 * client-secret authentication imports it on first use (api-wiring.ts).
 */
import { DynamoCheckoutRepository } from '../adapters/dynamo-checkout-repository';
import type { CheckoutRepository } from '../ports/checkouts';
import { documentClient, storeConfig } from './wiring';

export const checkoutRepository: CheckoutRepository = new DynamoCheckoutRepository(documentClient, storeConfig.tableName);

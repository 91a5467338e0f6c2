/**
 * The card vault for functions that need it only on some invocations: the same ports as
 * card-vault-wiring.ts, but its module (the vault adapter, the keyrings and the KMS client) is
 * imported on the first call, as a chunk of its own (lib/bundling.ts), not at the cold start.
 * CapturePayment and the reconciliation sweep touch saved payment methods only when a checkout saves
 * its card for a customer; AuthorizePayment reveals a card only when the buyer pays with a vaulted
 * payment method (pm_...). The settings card-vault-wiring.ts reads are checked on that first call.
 */
import type { CardVault, SavedPaymentMethods } from '../ports/card-vault';
import { importOnce } from './import-once';

type CardVaultWiring = typeof import('./card-vault-wiring');

/** The vault wiring, imported once; a failed import (missing settings) is retried on the next call. */
const load = importOnce((): Promise<CardVaultWiring> => import('./card-vault-wiring'));

export const cardVault: CardVault = {
  tokenizeCard: async (input) => (await load()).cardVault.tokenizeCard(input),
  getPaymentMethod: async (merchantId, paymentMethodId) => (await load()).cardVault.getPaymentMethod(merchantId, paymentMethodId),
  revealForAuthorization: async (input) => (await load()).cardVault.revealForAuthorization(input),
  destroyCvc: async (merchantId, paymentMethodId, now, networkTransactionId) =>
    (await load()).cardVault.destroyCvc(merchantId, paymentMethodId, now, networkTransactionId),
};

export const savedPaymentMethods: SavedPaymentMethods = {
  attachToCustomer: async (merchantId, paymentMethodId, customerId, now) =>
    (await load()).savedPaymentMethods.attachToCustomer(merchantId, paymentMethodId, customerId, now),
  listCustomerPaymentMethods: async (merchantId, customerId) =>
    (await load()).savedPaymentMethods.listCustomerPaymentMethods(merchantId, customerId),
  detachPaymentMethod: async (merchantId, paymentMethodId, now) =>
    (await load()).savedPaymentMethods.detachPaymentMethod(merchantId, paymentMethodId, now),
  shredCustomerPaymentMethods: async (merchantId, customerId, now) =>
    (await load()).savedPaymentMethods.shredCustomerPaymentMethods(merchantId, customerId, now),
};

/**
 * The customer read the terminal steps need only when a checkout saves its payment method for a
 * customer (`save_payment_method: true` with `customer`, payment-source.ts savePaymentMethodOnSuccess):
 * the customer repository (customer-wiring.ts) is imported on that first read, as a chunk of its
 * own, not at the cold start of CapturePayment and the reconciliation sweep (a checkout without a
 * customer never reads one). Same pattern as card-vault-lazy.ts, whose saved payment methods are
 * the other half of that save.
 */
import type { CustomerRepository } from '../ports/customers';
import { importOnce } from './import-once';

type CustomerWiring = typeof import('./customer-wiring');

/** The customer wiring, imported once; a failed import is retried on the next call. */
const load = importOnce((): Promise<CustomerWiring> => import('./customer-wiring'));

/** Reads a customer through customer-wiring.ts's repository, imported on the first read. */
export const customerReader: Pick<CustomerRepository, 'getCustomer'> = {
  getCustomer: async (merchantId, customerId) => (await load()).customerRepository.getCustomer(merchantId, customerId),
};

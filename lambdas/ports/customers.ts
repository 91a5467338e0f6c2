/**
 * Port: a merchant's customers (the main table). Every read is scoped to the merchant, so another
 * merchant's customer is simply not there (404 at the API).
 */
import type { Customer } from '../domain/customer';

export interface CustomerRepository {
  /** Conditional put: never overwrites an existing id. */
  createCustomer(customer: Customer): Promise<void>;
  /** The merchant's customer, deleted ones included (tombstones); undefined when unknown or foreign. */
  getCustomer(merchantId: string, customerId: string): Promise<Customer | undefined>;
  /**
   * Marks the customer deleted (conditional: it exists, belongs to the merchant, and is active).
   * Returns the tombstone, also when it already was deleted (a repeated DELETE is not an error);
   * undefined when unknown or foreign. After this returns, no payment method can be attached to it.
   */
  markCustomerDeleted(merchantId: string, customerId: string, now: Date): Promise<Customer | undefined>;
}

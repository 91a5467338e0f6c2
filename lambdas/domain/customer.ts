/**
 * Customers (`cus_...`): a merchant's returning buyer, who holds saved payment methods. Deleting
 * one is final: it stays as a tombstone (so the id is never reused and a repeated DELETE can finish
 * destroying its cards) and can no longer pay or receive payment methods.
 */
export type CustomerStatus = 'active' | 'deleted';

export interface Customer {
  readonly id: string;
  readonly merchantId: string;
  readonly email?: string;
  readonly name?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly status: CustomerStatus;
  readonly createdAt: string;
  readonly deletedAt?: string;
}

/** Well-formed customer ids only reach the table; anything else is 404 at once. */
export const CUSTOMER_ID_PATTERN = /^cus_[A-Za-z0-9_-]{1,64}$/;

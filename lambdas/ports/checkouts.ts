/**
 * Ports: checkouts, their status transitions and timeline (every write conditional), and the
 * read-side listing (lambdas/adapters/dynamo-checkout-repository.ts implements both).
 */
import type { Checkout, CheckoutEvent, CheckoutStatus } from '../domain/model';

export interface CheckoutTransition {
  checkoutId: string;
  /** The write only happens if the stored status is one of these. */
  from: readonly CheckoutStatus[];
  to: CheckoutStatus;
  /** Extra fields to set in the same conditional write. */
  patch?: Partial<Pick<Checkout, 'failureReason' | 'failureMessage' | 'payment' | 'executionArn' | 'lastPaymentError'>>;
  /** Also require this version (optimistic lock); omit to condition on status only. */
  expectedVersion?: number;
  /** Timeline row written in the same transaction. */
  event?: Omit<CheckoutEvent, 'checkoutId' | 'at'> & { at?: string };
  /** More timeline rows written in the same transaction, after `event` (e.g. `captured` then `succeeded`). */
  events?: Array<Omit<CheckoutEvent, 'checkoutId' | 'at'> & { at?: string }>;
}

export interface CheckoutRepository {
  /**
   * Creates the checkout and claims (merchantId, merchantOrderRef) in one transaction; throws
   * DuplicateOrderRefError when the ref is taken. Also writes the `created` timeline row.
   */
  createCheckout(checkout: Checkout): Promise<void>;
  getCheckout(checkoutId: string): Promise<Checkout | undefined>;
  findCheckoutByOrderRef(merchantId: string, merchantOrderRef: string): Promise<Checkout | undefined>;
  /**
   * Moves the status with a conditional write (status in `from`, and version if given), bumps
   * the version, and writes the timeline event in the same transaction. Returns the new record,
   * or throws InvalidTransitionError (status not in `from`) / ConcurrentModificationError.
   */
  transitionCheckout(transition: CheckoutTransition): Promise<Checkout>;
  /**
   * Updates `payment` without changing the status, conditional on the current version.
   * Used by saga steps to record PSP references and captured amounts.
   */
  updatePayment(
    checkoutId: string,
    payment: NonNullable<Checkout['payment']>,
    expectedVersion: number,
    event?: CheckoutTransition['event'],
  ): Promise<Checkout>;
  /** Appends a timeline row (idempotent when `dedupeKey` is given: a second write is a no-op). */
  appendEvent(event: CheckoutEvent, dedupeKey?: string): Promise<void>;
  listEvents(checkoutId: string): Promise<CheckoutEvent[]>;
}

export interface CheckoutListQuery {
  /** Page size (the API allows 1..100). */
  limit: number;
  /** Opaque `next_cursor` from the previous page. */
  cursor?: string;
}

export interface CheckoutListPage {
  /** Newest first. */
  checkouts: Checkout[];
  /** Present when there may be more; pass it back as `cursor`. */
  nextCursor?: string;
}

/** Read-side queries over a merchant's checkouts (kept apart so CheckoutRepository fakes stay small). */
export interface CheckoutQueries {
  listCheckoutsByMerchant(merchantId: string, query: CheckoutListQuery): Promise<CheckoutListPage>;
}

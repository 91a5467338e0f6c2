/**
 * Ports: checkouts, their status transitions and timeline (every write conditional), and the
 * read-side listing (lambdas/adapters/dynamo-checkout-repository.ts implements both).
 */
import type { Checkout, CheckoutEvent, CheckoutStatus, PayRequestRecord } from '../domain/model';
import type { TransactionCompanion } from './idempotency';

export interface CheckoutTransition {
  checkoutId: string;
  /** The write only happens if the stored status is one of these. */
  from: readonly CheckoutStatus[];
  to: CheckoutStatus;
  /** Extra fields to set in the same conditional write. */
  patch?: Partial<Pick<Checkout, 'failureReason' | 'failureMessage' | 'payment' | 'executionArn' | 'lastPaymentError'>>;
  /** Also require this version (optimistic lock); omit to condition on status only. */
  expectedVersion?: number;
  /** Timeline row written in the same conditional write. */
  event?: Omit<CheckoutEvent, 'checkoutId' | 'at'> & { at?: string };
  /** More timeline rows in the same write (after `event`, in this order). */
  events?: Array<Omit<CheckoutEvent, 'checkoutId' | 'at'> & { at?: string }>;
  /**
   * The checkout as the caller just read it (strongly consistent): the first try writes on its
   * status and version without reading again; a lost race reads afresh as usual.
   */
  current?: Checkout;
  /** Appended to the checkout's `payRequests` in the same conditional write (the pay's Idempotency-Key). */
  payRequest?: PayRequestRecord;
}

export interface CreateCheckoutOptions {
  /**
   * Another write carried in the same transaction (the completed Idempotency-Key record of the
   * request: one write per create). When its condition fails the create throws
   * `companion.conditionFailed()` (checked before the order-ref claim) and nothing is written.
   */
  companion?: TransactionCompanion;
}

export interface CheckoutRepository {
  /**
   * Creates the checkout and claims (merchantId, merchantOrderRef) in one transaction; throws
   * DuplicateOrderRefError when the ref is taken. The `created` timeline row is implied by
   * `createdAt` (listEvents returns it).
   */
  createCheckout(checkout: Checkout, options?: CreateCheckoutOptions): Promise<void>;
  getCheckout(checkoutId: string): Promise<Checkout | undefined>;
  findCheckoutByOrderRef(merchantId: string, merchantOrderRef: string): Promise<Checkout | undefined>;
  /**
   * Moves the status with a conditional write (status in `from`, and version if given), bumps
   * the version, and writes the timeline rows in the same conditional write. Returns the new record,
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
    /**
     * The checkout as the caller read it at `expectedVersion`: the repository writes on it instead
     * of reading the item again (the write stays conditional on the version, so a stale copy loses).
     */
    read?: Checkout,
  ): Promise<Checkout>;
  /** Appends a timeline row (idempotent when `dedupeKey` is given: a second write is a no-op). */
  appendEvent(event: CheckoutEvent, dedupeKey?: string): Promise<void>;
  /**
   * The timeline, oldest first. `read`: the checkout as getCheckout returned it, which lets the
   * repository answer from that read instead of reading again (the same snapshot as its status).
   */
  listEvents(checkoutId: string, read?: Checkout): Promise<CheckoutEvent[]>;
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

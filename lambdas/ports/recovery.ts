/** Port: the recovery watch list of checkouts in `processing` (lambdas/use-cases/reconciliation.ts). */

/** One watched checkout, as the recovery watch list holds it. */
export interface ProcessingWatch {
  checkoutId: string;
  /** When it entered processing, or for a terminal checkout when its result was recorded (ISO 8601). */
  since: string;
  /** A sweep's claim: until when (ISO 8601) and whose. */
  leaseUntil?: string;
  leaseOwner?: string;
}

/**
 * The recovery watch list: every checkout in `processing` and every terminal checkout whose result
 * events are not yet published (`since` = when it entered processing, or when its result was
 * recorded), kept by the checkout writes themselves (lambdas/adapters/dynamo-checkout-repository.ts
 * sets the watch in the write that enters `processing`), so the sweep reads only in-flight
 * payments and never scans the table. Claiming is a conditional write (a lease).
 */
export interface RecoveryStore {
  listProcessing(limit: number): Promise<ProcessingWatch[]>;
  /** Conditional: no live lease. True if this owner now holds the checkout until `leaseUntil`. */
  claimCheckout(checkoutId: string, owner: string, now: Date, leaseUntil: Date): Promise<boolean>;
  /** Ends the claim early (nothing to do now). */
  releaseCheckout(checkoutId: string, owner: string): Promise<void>;
  /**
   * Drops the watch of a checkout that is terminal with its result events stored, or no longer
   * processing (normally the status change does it). Never drops the watch of a checkout that is
   * in `processing` when the write lands.
   */
  forgetCheckout(checkoutId: string): Promise<void>;
}

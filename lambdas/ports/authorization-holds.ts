/** Port: manual-capture authorization holds and their expiry watch (lambdas/use-cases/authorization-expiry.ts). */
import type { AuthorizationHold } from '../domain/authorization-hold';

export interface AuthorizationHoldStore {
  /**
   * The saga's hand-over, one transaction: the checkout's instrument pending -> active (conditional
   * on pending) and the hold's watch item (put if absent). Repeating it after it landed is a no-op;
   * an instrument no longer pending without this hold is PspRejectedError.
   */
  holdAuthorization(hold: AuthorizationHold, now: Date): Promise<void>;
  getHold(instrumentId: string): Promise<AuthorizationHold | undefined>;
  /** Instrument ids of holds whose next due time is <= now (eventually consistent: check the stage). */
  listDueHolds(now: Date, limit: number): Promise<string[]>;
  /**
   * Conditional on the stored stage being `from`: moves to `to` (re-indexed at `to`'s due time, or
   * removed from the index when done, with `outcome`). False if another sweep moved it first.
   */
  advanceHold(
    instrumentId: string,
    from: AuthorizationHold['stage'],
    to: AuthorizationHold['stage'],
    now: Date,
    outcome?: string,
  ): Promise<boolean>;
  /** A lease so two overlapping sweeps never act on one hold at once (conditional write). */
  claimHold(instrumentId: string, owner: string, now: Date, leaseUntil: Date): Promise<boolean>;
}

/**
 * What a PSP tells us about an authorization, as the domain sees it, whatever the connector: the
 * authorization's states, applied only as monotonic transitions (so a duplicate or a late
 * callback can never move a payment backwards: a late "authorized" after "voided" changes
 * nothing), and one callback after its connector verified and parsed it. The wire protocols,
 * status words and signature schemes live in lambdas/connectors/<id>/. Pure: no AWS import.
 */

/** Where an authorization stands at the PSP, as far as callbacks and status queries told us. */
export type PspAuthorizationState = 'pending' | 'authorized' | 'declined' | 'captured' | 'voided' | 'disputed';

/**
 * Rank of each state: a callback is applied only when it moves the authorization to a strictly
 * higher rank. Same-rank states exclude each other (authorized vs declined, captured vs voided):
 * whichever the PSP reported first stands.
 */
export const AUTHORIZATION_STATE_RANK: Readonly<Record<PspAuthorizationState, number>> = {
  pending: 0,
  authorized: 1,
  declined: 1,
  captured: 2,
  voided: 2,
  disputed: 3,
};

/**
 * Whether moving from `current` to `next` is a forward transition. Terminal states (declined,
 * voided) accept nothing; a dispute only follows a capture; anything else must raise the rank.
 */
export function isForwardTransition(current: PspAuthorizationState | undefined, next: PspAuthorizationState): boolean {
  if (current === undefined) return true;
  if (current === 'declined' || current === 'voided') return false;
  if (next === 'disputed') return current === 'captured' || current === 'disputed';
  return AUTHORIZATION_STATE_RANK[next] > AUTHORIZATION_STATE_RANK[current];
}

/** One callback after its connector verified the signature and parsed the body. */
export interface PspCallback {
  /** The PSP's event id: the dedupe key. */
  id: string;
  /** The connector's own name for the event, kept for the timeline (`callback_type`). */
  type: string;
  /** The authorization state the callback reports. */
  state: PspAuthorizationState;
  /** Per-authorization counter at the PSP, informational (ordering is decided by state rank). */
  sequence?: number;
  /** When the PSP created the event (ISO 8601). */
  created: string;
  authorizationId: string;
  /** What we filed the authorization under (checkout id or instrument id). */
  reference: string;
  amount: number;
  currency: string;
  /** A dispute: the PSP's dispute id and reason. */
  disputeId?: string;
  reason?: string;
}

/** What we know about one PSP authorization from callbacks and status queries (one item per reference). */
export interface PspAuthorizationRecord {
  connector: string;
  /** Our reference (checkout id): known even when the PSP's authorization id is not. */
  reference: string;
  authorizationId?: string;
  state: PspAuthorizationState;
  amount: number;
  currency: string;
  /** The saga's `.waitForTaskToken` token while it waits for this authorization's result. */
  taskToken?: string;
  /** Id of the callback that set the state (or `status_query`). */
  lastCallbackId?: string;
  updatedAt: string;
}

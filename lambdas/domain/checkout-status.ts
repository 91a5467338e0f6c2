/**
 * The checkout status machine as pure code. Every status change Paystep writes (API cancel,
 * lazy expiry, the payment saga) is checked against this table before the conditional write.
 *
 *   open -> processing | expired | canceled
 *   processing -> succeeded | failed | open (a declined try with tries left: another card, payment-tries.ts)
 *   succeeded, failed, expired, canceled: terminal (no exits)
 */
import { InvalidTransitionError } from '../errors';
import type { CheckoutStatus } from './model';

export const CHECKOUT_STATUSES: readonly CheckoutStatus[] = ['open', 'processing', 'succeeded', 'failed', 'expired', 'canceled'];

const TRANSITIONS: Readonly<Record<CheckoutStatus, readonly CheckoutStatus[]>> = {
  open: ['processing', 'expired', 'canceled'],
  processing: ['succeeded', 'failed', 'open'],
  succeeded: [],
  failed: [],
  expired: [],
  canceled: [],
};

/** Whether the machine allows `from -> to`; a status never transitions to itself. */
export function canTransition(from: CheckoutStatus, to: CheckoutStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws InvalidTransitionError when `from -> to` is not allowed, so no caller can skip a step. */
export function assertTransition(from: CheckoutStatus, to: CheckoutStatus): void {
  if (!canTransition(from, to)) {
    throw new InvalidTransitionError(`A checkout cannot move from ${from} to ${to}`);
  }
}

/** Terminal statuses have no exits: the outcome is final and the buyer can be redirected. */
export function isTerminal(status: CheckoutStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** The statuses reachable from `from` in one step. */
export function nextStatuses(from: CheckoutStatus): readonly CheckoutStatus[] {
  return TRANSITIONS[from];
}

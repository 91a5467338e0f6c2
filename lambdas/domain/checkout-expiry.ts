/**
 * Lazy expiry: an open checkout past `expiresAt` is moved to `expired` (failure_reason `expired`)
 * by a conditional write the moment anyone reads or acts on it, so a buyer can never pay a stale
 * checkout even before a sweep runs. Depends only on the CheckoutRepository port.
 */
import { ConcurrentModificationError, InvalidTransitionError } from '../errors';
import type { CheckoutRepository } from '../ports/checkouts';
import type { Checkout } from './model';

/** Whether `checkout` is open and its expiry time has passed at `now`. */
export function isExpiryDue(checkout: Checkout, now: Date): boolean {
  return checkout.status === 'open' && Date.parse(checkout.expiresAt) <= now.getTime();
}

/**
 * Returns the checkout as it stands after applying lazy expiry. If another writer moved it first
 * (paid, canceled, expired by a concurrent read) the fresh record is returned instead, so callers
 * always decide on the stored truth.
 */
export async function expireIfDue(checkouts: CheckoutRepository, checkout: Checkout, now: Date): Promise<Checkout> {
  if (!isExpiryDue(checkout, now)) return checkout;
  try {
    return await checkouts.transitionCheckout({
      checkoutId: checkout.id,
      from: ['open'],
      to: 'expired',
      patch: { failureReason: 'expired' },
      event: { type: 'expired', at: now.toISOString(), data: { expires_at: checkout.expiresAt } },
    });
  } catch (error) {
    if (error instanceof InvalidTransitionError || error instanceof ConcurrentModificationError) {
      const fresh = await checkouts.getCheckout(checkout.id);
      if (fresh !== undefined) return fresh;
    }
    throw error;
  }
}

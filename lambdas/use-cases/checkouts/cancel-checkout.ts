/**
 * Cancel a checkout (POST /v1/checkouts/{id}/cancel), only while it is open.
 *
 * Primary course:
 * 1. Load the merchant's checkout (404 unless it is theirs) and apply lazy expiry.
 * 2. Not open: 409 `checkout_not_open`.
 * 3. Move open -> canceled with a conditional write plus a timeline row; if the status moved
 *    meanwhile, 409 with the status it moved to.
 * 4. Return the canceled checkout's details.
 */
import { ConflictError, InvalidTransitionError } from '../../errors';
import { expireIfDue } from '../../domain/checkout-expiry';
import type { Checkout, Merchant } from '../../domain/model';
import {
  loadCheckoutDetails,
  loadOwnedCheckout,
  type CheckoutDetails,
  type CheckoutDetailsDependencies,
} from './checkout-details';

export async function cancelCheckout(
  deps: CheckoutDetailsDependencies,
  input: { merchant: Merchant; checkoutId: string; now: Date },
): Promise<CheckoutDetails> {
  const stored = await loadOwnedCheckout(deps.checkouts, input.merchant, input.checkoutId);
  const checkout = await expireIfDue(deps.checkouts, stored, input.now);
  const notOpen = (status: string): ConflictError =>
    new ConflictError(`Only an open checkout can be canceled; this one is ${status}`, { code: 'checkout_not_open' });
  if (checkout.status !== 'open') throw notOpen(checkout.status);
  let canceled: Checkout;
  try {
    canceled = await deps.checkouts.transitionCheckout({
      checkoutId: checkout.id,
      from: ['open'],
      to: 'canceled',
      event: { type: 'canceled', at: input.now.toISOString() },
    });
  } catch (error) {
    if (error instanceof InvalidTransitionError) {
      const fresh = await deps.checkouts.getCheckout(checkout.id);
      throw notOpen(fresh?.status ?? 'gone');
    }
    throw error;
  }
  return loadCheckoutDetails(deps, canceled, input.now);
}

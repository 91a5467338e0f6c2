/**
 * Read a checkout (GET /v1/checkouts/{id}): the buyer's browser (client secret) or the owning merchant.
 *
 * Primary course:
 * 1. Buyer: apply lazy expiry to the checkout the client secret opened; return it with the merchant's name.
 * 2. Merchant: load the checkout (404 unless it is theirs) and return its details (expiry, held balances, timeline).
 */
import { expireIfDue } from '../../domain/checkout-expiry';
import type { Checkout, Merchant } from '../../domain/model';
import type { MerchantRepository } from '../../ports/merchants';
import {
  loadCheckoutDetails,
  loadOwnedCheckout,
  type CheckoutDetails,
  type CheckoutDetailsDependencies,
} from './checkout-details';

export interface GetCheckoutDependencies extends CheckoutDetailsDependencies {
  merchants: MerchantRepository;
}

export type GetCheckoutInput =
  { reader: 'buyer'; checkout: Checkout; now: Date } | { reader: 'merchant'; merchant: Merchant; checkoutId: string; now: Date };

export type GetCheckoutOutput =
  { reader: 'buyer'; checkout: Checkout; merchantName: string } | ({ reader: 'merchant' } & CheckoutDetails);

export async function getCheckout(deps: GetCheckoutDependencies, input: GetCheckoutInput): Promise<GetCheckoutOutput> {
  if (input.reader === 'buyer') {
    const checkout = await expireIfDue(deps.checkouts, input.checkout, input.now);
    const merchant = await deps.merchants.getMerchant(checkout.merchantId);
    return { reader: 'buyer', checkout, merchantName: merchant?.name ?? '' };
  }
  const checkout = await loadOwnedCheckout(deps.checkouts, input.merchant, input.checkoutId);
  return { reader: 'merchant', ...(await loadCheckoutDetails(deps, checkout, input.now)) };
}

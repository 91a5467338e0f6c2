/**
 * The connectors a payment tries, in order (DESIGN Part 2 "Routing and failover"): a vaulted
 * payment method (`pm_`) is routed by the merchant's rules (`Merchant.routing`, else
 * DEFAULT_ROUTING) on the checkout's amount and currency and the card brand the vault keeps as
 * metadata, and the issuing country the vault derived from the BIN (lambdas/domain/card-country.ts;
 * a card of unknown country matches no `card_country` condition). A rule may require 3-D Secure
 * (`"three_ds":"required"`), kept on the payment for its authorization. A single-use PSP token pays
 * through `sandbox` only.
 */
import { DEFAULT_CONNECTOR_ID } from '../connectors/connector-ids';
import type { Checkout } from '../domain/model';
import type { PaymentMethod } from '../domain/payment-method';
import { DEFAULT_ROUTING, selectRoute } from '../domain/routing';
import type { MerchantRepository } from '../ports/merchants';

/** The ordered connector list for a `pm_` payment of this checkout (the first is the first attempt's), and whether the picked rule requires 3-D Secure. */
export async function planPaymentRoute(
  deps: { merchants: Pick<MerchantRepository, 'getMerchant'> },
  checkout: Pick<Checkout, 'merchantId' | 'amount' | 'currency'>,
  paymentMethod: Pick<PaymentMethod, 'card'>,
): Promise<{ route: string[]; threeDsRequired: boolean }> {
  const merchant = await deps.merchants.getMerchant(checkout.merchantId);
  const decision = selectRoute(merchant?.routing ?? DEFAULT_ROUTING, {
    amount: checkout.amount,
    currency: checkout.currency,
    cardBrand: paymentMethod.card.brand,
    ...(paymentMethod.card.country !== undefined ? { cardCountry: paymentMethod.card.country } : {}),
  });
  return {
    route: decision.connectors.length > 0 ? decision.connectors : [DEFAULT_CONNECTOR_ID],
    threeDsRequired: decision.threeDsRequired,
  };
}

/** The ordered connector list for a `pm_` payment of this checkout; the first is the first attempt's. */
export async function routeForPaymentMethod(
  deps: { merchants: Pick<MerchantRepository, 'getMerchant'> },
  checkout: Pick<Checkout, 'merchantId' | 'amount' | 'currency'>,
  paymentMethod: Pick<PaymentMethod, 'card'>,
): Promise<string[]> {
  return (await planPaymentRoute(deps, checkout, paymentMethod)).route;
}

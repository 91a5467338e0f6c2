/**
 * The connectors a payment tries, in order (DESIGN Part 2 "Routing and failover"): a vaulted
 * payment method (`pm_`) is routed by the merchant's rules (`Merchant.routing`, else
 * DEFAULT_ROUTING) on the checkout's amount and currency and the card brand the vault keeps as
 * metadata, and the issuing country the vault derived from the BIN (lambdas/domain/card-country.ts;
 * a card of unknown country matches no `card_country` condition). A single-use PSP token pays
 * through `sandbox` only.
 */
import { DEFAULT_CONNECTOR_ID } from '../connectors/connector-ids';
import type { Checkout } from '../domain/model';
import type { PaymentMethod } from '../domain/payment-method';
import { DEFAULT_ROUTING, selectConnectors } from '../domain/routing';
import type { MerchantRepository } from '../ports/merchants';

/** The ordered connector list for a `pm_` payment of this checkout; the first is the first attempt's. */
export async function routeForPaymentMethod(
  deps: { merchants: Pick<MerchantRepository, 'getMerchant'> },
  checkout: Pick<Checkout, 'merchantId' | 'amount' | 'currency'>,
  paymentMethod: Pick<PaymentMethod, 'card'>,
): Promise<string[]> {
  const merchant = await deps.merchants.getMerchant(checkout.merchantId);
  const route = selectConnectors(merchant?.routing ?? DEFAULT_ROUTING, {
    amount: checkout.amount,
    currency: checkout.currency,
    cardBrand: paymentMethod.card.brand,
    ...(paymentMethod.card.country !== undefined ? { cardCountry: paymentMethod.card.country } : {}),
  });
  return route.length > 0 ? route : [DEFAULT_CONNECTOR_ID];
}

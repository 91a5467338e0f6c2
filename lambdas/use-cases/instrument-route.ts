/**
 * Which connector a merchant's new financial instrument lives on (DESIGN Part 2 "Routing and
 * failover"): the first connector the merchant's routing rules (`Merchant.routing`, else
 * DEFAULT_ROUTING) pick for the instrument's amount and currency. An instrument carries no card
 * facts (a PSP token or a PSP reference), so rules with a card condition never match it. Its
 * later operations go to that connector (the instrument records it).
 */
import { DEFAULT_CONNECTOR_ID } from '../connectors/connector-ids';
import { DEFAULT_ROUTING, selectConnectors } from '../domain/routing';
import type { MerchantRepository } from '../ports/merchants';

export async function routeForInstrument(
  deps: { merchants: Pick<MerchantRepository, 'getMerchant'> },
  input: { merchantId: string; amount: number; currency: string },
): Promise<string> {
  const merchant = await deps.merchants.getMerchant(input.merchantId);
  const route = selectConnectors(merchant?.routing ?? DEFAULT_ROUTING, { amount: input.amount, currency: input.currency });
  return route[0] ?? DEFAULT_CONNECTOR_ID;
}

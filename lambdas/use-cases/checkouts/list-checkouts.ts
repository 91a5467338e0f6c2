/**
 * Find or list a merchant's checkouts (GET /v1/checkouts).
 *
 * Primary course:
 * 1. With a merchant_order_ref: the one checkout with that ref (404 if none), in full.
 * 2. Otherwise: one page of the newest checkouts, each after lazy expiry with its instrument (no timeline).
 */
import { NotFoundError } from '../../errors';
import { expireIfDue } from '../../domain/checkout-expiry';
import type { Checkout } from '../../domain/model';
import type { CheckoutQueries } from '../../ports/checkouts';
import { loadCheckoutDetails, withLedger, type CheckoutDetails, type CheckoutDetailsDependencies } from './checkout-details';

const DEFAULT_LIST_LIMIT = 10;

export interface ListCheckoutsDependencies extends CheckoutDetailsDependencies {
  queries: CheckoutQueries;
}

export interface ListCheckoutsInput {
  merchantId: string;
  merchantOrderRef?: string;
  limit?: number;
  cursor?: string;
  now: Date;
}

export type ListCheckoutsOutput =
  | ({ kind: 'found' } & CheckoutDetails)
  | { kind: 'page'; checkouts: Array<Omit<CheckoutDetails, 'events'>>; nextCursor: string | undefined };

export async function listCheckouts(deps: ListCheckoutsDependencies, input: ListCheckoutsInput): Promise<ListCheckoutsOutput> {
  if (input.merchantOrderRef !== undefined) {
    const checkout = await deps.checkouts.findCheckoutByOrderRef(input.merchantId, input.merchantOrderRef);
    if (checkout === undefined)
      throw new NotFoundError('No checkout with this merchant_order_ref', { param: 'merchant_order_ref' });
    return { kind: 'found', ...(await loadCheckoutDetails(deps, checkout, input.now)) };
  }
  const page = await deps.queries.listCheckoutsByMerchant(input.merchantId, {
    limit: input.limit ?? DEFAULT_LIST_LIMIT,
    ...(input.cursor !== undefined ? { cursor: input.cursor } : {}),
  });
  const expired: Checkout[] = [];
  for (const checkout of page.checkouts) expired.push(await expireIfDue(deps.checkouts, checkout, input.now));
  // Each checkout's amounts are read from its instrument (the money ledger): one read per checkout, in parallel.
  return {
    kind: 'page',
    checkouts: await Promise.all(expired.map((checkout) => withLedger(deps.instruments, checkout))),
    nextCursor: page.nextCursor,
  };
}

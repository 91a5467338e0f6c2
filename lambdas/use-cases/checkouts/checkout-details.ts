/**
 * What the merchant sees of one checkout (GET, lookup by merchant_order_ref, cancel): the checkout
 * after lazy expiry, with a manual-capture hold's balances read from its instrument, and its timeline.
 */
import { paymentWithInstrumentBalances } from '../../domain/authorization-hold';
import { expireIfDue } from '../../domain/checkout-expiry';
import type { Checkout, CheckoutEvent, Merchant } from '../../domain/model';
import { NotFoundError } from '../../errors';
import type { CheckoutRepository } from '../../ports/checkouts';
import type { InstrumentRepository } from '../../ports/instruments';

export interface CheckoutDetails {
  checkout: Checkout;
  events: CheckoutEvent[];
}

export interface CheckoutDetailsDependencies {
  checkouts: CheckoutRepository;
  instruments: InstrumentRepository;
}

/** The merchant's full view of `checkout` at `now`: lazy expiry, held balances, timeline. */
export async function loadCheckoutDetails(
  deps: CheckoutDetailsDependencies,
  checkout: Checkout,
  now: Date,
): Promise<CheckoutDetails> {
  const current = await withHeldBalances(deps.instruments, await expireIfDue(deps.checkouts, checkout, now));
  const events = await deps.checkouts.listEvents(current.id);
  return { checkout: current, events };
}

/**
 * The merchant's own checkout; 404 when it does not exist or belongs to someone else (never 403:
 * a merchant must not learn that another merchant's id exists).
 */
export async function loadOwnedCheckout(
  checkouts: CheckoutRepository,
  merchant: Merchant,
  checkoutId: string,
): Promise<Checkout> {
  const checkout = await checkouts.getCheckout(checkoutId);
  if (checkout === undefined || checkout.merchantId !== merchant.id) throw new NotFoundError('No such checkout', { param: 'id' });
  return checkout;
}

/**
 * A manual-capture checkout after the hand-over: the merchant captures and revokes on the
 * instrument, so its balances are the payment's truth (captured, capturable, voided). Lists show
 * the saga's record (one read per checkout would be too costly there).
 */
async function withHeldBalances(instruments: InstrumentRepository, checkout: Checkout): Promise<Checkout> {
  const payment = checkout.payment;
  if (checkout.captureMethod !== 'manual' || payment?.authorizationExpiresAt === undefined || payment.instrumentId === undefined)
    return checkout;
  const instrument = await instruments.getInstrument(payment.instrumentId);
  return instrument === undefined ? checkout : { ...checkout, payment: paymentWithInstrumentBalances(payment, instrument) };
}

/**
 * What the merchant sees of one checkout (GET, lookup by merchant_order_ref, cancel): the checkout
 * after lazy expiry, its financial instrument (the money ledger its amounts are read from; a
 * manual-capture hold's attempt status too), and its timeline.
 */
import { paymentWithInstrumentBalances } from '../../domain/authorization-hold';
import { expireIfDue } from '../../domain/checkout-expiry';
import type { Checkout, CheckoutEvent, Merchant } from '../../domain/model';
import type { FinancialInstrument } from '../../domain/instrument-model';
import { NotFoundError } from '../../errors';
import type { CheckoutRepository } from '../../ports/checkouts';
import type { InstrumentRepository } from '../../ports/instruments';
import { instrumentOfPayment } from '../payment-ledger';

export interface CheckoutDetails {
  checkout: Checkout;
  /** The payment's instrument (undefined when it has none yet). */
  instrument: FinancialInstrument | undefined;
  events: CheckoutEvent[];
}

export interface CheckoutDetailsDependencies {
  checkouts: CheckoutRepository;
  /** Only the instrument read of the checkout's payment (its ledger). */
  instruments: Pick<InstrumentRepository, 'getInstrument'>;
  /** The checkout's webhook delivery rows, derived from its result events (lambdas/domain/webhook-result-events.ts). */
  webhookRows?: (checkout: Checkout) => Promise<CheckoutEvent[]>;
}

/**
 * The merchant's full view of `checkout` at `now`: lazy expiry, its ledger, timeline. The ledger,
 * the timeline and the webhook rows are read at the same time (one round trip instead of two),
 * except for a held manual-capture checkout, whose webhook rows depend on the ledgered payment.
 */
export async function loadCheckoutDetails(
  deps: CheckoutDetailsDependencies,
  checkout: Checkout,
  now: Date,
): Promise<CheckoutDetails> {
  const current = await expireIfDue(deps.checkouts, checkout, now);
  if (isLedgerHeld(current)) {
    const ledgered = await withLedger(deps.instruments, current);
    const [stored, webhookRows] = await Promise.all([
      deps.checkouts.listEvents(current.id, current),
      deps.webhookRows?.(ledgered.checkout) ?? [],
    ]);
    return { ...ledgered, events: mergeByTime(stored, webhookRows) };
  }
  const [ledgered, stored, webhookRows] = await Promise.all([
    withLedger(deps.instruments, current),
    deps.checkouts.listEvents(current.id, current),
    deps.webhookRows?.(current) ?? [],
  ]);
  return { ...ledgered, events: mergeByTime(stored, webhookRows) };
}

/** A manual-capture authorization handed to the merchant: its attempt status is read from the instrument. */
function isLedgerHeld(checkout: Checkout): boolean {
  return checkout.captureMethod === 'manual' && checkout.payment?.authorizationExpiresAt !== undefined;
}

/** `extra` (oldest first) slotted into `rows` by time; the order of `rows` itself is kept. */
function mergeByTime(rows: CheckoutEvent[], extra: CheckoutEvent[]): CheckoutEvent[] {
  if (extra.length === 0) return rows;
  const merged: CheckoutEvent[] = [];
  let next = 0;
  for (const row of rows) {
    while (next < extra.length && extra[next]!.at < row.at) merged.push(extra[next++]!);
    merged.push(row);
  }
  return [...merged, ...extra.slice(next)];
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
 * The checkout with its instrument: the payment's amounts are read from it. A manual-capture
 * checkout after the hand-over also shows the held attempt's status from it (the merchant captures
 * and revokes on the instrument, so its balances are the payment's truth).
 */
export async function withLedger(
  instruments: Pick<InstrumentRepository, 'getInstrument'>,
  checkout: Checkout,
): Promise<{ checkout: Checkout; instrument: FinancialInstrument | undefined }> {
  const payment = checkout.payment;
  const instrument = await instrumentOfPayment(instruments, payment);
  if (instrument === undefined || payment === undefined) return { checkout, instrument };
  return {
    checkout: isLedgerHeld(checkout) ? { ...checkout, payment: paymentWithInstrumentBalances(payment, instrument) } : checkout,
    instrument,
  };
}

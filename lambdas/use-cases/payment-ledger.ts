/**
 * The checkout's money, read from its financial instrument: the one money ledger (DESIGN Part 2
 * "Payment attempts"). Every step, view and webhook that needs an amount captured asks here.
 */
import { paymentBalances, type PaymentBalances } from '../domain/authorization-hold';
import type { FinancialInstrument } from '../domain/instrument-model';
import type { Checkout, CheckoutPayment } from '../domain/model';
import type { InstrumentRepository } from '../ports/instruments';

/** The payment's instrument; undefined when it has none yet (not authorized, or declined). */
export async function instrumentOfPayment(
  instruments: Pick<InstrumentRepository, 'getInstrument'>,
  payment: Pick<CheckoutPayment, 'instrumentId'> | undefined,
): Promise<FinancialInstrument | undefined> {
  return payment?.instrumentId === undefined ? undefined : await instruments.getInstrument(payment.instrumentId);
}

/** What the payment captured and can still capture, from its instrument (zero without a payment). */
export async function balancesOfPayment(
  instruments: Pick<InstrumentRepository, 'getInstrument'>,
  payment: CheckoutPayment | undefined,
): Promise<PaymentBalances> {
  if (payment === undefined) return { capturedAmount: 0, capturableAmount: 0 };
  return paymentBalances(payment, await instrumentOfPayment(instruments, payment));
}

/**
 * Renders the checkout as the API shows it (webhooks' `data.object`), its amounts read from
 * `instrument` (undefined when the payment has none yet).
 */
export type RenderCheckout = (checkout: Checkout, instrument: FinancialInstrument | undefined) => Record<string, unknown>;

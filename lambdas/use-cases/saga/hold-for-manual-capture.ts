/**
 * Manual capture's hand-over, called by CapturePayment once inventory is confirmed (or not
 * required), and by the reconciliation sweep finishing a crashed saga: one transaction makes the
 * checkout's instrument `active` (the merchant may now _capture / _revoke it) and writes the
 * expiry watch (warning and expiry times from the authorization time); then the checkout records
 * `authorizationExpiresAt` with an `authorization_held` timeline row. Both writes are idempotent,
 * so a re-run completes it.
 */
import { authorizationDeadlines, DEFAULT_AUTHORIZATION_POLICY, paymentBalances } from '../../domain/authorization-hold';
import type { Checkout, CheckoutPayment } from '../../domain/model';
import { InstrumentMissingError } from '../../errors';
import { instrumentOfPayment } from '../payment-ledger';
import { loadCheckout, type SagaPorts } from './shared';

export type HoldForManualCapturePorts = Pick<
  SagaPorts,
  'checkouts' | 'instruments' | 'authorizationHolds' | 'authorizationPolicy'
>;

export async function holdForManualCapture(
  deps: HoldForManualCapturePorts,
  checkout: Checkout,
  payment: CheckoutPayment,
): Promise<{ capturedAmount: number; held: true }> {
  const instrument = await instrumentOfPayment(deps.instruments, payment);
  // What the merchant captured on the held instrument so far: the ledger's figure.
  if (payment.authorizationExpiresAt !== undefined)
    return { capturedAmount: paymentBalances(payment, instrument).capturedAmount, held: true };
  if (instrument === undefined) {
    throw new InstrumentMissingError(
      `Checkout ${checkout.id} asks for manual capture, but no financial instrument holds its authorization`,
    );
  }
  const { warnAt, expiresAt } = authorizationDeadlines(
    instrument.createdAt,
    deps.authorizationPolicy ?? DEFAULT_AUTHORIZATION_POLICY,
  );
  await deps.authorizationHolds.holdAuthorization(
    {
      instrumentId: instrument.id,
      checkoutId: checkout.id,
      merchantId: checkout.merchantId,
      authorizedAt: instrument.createdAt,
      warnAt,
      expiresAt,
      stage: 'held',
    },
    new Date(),
  );
  const current = await loadCheckout(deps, checkout.id);
  const currentPayment = current.payment ?? payment;
  if (currentPayment.authorizationExpiresAt === undefined) {
    await deps.checkouts.updatePayment(checkout.id, { ...currentPayment, authorizationExpiresAt: expiresAt }, current.version, {
      type: 'authorization_held',
      data: {
        amount: instrument.capturableAmount,
        instrument_id: instrument.id,
        expires_at: expiresAt,
        expiring_warning_at: warnAt,
      },
    });
  }
  return { capturedAmount: paymentBalances(currentPayment, instrument).capturedAmount, held: true };
}

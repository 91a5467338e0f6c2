/**
 * Test payments described by the facts a test cares about (authorized as `auth_1`, captured,
 * voided...), built as the attempt list the code stores, through the same reading that turns
 * older flag-style items into attempts (lambdas/domain/payment-attempt.ts).
 */
import type { Checkout, CheckoutPayment } from '../../lambdas/domain/model';
import { paymentFromFlags, type FlaggedPayment } from '../../lambdas/domain/payment-attempt';

/** A payment of checkout `chk_1` (10050 USD, processing) unless `checkout` says otherwise. */
export function aPayment(
  facts: FlaggedPayment,
  checkout: Partial<Pick<Checkout, 'id' | 'amount' | 'currency' | 'createdAt' | 'status' | 'failureReason'>> = {},
): CheckoutPayment {
  return paymentFromFlags(
    { id: 'chk_1', amount: 10050, currency: 'USD', createdAt: '2026-01-01T00:00:00.000Z', status: 'processing', ...checkout },
    facts,
  );
}

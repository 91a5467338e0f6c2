/**
 * paymentSourceFor when the vault refuses to reveal a payment method (detached or deleted): a
 * decline when the attempt never reached the PSP, but a PSP error (the saga then voids whatever
 * the PSP filed under the checkout) when an earlier call of the same attempt went out with the
 * card and its answer was lost.
 */
import { describe, expect, it } from 'vitest';
import type { Checkout, CheckoutPayment } from '../../../lambdas/domain/model';
import type { AttemptStatus } from '../../../lambdas/domain/payment-attempt';
import { PaymentDeclinedError, PaymentMethodUnusableError, PspRejectedError } from '../../../lambdas/errors';
import { paymentSourceFor, type PaymentSourceVault } from '../../../lambdas/use-cases/payment-source';

const checkout = { id: 'chk_source', merchantId: 'mer_source' } as unknown as Checkout;

function paymentIn(status: AttemptStatus): CheckoutPayment {
  return {
    paymentMethodId: 'pm_shredded',
    offSession: true,
    attempts: [{ id: 'att_1', connector: 'sandbox', status, amount: 2500, currency: 'USD' }],
  } as unknown as CheckoutPayment;
}

const refusingVault: PaymentSourceVault = {
  revealForAuthorization: () =>
    Promise.reject(
      new PaymentMethodUnusableError('The payment method was deleted', {
        code: 'payment_method_deleted',
        param: 'payment_method',
      }),
    ),
  destroyCvc: () => Promise.resolve(),
};

describe('paymentSourceFor with a payment method the vault refuses', () => {
  it('declines with the refusal as decline code when the attempt has not reached the PSP', async () => {
    // Act
    const result = paymentSourceFor({ vault: refusingVault }, checkout, paymentIn('authorizing'));
    // Assess
    await expect(result).rejects.toBeInstanceOf(PaymentDeclinedError);
    await expect(result).rejects.toThrow('payment_method_deleted');
  });

  it('fails as a PSP error, not a decline, when an earlier call of the attempt may have authorized (outcome_unknown)', async () => {
    // Act
    const result = paymentSourceFor({ vault: refusingVault }, checkout, paymentIn('outcome_unknown'));
    // Assess
    await expect(result).rejects.toBeInstanceOf(PspRejectedError);
    await expect(result).rejects.toThrow(/payment_method_deleted.*outcome is unknown/);
  });
});

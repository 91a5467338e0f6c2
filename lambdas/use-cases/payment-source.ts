/**
 * The saga's AuthorizePayment step asks this module what pays the current attempt: the buyer's
 * single-use PSP token, or a vaulted payment method whose card the vault reveals for this one
 * connector call (with its card-on-file facts). After the PSP's definitive answer it destroys the
 * CVC (the first authorization with a payment method is its last use of the CVC). The reveal is a
 * conditional write on "still active", so a payment method detached or deleted before it is never
 * decrypted: the attempt is declined with `payment_method_detached` / `payment_method_deleted`,
 * unless an earlier call of the same attempt may have authorized (outcome unknown): then the
 * attempt fails as a PSP error, so the saga voids what the PSP holds under the checkout.
 */
import type { Checkout, CheckoutPayment } from '../domain/model';
import { NotFoundError, PaymentDeclinedError, PaymentMethodUnusableError, PspRejectedError } from '../errors';
import type { CardVault, SavedPaymentMethods } from '../ports/card-vault';
import type { CustomerRepository } from '../ports/customers';
import type { PaymentSource } from '../ports/payments';
import { savePaymentMethodForCustomer } from './card-vault';

/** The vault as the AuthorizePayment step uses it; only its function holds kms:Decrypt (bindCardVault 'reveal'). */
export type PaymentSourceVault = Pick<CardVault, 'revealForAuthorization' | 'destroyCvc'>;

export interface PaymentSourceDependencies {
  /** Absent in functions without vault access: a `pm_` payment then fails loudly (never silently). */
  vault?: PaymentSourceVault;
}

/**
 * What pays `payment`'s current attempt. A refused reveal (detached, deleted) is a decline with the
 * refusal as decline code, so the saga ends the checkout `failed` without any PSP call.
 */
export async function paymentSourceFor(
  deps: PaymentSourceDependencies,
  checkout: Checkout,
  payment: CheckoutPayment,
  now: Date = new Date(),
): Promise<PaymentSource> {
  if (payment.paymentMethodId === undefined) {
    if (payment.paymentToken === undefined) throw new PspRejectedError(`Checkout ${checkout.id} has nothing to pay with`);
    return { type: 'token', token: payment.paymentToken };
  }
  if (deps.vault === undefined) throw new PspRejectedError('This function has no card vault access to pay with a payment method');
  const attempt = payment.attempts.at(-1);
  try {
    const { paymentMethod, card } = await deps.vault.revealForAuthorization({
      merchantId: checkout.merchantId,
      paymentMethodId: payment.paymentMethodId,
      purpose: attempt?.id ?? checkout.id,
      now,
    });
    const offSession = payment.offSession === true;
    return {
      type: 'card',
      card,
      cardOnFile: {
        initiator: offSession ? 'merchant' : 'customer',
        stored: offSession || paymentMethod.customerId !== undefined,
        ...(offSession && paymentMethod.networkTransactionId !== undefined
          ? { networkTransactionId: paymentMethod.networkTransactionId }
          : {}),
      },
    };
  } catch (error) {
    if (!(error instanceof PaymentMethodUnusableError)) throw error;
    // This attempt's earlier call went out with the card and its answer was lost (outcome_unknown):
    // the PSP may hold an authorization made before the shred. Not a decline (that path voids
    // nothing): the saga's failure path voids whatever the PSP filed under the checkout.
    if (attempt?.status === 'outcome_unknown')
      throw new PspRejectedError(
        `Payment method ${payment.paymentMethodId} became unusable (${error.code}) after an authorization whose outcome is unknown`,
        { cause: error },
      );
    throw new PaymentDeclinedError(error.code, { cause: error });
  }
}

/**
 * After the PSP's definitive answer (authorized, pending or declined) to a payment-method
 * attempt: the CVC is destroyed (idempotent), and the network transaction id of a customer-initiated
 * authorization is stored on the payment method (the first one stays). Transient failures keep the CVC: the same-key retry
 * must send the same card.
 */
export async function settlePaymentSource(
  deps: PaymentSourceDependencies,
  checkout: Checkout,
  payment: CheckoutPayment,
  answer?: { networkTransactionId?: string },
  now: Date = new Date(),
): Promise<void> {
  if (payment.paymentMethodId === undefined || deps.vault === undefined) return;
  // A customer-initiated authorization's network transaction id is kept on the payment method for its MITs.
  const ntid = payment.offSession === true ? undefined : answer?.networkTransactionId;
  await deps.vault.destroyCvc(checkout.merchantId, payment.paymentMethodId, now, ntid);
}

/** What saving a checkout's payment method on its customer needs (the CapturePayment function, vault access 'attach'). */
export interface SavePaymentMethodDependencies {
  customers?: Pick<CustomerRepository, 'getCustomer'>;
  savedPaymentMethods?: Pick<SavedPaymentMethods, 'attachToCustomer'>;
}

/**
 * A checkout created with `customer: "cus_..."` and `save_payment_method: true` that is about to
 * be recorded succeeded: its payment method is attached to the customer. Idempotent (the attach is
 * a conditional write that accepts the same customer again), so the step may run twice. The payment
 * is already captured: a customer deleted or a payment method detached meanwhile is not saved, and
 * the checkout still succeeds (a detached or shredded payment method never comes back to life).
 */
export async function savePaymentMethodOnSuccess(
  deps: SavePaymentMethodDependencies,
  checkout: Checkout,
  now: Date = new Date(),
): Promise<'saved' | 'not_requested' | 'refused'> {
  const paymentMethodId = checkout.payment?.paymentMethodId;
  if (
    checkout.savePaymentMethod !== true ||
    checkout.customerId === undefined ||
    paymentMethodId === undefined ||
    checkout.payment?.saveDeclined === true
  )
    return 'not_requested';
  if (deps.customers === undefined || deps.savedPaymentMethods === undefined)
    throw new PspRejectedError('This function has no card vault access to save a payment method');
  try {
    await savePaymentMethodForCustomer(
      { customers: deps.customers, savedPaymentMethods: deps.savedPaymentMethods },
      { merchantId: checkout.merchantId, paymentMethodId, customerId: checkout.customerId, now },
    );
    return 'saved';
  } catch (error) {
    if (error instanceof NotFoundError || error instanceof PaymentMethodUnusableError) return 'refused';
    throw error;
  }
}

/**
 * Use cases of the card vault and customers. Primary courses:
 * - tokenizeCard: check the card (Luhn, brand, length, expiry, CVC) -> vault it -> the `pm_`.
 * - checkPaymentMethodForPayment (pay path, later): load the merchant's `pm_` -> decide whether it
 *   may pay this checkout (domain) -> the payment method, or the refusal as a 422.
 * - savePaymentMethodForCustomer (pay path, later, once a checkout with `save_payment_method`
 *   succeeds): attach the `pm_` to the checkout's customer.
 * - deleteCustomer: fence the customer off (tombstone, conditional) -> crypto-shred its saved cards.
 */
import { checkCard, type CardInput } from '../domain/card';
import type { Customer } from '../domain/customer';
import { decidePaymentMethodUse, type PaymentMethod, type PaymentMethodRefusal } from '../domain/payment-method';
import { NotFoundError, PaymentMethodUnusableError, ValidationError } from '../errors';
import type { CardVault, SavedPaymentMethods } from '../ports/card-vault';
import type { CustomerRepository } from '../ports/customers';

/** Checks the card and stores it in the vault. Bad cards are 422 with the card field as `param`. */
export async function tokenizeCard(
  deps: { vault: Pick<CardVault, 'tokenizeCard'> },
  input: { merchantId: string; checkoutId?: string; card: CardInput; now: Date },
): Promise<PaymentMethod> {
  const checked = checkCard(input.card, input.now);
  if (!checked.ok)
    throw new ValidationError(checked.problem.message, { status: 422, code: checked.problem.code, param: checked.problem.param });
  return await deps.vault.tokenizeCard({
    merchantId: input.merchantId,
    card: checked.card,
    ...(input.checkoutId !== undefined ? { checkoutId: input.checkoutId } : {}),
    now: input.now,
  });
}

const REFUSAL_MESSAGES: Record<PaymentMethodRefusal, string> = {
  payment_method_detached: 'The payment method was detached from its customer and can no longer be used',
  payment_method_deleted: "The payment method's customer was deleted; its card data is destroyed",
  payment_method_expired: "The payment method's card has expired",
  payment_method_checkout_mismatch: 'The payment method was created for another checkout',
  payment_method_customer_mismatch: "The payment method is saved on another customer than the checkout's",
  payment_method_not_saved: "An off-session payment needs a payment method saved on the checkout's customer",
};

/**
 * The pay path's gate for `{"payment_method":"pm_..."}`: the merchant's payment method, if it may
 * pay this checkout. Unknown or another merchant's: 404 (`param: payment_method`). Refused: 422
 * PaymentMethodUnusableError with the refusal as code. This reads metadata only (no decryption);
 * the connector then calls CardVault.revealForAuthorization, which re-checks detach/delete
 * atomically.
 */
export async function checkPaymentMethodForPayment(
  deps: { vault: Pick<CardVault, 'getPaymentMethod'> },
  input: { merchantId: string; paymentMethodId: string; checkoutId: string; customerId?: string; offSession: boolean; now: Date },
): Promise<PaymentMethod> {
  const paymentMethod = await deps.vault.getPaymentMethod(input.merchantId, input.paymentMethodId);
  if (paymentMethod === undefined)
    throw new NotFoundError(`No payment method ${input.paymentMethodId}`, { param: 'payment_method' });
  const decision = decidePaymentMethodUse(paymentMethod, {
    checkoutId: input.checkoutId,
    ...(input.customerId !== undefined ? { customerId: input.customerId } : {}),
    offSession: input.offSession,
    now: input.now,
  });
  if (!decision.usable)
    throw new PaymentMethodUnusableError(REFUSAL_MESSAGES[decision.refusal], { code: decision.refusal, param: 'payment_method' });
  return paymentMethod;
}

/**
 * Saves a payment method on a customer: what the pay path calls once a checkout created with
 * `save_payment_method: true` and a customer succeeds. Idempotent (a saga step may run twice).
 * The customer must be the merchant's and active (checked again inside the attach transaction).
 */
export async function savePaymentMethodForCustomer(
  deps: {
    customers: Pick<CustomerRepository, 'getCustomer'>;
    savedPaymentMethods: Pick<SavedPaymentMethods, 'attachToCustomer'>;
  },
  input: { merchantId: string; paymentMethodId: string; customerId: string; now: Date },
): Promise<PaymentMethod> {
  const customer = await deps.customers.getCustomer(input.merchantId, input.customerId);
  if (customer === undefined || customer.status !== 'active')
    throw new NotFoundError(`No customer ${input.customerId}`, { param: 'customer' });
  return await deps.savedPaymentMethods.attachToCustomer(input.merchantId, input.paymentMethodId, input.customerId, input.now);
}

/**
 * Deletes a customer: first the tombstone (after it, no card can be attached: the attach
 * transaction checks the customer is active), then every saved card is crypto-shredded. A
 * repeated DELETE (e.g. after a crash between the two) runs the shred again and finishes it.
 */
export async function deleteCustomer(
  deps: {
    customers: Pick<CustomerRepository, 'markCustomerDeleted'>;
    savedPaymentMethods: Pick<SavedPaymentMethods, 'shredCustomerPaymentMethods'>;
  },
  input: { merchantId: string; customerId: string; now: Date },
): Promise<{ customer: Customer; shreddedNow: number }> {
  const customer = await deps.customers.markCustomerDeleted(input.merchantId, input.customerId, input.now);
  if (customer === undefined) throw new NotFoundError(`No customer ${input.customerId}`, { param: 'id' });
  const shreddedNow = await deps.savedPaymentMethods.shredCustomerPaymentMethods(input.merchantId, input.customerId, input.now);
  return { customer, shreddedNow };
}

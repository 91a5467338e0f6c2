/**
 * Payment methods (`pm_...`): what Paystep keeps about a vaulted card outside the ciphertext, and
 * the one rule the pay path asks before it charges one: may this payment method pay this checkout?
 * Pure (no I/O). The card itself only ever leaves the vault as a SensitiveCard.
 */
import { isExpired, type CardBrand } from './card';

/** Well-formed payment method ids only reach the vault; anything else is 404 at once. */
export const PAYMENT_METHOD_ID_PATTERN = /^pm_[A-Za-z0-9_-]{1,64}$/;

/** `active`: can pay. `detached`: removed from its customer, card data destroyed. `shredded`: its customer was deleted, card data destroyed. */
export type PaymentMethodStatus = 'active' | 'detached' | 'shredded';

export interface PaymentMethodCard {
  readonly brand: CardBrand;
  readonly last4: string;
  readonly expMonth: number;
  readonly expYear: number;
  /** Keyed HMAC of the number, per merchant: the same card gives the same fingerprint at one merchant only. */
  readonly fingerprint: string;
  /** ISO 3166-1 alpha-2 issuing country from the BIN at vault time (lambdas/domain/card-country.ts); routing only, never shown. */
  readonly country?: string;
}

export interface PaymentMethod {
  readonly id: string;
  readonly merchantId: string;
  readonly type: 'card';
  readonly card: PaymentMethodCard;
  readonly status: PaymentMethodStatus;
  /** The customer it is saved on (absent: a one-off payment method). */
  readonly customerId?: string;
  /** The checkout whose client secret created it: a one-off payment method pays only that checkout. */
  readonly checkoutId?: string;
  /** False once the first authorization destroyed the CVC (or none was given). */
  readonly cvcAvailable: boolean;
  /** The network transaction id of its first customer-initiated authorization: every MIT quotes it. */
  readonly networkTransactionId?: string;
  readonly createdAt: string;
  readonly detachedAt?: string;
  readonly shreddedAt?: string;
}

/** Why a payment method may not pay; each is also the API error code the pay path answers. */
export type PaymentMethodRefusal =
  | 'payment_method_detached'
  | 'payment_method_deleted'
  | 'payment_method_expired'
  | 'payment_method_checkout_mismatch'
  | 'payment_method_customer_mismatch'
  | 'payment_method_not_saved';

export interface PaymentMethodUse {
  /** The checkout to be paid. */
  readonly checkoutId: string;
  /** The checkout's customer (`cus_...`), if it has one. */
  readonly customerId?: string;
  /** Merchant-initiated (off-session): only a payment method saved on the checkout's customer may pay. */
  readonly offSession: boolean;
  readonly now: Date;
}

/**
 * Decides whether `paymentMethod` may pay the checkout described by `use` (same merchant is the
 * caller's job: a foreign payment method is 404 before it gets here).
 * - detached or shredded: never;
 * - expired: never;
 * - saved on a customer: only for a checkout of that same customer;
 * - one-off (no customer) created by a checkout's client secret: only that checkout;
 * - off-session: only a payment method saved on the checkout's customer.
 */
export function decidePaymentMethodUse(
  paymentMethod: PaymentMethod,
  use: PaymentMethodUse,
): { usable: true } | { usable: false; refusal: PaymentMethodRefusal } {
  const refuse = (refusal: PaymentMethodRefusal) => ({ usable: false as const, refusal });
  if (paymentMethod.status === 'detached') return refuse('payment_method_detached');
  if (paymentMethod.status === 'shredded') return refuse('payment_method_deleted');
  if (isExpired(paymentMethod.card.expMonth, paymentMethod.card.expYear, use.now)) return refuse('payment_method_expired');
  if (paymentMethod.customerId !== undefined) {
    if (paymentMethod.customerId !== use.customerId) return refuse('payment_method_customer_mismatch');
    return { usable: true };
  }
  if (use.offSession) return refuse('payment_method_not_saved');
  if (paymentMethod.checkoutId !== undefined && paymentMethod.checkoutId !== use.checkoutId)
    return refuse('payment_method_checkout_mismatch');
  return { usable: true };
}

const REDACTED = '[card redacted]';

/**
 * The card as the vault reveals it for one authorization. The number and CVC are readable only
 * through their getters; JSON.stringify, util.inspect, template strings and structured loggers
 * all see `[card redacted]`, so an accidental `logger.info({ card })` cannot leak the number.
 */
export class SensitiveCard {
  readonly #number: string;
  readonly #cvc: string | undefined;

  constructor(
    readonly paymentMethodId: string,
    number: string,
    readonly expMonth: number,
    readonly expYear: number,
    cvc: string | undefined,
  ) {
    this.#number = number;
    this.#cvc = cvc;
  }

  /** The full card number (digits only): hand it to the connector's request and nowhere else. */
  revealNumber(): string {
    return this.#number;
  }

  /** The CVC, while the vault still holds it (until the first authorization with this payment method). */
  revealCvc(): string | undefined {
    return this.#cvc;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

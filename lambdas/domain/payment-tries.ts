/**
 * Another card after a decline (DESIGN Part 2): a checkout created with `max_payment_attempts`
 * (1-5, default 1 = Part 1's behaviour) lets the buyer try that many cards. A declined or
 * failed-authentication try with tries left puts the checkout back to `open` with
 * `last_payment_error`; a later pay starts the next try: a new attempt, its own saga execution
 * and its own PSP idempotency keys (try 1 keeps Part 1's names, so nothing already stored moves).
 * Out of tries the checkout fails as in Part 1. Pure: no AWS import.
 */
import type { Checkout, CheckoutPayment } from './model';
import type { PaymentAttempt } from './payment-attempt';

export const DEFAULT_MAX_PAYMENT_ATTEMPTS = 1;
export const MAX_PAYMENT_ATTEMPTS_LIMIT = 5;

/** Failure reasons after which the buyer may try another card (when tries are left). */
const RETRYABLE_FAILURES: ReadonlySet<string> = new Set(['payment_declined', 'authentication_failed']);

/** The try this payment is (1 for the first pay). */
export function tryNumberOf(payment: Pick<CheckoutPayment, 'tries'> | undefined): number {
  return payment?.tries ?? 1;
}

export function maxTriesOf(checkout: Pick<Checkout, 'maxPaymentAttempts'>): number {
  return checkout.maxPaymentAttempts ?? DEFAULT_MAX_PAYMENT_ATTEMPTS;
}

/** Whether a try that failed with `reason` reopens the checkout for another card instead of failing it. */
export function reopensForAnotherCard(checkout: Pick<Checkout, 'maxPaymentAttempts' | 'payment'>, reason: string): boolean {
  return RETRYABLE_FAILURES.has(reason) && tryNumberOf(checkout.payment) < maxTriesOf(checkout);
}

/**
 * A key scoped to one try of one checkout: `<checkout>:<suffix>` for the first try (Part 1's
 * keys), `<checkout>:t<n>:<suffix>` after, so a new try never replays the last one's answer.
 */
export function tryScopedKey(checkoutId: string, tryNumber: number, suffix: string): string {
  return tryNumber <= 1 ? `${checkoutId}:${suffix}` : `${checkoutId}:t${tryNumber}:${suffix}`;
}

/**
 * The saga execution's name for one try: the checkout id for the first (Part 1), `<id>-t<n>`
 * after. Deterministic, so duplicate pays during a try start at most one execution.
 * Step Functions names allow [0-9A-Za-z_-], 80 characters.
 */
export function executionNameForTry(checkoutId: string, tryNumber: number): string {
  const base = checkoutId.replace(/[^0-9A-Za-z_-]/g, '_');
  return (tryNumber <= 1 ? base : `${base}-t${tryNumber}`).slice(0, 80);
}

/** The payment of the next try: earlier attempts kept (the history), the new one current. */
export function paymentForNextTry(
  previous: CheckoutPayment | undefined,
  next: {
    paymentToken?: string;
    paymentMethodId?: string;
    offSession?: boolean;
    saveDeclined?: true;
    route?: string[];
    threeDsRequired?: true;
    attempt: PaymentAttempt;
  },
): CheckoutPayment {
  // What pays this try (a token, or a vaulted payment method) and its route: never carried over from the last try.
  const { attempt, ...paidWith } = next;
  if (previous === undefined) return { ...paidWith, attempts: [attempt] };
  return {
    ...paidWith,
    attempts: [...previous.attempts, attempt],
    tries: tryNumberOf(previous) + 1,
  };
}

/**
 * The tries that ended by reopening the checkout (each publishes one `payment.failed`): every try
 * before the current one, and the current one too while the checkout is open again.
 */
export function reopenedTries(checkout: Pick<Checkout, 'status' | 'payment'>): number[] {
  if (checkout.payment === undefined) return [];
  const current = tryNumberOf(checkout.payment);
  const last = checkout.status === 'open' ? current : current - 1;
  return Array.from({ length: Math.max(0, last) }, (_, index) => index + 1);
}

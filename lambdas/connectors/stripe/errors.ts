/**
 * Stripe SDK errors translated to Paystep's typed errors (lambdas/errors.ts), at the connector as
 * STYLE.md asks: a card error (402) is a decline with its code; 5xx, 429, 409 lock timeouts and
 * connection failures are PspUnavailableError (transient: the saga retries with the same
 * Idempotency-Key, which Stripe replays); a request timeout is PspTimeoutError (the outcome is
 * unknown until a status query or the same-key retry settles it); everything else (bad request,
 * wrong key, idempotency key reused with other parameters) is PspRejectedError.
 */
import Stripe from 'stripe';
import { PaymentDeclinedError, PspRejectedError, PspTimeoutError, PspUnavailableError, type PaystepError } from '../../errors';
import { declineCodeOf } from './status';

/** The SDK's own marker for "aborted: timeout reached" on a connection error's detail. */
const TIMEOUT_CODE = 'ETIMEDOUT';

export function translateStripeError(error: unknown, operation: string): PaystepError {
  if (!(error instanceof Stripe.errors.StripeError)) {
    return new PspUnavailableError(`Stripe ${operation} failed: ${error instanceof Error ? error.name : 'unknown error'}`, {
      cause: error,
    });
  }
  if (error instanceof Stripe.errors.StripeCardError) {
    return new PaymentDeclinedError(declineCodeOf({ code: error.code, decline_code: error.decline_code }), { cause: error });
  }
  if (error instanceof Stripe.errors.StripeConnectionError) {
    const detail = error.detail as { code?: unknown } | undefined;
    if (detail?.code === TIMEOUT_CODE || /timeout/i.test(error.message)) {
      return new PspTimeoutError(`Stripe did not answer ${operation} in time`, { cause: error });
    }
    return new PspUnavailableError(`Stripe unreachable for ${operation}`, { cause: error });
  }
  const status = error.statusCode ?? 0;
  if (
    status >= 500 ||
    status === 429 ||
    status === 409 ||
    error instanceof Stripe.errors.StripeAPIError ||
    error instanceof Stripe.errors.StripeRateLimitError
  ) {
    return new PspUnavailableError(`Stripe unavailable for ${operation}: HTTP ${status}${error.code ? ` ${error.code}` : ''}`, {
      cause: error,
    });
  }
  return new PspRejectedError(
    `Stripe refused ${operation}: HTTP ${status} ${error.rawType ?? error.type}${error.code ? ` ${error.code}` : ''}`,
    { cause: error },
  );
}

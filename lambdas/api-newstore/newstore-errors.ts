/**
 * NewStore's error vocabulary for what Paystep raises (docs/design.md, "NewStore adapter"): the
 * answer is `{"error_code","message"}` with one of NewStore's six codes, so NewStore can tell a
 * decline (do not retry) from an outage (retry with the same idempotency_key).
 */
import {
  ConcurrentModificationError,
  ConflictError,
  IdempotencyInFlightError,
  isPaystepError,
  PaymentDeclinedError,
  PspRejectedError,
  PspTimeoutError,
  PspUnavailableError,
  StoreUnavailableError,
} from '../errors';

/** Where unexpected errors are reported (the handler passes its Powertools logger). */
export interface NewStoreErrorLogger {
  error(message: string, extra: Record<string, unknown>): void;
}

export type NewStoreErrorCode =
  'internal_error' | 'retry_error' | 'instrument_error' | 'fraud_error' | 'rate_limit' | 'failed_command';

export interface NewStoreError {
  status: number;
  errorCode: NewStoreErrorCode;
  message: string;
  /** Seconds, for retry_error and rate_limit. */
  retryAfter?: number;
}

/** Paystep codes that say "this instrument cannot be used" when they answer a create. */
const INSTRUMENT_CODES = new Set([
  'invalid_payment_token',
  'psp_reference_not_found',
  'psp_reference_in_use',
  'currency_mismatch',
  'amount_exceeds_capturable',
  'amount_exceeds_refundable',
]);
/** Conflicts that clear up by themselves (a token authorization or a capture still running). */
const TRANSIENT_CONFLICTS = new Set(['instrument_pending', 'operation_in_progress']);

/**
 * NewStore's error codes for what Paystep raised. `phase` matters for refusals about the
 * instrument's data: at create they make the instrument unusable (instrument_error); on a later
 * command they refuse only that command (failed_command).
 * - instrument_error (402/422): the PSP declined; the PSP reference is unknown, taken, in another
 *   currency or too small (create); the PSP refused the token (create).
 * - failed_command (400/401/404/409/422): bad input, bad credentials, unknown instrument, more than
 *   capturable or refundable, a revoked instrument, the PSP refusing a capture/refund/void.
 * - retry_error (503/504): PSP outage or timeout (the operation stays pending and the retry with the
 *   same idempotency_key resumes it), a duplicate still running, a lost race, a pending instrument.
 * - rate_limit (429): our data store throttled the request.
 * - internal_error (500): anything unexpected (logged; no detail is returned).
 */
export function toNewStoreError(error: unknown, phase: 'create' | 'operate', logger?: NewStoreErrorLogger): NewStoreError {
  if (error instanceof PaymentDeclinedError)
    return { status: 402, errorCode: 'instrument_error', message: `The PSP declined the instrument: ${error.message}` };
  if (error instanceof PspRejectedError) {
    return phase === 'create'
      ? { status: 422, errorCode: 'instrument_error', message: error.message }
      : { status: 422, errorCode: 'failed_command', message: error.message };
  }
  if (error instanceof PspUnavailableError || error instanceof PspTimeoutError) {
    return {
      status: error.status,
      errorCode: 'retry_error',
      message: `${error.message}; retry with the same idempotency_key`,
      retryAfter: 1,
    };
  }
  if (error instanceof StoreUnavailableError)
    return { status: 429, errorCode: 'rate_limit', message: error.message, retryAfter: 1 };
  if (error instanceof IdempotencyInFlightError || error instanceof ConcurrentModificationError) {
    return { status: 503, errorCode: 'retry_error', message: error.message, retryAfter: 1 };
  }
  if (error instanceof ConflictError && TRANSIENT_CONFLICTS.has(error.code)) {
    return { status: 503, errorCode: 'retry_error', message: error.message, retryAfter: 1 };
  }
  if (isPaystepError(error) && error.status < 500) {
    if (phase === 'create' && INSTRUMENT_CODES.has(error.code))
      return { status: 422, errorCode: 'instrument_error', message: error.message };
    return { status: error.status, errorCode: 'failed_command', message: error.message };
  }
  if (isPaystepError(error)) return { status: 503, errorCode: 'retry_error', message: error.message, retryAfter: 1 };
  const failure = error instanceof Error ? error : new Error(String(error));
  logger?.error('Unhandled error in the NewStore adapter', {
    errorName: failure.name,
    errorMessage: failure.message,
    stack: failure.stack,
  });
  return { status: 500, errorCode: 'internal_error', message: 'An unexpected error occurred. Please retry later.' };
}

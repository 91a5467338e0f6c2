/**
 * Every error Paystep raises on purpose. Each has a literal `name` ending in `Error`: Step Functions
 * matches ASL `ErrorEquals` against that name (a test checks every name used in the ASL exists
 * here), and the HTTP layer maps `status` + `code` to the public error shape
 * `{"error":{"code","message","param"}}`. Anything else that escapes a handler is a 500 with a
 * generic message and no stack trace.
 */

/** Base class: an HTTP status and a stable snake_case code that API clients can switch on. */
export abstract class PaystepError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly param?: string;

  constructor(message: string, options?: ErrorOptions & { param?: string }) {
    super(message, options);
    if (options?.param !== undefined) this.param = options.param;
  }
}

// ---- Request errors (4xx) -------------------------------------------------------------------

/** Body or query is not what the endpoint accepts: malformed JSON, wrong type, missing field. */
export class ValidationError extends PaystepError {
  override readonly name = 'ValidationError';
  readonly status: number;
  readonly code: string;
  constructor(message: string, options: ErrorOptions & { param?: string; code?: string; status?: 400 | 413 | 415 | 422 } = {}) {
    super(message, options);
    this.status = options.status ?? 400;
    this.code = options.code ?? 'invalid_request';
  }
}

export class AuthenticationError extends PaystepError {
  override readonly name = 'AuthenticationError';
  readonly status = 401;
  readonly code = 'unauthorized';
}

export class ForbiddenError extends PaystepError {
  override readonly name = 'ForbiddenError';
  readonly status = 403;
  readonly code: string;
  constructor(message: string, options: ErrorOptions & { param?: string; code?: string } = {}) {
    super(message, options);
    this.code = options.code ?? 'forbidden';
  }
}

/** Also used when the resource exists but belongs to another merchant: never leak its existence. */
export class NotFoundError extends PaystepError {
  override readonly name = 'NotFoundError';
  readonly status = 404;
  readonly code = 'resource_not_found';
}

export class RouteNotFoundError extends PaystepError {
  override readonly name = 'RouteNotFoundError';
  readonly status = 404;
  readonly code = 'route_not_found';
}

/** The requested change conflicts with the resource's current state (e.g. cancel after pay). */
export class ConflictError extends PaystepError {
  override readonly name = 'ConflictError';
  readonly status = 409;
  readonly code: string;
  constructor(message: string, options: ErrorOptions & { param?: string; code?: string } = {}) {
    super(message, options);
    this.code = options.code ?? 'conflict';
  }
}

/** merchant_order_ref is already used by another checkout of the same merchant. */
export class DuplicateOrderRefError extends PaystepError {
  override readonly name = 'DuplicateOrderRefError';
  readonly status = 409;
  readonly code = 'duplicate_merchant_order_ref';
}

/** A request with the same Idempotency-Key from the same merchant is still being processed. */
export class IdempotencyInFlightError extends PaystepError {
  override readonly name = 'IdempotencyInFlightError';
  readonly status = 409;
  readonly code = 'idempotency_key_in_use';
}

/**
 * The one-write path lost the key: the completed idempotency record carried by the route's own
 * write found the key already held (the HTTP layer then replays, answers 409 or 422). A 409 if it
 * ever escaped, never a 500.
 */
export class IdempotencyKeyTakenError extends PaystepError {
  override readonly name = 'IdempotencyKeyTakenError';
  readonly status = 409;
  readonly code = 'idempotency_key_in_use';
  constructor(message = 'A request with this Idempotency-Key was already answered or is being processed') {
    super(message, { param: 'Idempotency-Key' });
  }
}

/** A checkout status transition the status machine does not allow. */
export class InvalidTransitionError extends PaystepError {
  override readonly name = 'InvalidTransitionError';
  readonly status = 409;
  readonly code = 'invalid_status_transition';
}

/** A conditional write lost a race (version moved). Callers re-read and decide again. */
export class ConcurrentModificationError extends PaystepError {
  override readonly name = 'ConcurrentModificationError';
  readonly status = 409;
  readonly code = 'concurrent_modification';
}

/** A merchant-configured URL Paystep refuses to call (SSRF guard): http in production, or a private, loopback, link-local or otherwise non-public address. */
export class UnsafeUrlError extends PaystepError {
  override readonly name = 'UnsafeUrlError';
  readonly status = 422;
  readonly code = 'unsafe_url';
}

/**
 * A payment method that exists but may not be used as asked: detached, deleted with its customer,
 * expired, saved on another customer, one-off for another checkout, or not attached (detach). The
 * code says which (lambdas/domain/payment-method.ts).
 */
export class PaymentMethodUnusableError extends PaystepError {
  override readonly name = 'PaymentMethodUnusableError';
  readonly status = 422;
  readonly code: string;
  constructor(message: string, options: ErrorOptions & { param?: string; code: string }) {
    super(message, options);
    this.code = options.code;
  }
}

// ---- Saga outcomes (caught in ASL and compensated) -------------------------------------------

/** The PSP declined the authorization (card declined, insufficient funds). Terminal, no retry. */
export class PaymentDeclinedError extends PaystepError {
  override readonly name = 'PaymentDeclinedError';
  readonly status = 402;
  readonly code = 'payment_declined';
}

/**
 * 3-D Secure did not authenticate the buyer: the challenge failed (or the PSP reported
 * authentication_failed). Terminal: the checkout fails `authentication_failed`; never fails over.
 */
export class AuthenticationFailedError extends PaystepError {
  override readonly name = 'AuthenticationFailedError';
  readonly status = 402;
  readonly code = 'authentication_failed';
}

/** The card requires 3-D Secure but no buyer is present (off-session): `authentication_required`. */
export class AuthenticationRequiredError extends PaystepError {
  override readonly name = 'AuthenticationRequiredError';
  readonly status = 402;
  readonly code = 'authentication_required';
}

/** The merchant answered the inventory confirmation with anything but 200. Never retried. */
export class InventoryRejectedError extends PaystepError {
  override readonly name = 'InventoryRejectedError';
  readonly status = 409;
  readonly code = 'inventory_rejected';
}

/** The merchant did not answer the inventory confirmation within 10 s. Never retried. */
export class InventoryTimeoutError extends PaystepError {
  override readonly name = 'InventoryTimeoutError';
  readonly status = 504;
  readonly code = 'inventory_timeout';
}

/** Refused connection, DNS failure, redirect, or a URL we refuse to call. Never retried. */
export class InventoryUnreachableError extends PaystepError {
  override readonly name = 'InventoryUnreachableError';
  readonly status = 502;
  readonly code = 'inventory_unreachable';
}

/** The PSP refused the operation for a non-transient reason (bad reference, amount, state). */
export class PspRejectedError extends PaystepError {
  override readonly name = 'PspRejectedError';
  readonly status = 502;
  readonly code = 'psp_error';
}

/**
 * An instrument operation that moves an authorization (capture, refund, void) on an instrument
 * that never got one: refused before any PSP call (not a PSP refusal).
 */
export class InstrumentNotAuthorizedError extends PaystepError {
  override readonly name = 'InstrumentNotAuthorizedError';
  readonly status = 409;
  readonly code = 'instrument_not_authorized';
}

/**
 * The PSP refused the request itself with a 4xx (unknown token, bad parameter): the caller's
 * error, not a PSP outage. Keeps the name PspRejectedError, so the saga's ASL routes it exactly
 * as before; the instrument API answers it as 422 (`invalid_payment_token`).
 */
export class PspClientError extends PspRejectedError {
  constructor(
    message: string,
    readonly pspStatus: number,
    options: ErrorOptions & { param?: string } = {},
  ) {
    super(message, options);
  }
}

// ---- Saga routing signals: not failures, never retried ------------------------------------------
// AuthorizePayment throws these after recording what the wait needs (the pending reference, the
// open challenge); the ASL's Catch routes them to AwaitAuthorization / AwaitAuthentication, which
// return to AuthorizePayment. Thrown instead of returned so the success path needs no Choice state.

/** The PSP answered "pending": its result comes later by callback (AwaitAuthorization). */
export class AuthorizationPendingError extends PaystepError {
  override readonly name = 'AuthorizationPendingError';
  readonly status = 409;
  readonly code = 'authorization_pending';
}

/** A 3-D Secure challenge is open: the buyer is at the issuer (AwaitAuthentication). */
export class AuthenticationActionRequiredError extends PaystepError {
  override readonly name = 'AuthenticationActionRequiredError';
  readonly status = 409;
  readonly code = 'authentication_action_required';
}

// ---- Saga refusals: a step's precondition does not hold (no PSP involved) ---------------------
// None is retried by the state machine (no Retry lists them): each is caught by the step's
// `States.ALL` Catch and routed as before (to VoidAuthorization, the failure path's terminal step, as psp_error).

/** Base of the saga's own refusals: the stored payment is not where the step needs it. */
export abstract class SagaRefusalError extends PaystepError {
  readonly status = 409;
}

/** A saga step ran for a checkout that has no payment (pay never recorded one). */
export class PaymentNotStartedError extends SagaRefusalError {
  override readonly name = 'PaymentNotStartedError';
  readonly code = 'payment_not_started';
}

/** The checkout is not `processing`: nothing is left for this step to do (a late or stray run). */
export class CheckoutNotProcessingError extends SagaRefusalError {
  override readonly name = 'CheckoutNotProcessingError';
  readonly code = 'checkout_not_processing';
}

/** The reconciliation sweep took the checkout over (`payment.recoveredBy`): a late saga step must not act. */
export class RecoveryTakeoverError extends SagaRefusalError {
  override readonly name = 'RecoveryTakeoverError';
  readonly code = 'taken_over_by_recovery';
}

/** The payment attempt's machine (lambdas/domain/payment-attempt.ts) does not allow the move. */
export class AttemptTransitionError extends SagaRefusalError {
  override readonly name = 'AttemptTransitionError';
  readonly code = 'invalid_attempt_transition';
}

/** A capture (or hand-over) of a payment that holds no authorization. */
export class AuthorizationMissingError extends SagaRefusalError {
  override readonly name = 'AuthorizationMissingError';
  readonly code = 'authorization_missing';
}

/** A capture of an authorization that was already released. */
export class AuthorizationVoidedError extends SagaRefusalError {
  override readonly name = 'AuthorizationVoidedError';
  readonly code = 'authorization_voided';
}

/** Capture (or manual-capture hand-over) before the merchant confirmed the inventory. */
export class InventoryNotConfirmedError extends SagaRefusalError {
  override readonly name = 'InventoryNotConfirmedError';
  readonly code = 'inventory_not_confirmed';
}

/** The payment's financial instrument (its ledger entry) is missing or no longer the saga's to hand over. */
export class InstrumentMissingError extends SagaRefusalError {
  override readonly name = 'InstrumentMissingError';
  readonly code = 'instrument_missing';
}

/** An authorization the PSP gave is already linked to another instrument (never two ledgers for one authorization). */
export class AuthorizationClaimedError extends SagaRefusalError {
  override readonly name = 'AuthorizationClaimedError';
  readonly code = 'authorization_claimed';
}

/** `succeeded` asked for while the full amount is not captured (nor held for a manual capture). */
export class CaptureIncompleteError extends SagaRefusalError {
  override readonly name = 'CaptureIncompleteError';
  readonly code = 'capture_incomplete';
}

// ---- Transient (retried with backoff in ASL or by the caller) -------------------------------

/** PSP answered 5xx, 429, or the connection failed before the request was sent. Safe to retry: every PSP call carries an idempotency key. */
export class PspUnavailableError extends PaystepError {
  override readonly name = 'PspUnavailableError';
  readonly status = 503;
  readonly code = 'psp_unavailable';
}

/** The PSP did not answer in time: the outcome is unknown, the idempotent retry resolves it. */
export class PspTimeoutError extends PaystepError {
  override readonly name = 'PspTimeoutError';
  readonly status = 504;
  readonly code = 'psp_timeout';
}

/** No merchant webhook endpoint accepted the event this attempt (non-2xx, redirect, timeout). Retried. */
export class WebhookDeliveryError extends PaystepError {
  override readonly name = 'WebhookDeliveryError';
  readonly status = 502;
  readonly code = 'webhook_delivery_failed';
}

/** A storage write was throttled or failed transiently. */
export class StoreUnavailableError extends PaystepError {
  override readonly name = 'StoreUnavailableError';
  readonly status = 503;
  readonly code = 'service_unavailable';
}

export function isPaystepError(error: unknown): error is PaystepError {
  return error instanceof PaystepError;
}

/**
 * Manual capture (Stripe's `capture_method: "manual"`) and authorization expiry, as pure rules (no
 * AWS import). A manual-capture checkout runs the saga exactly like an automatic one up to the
 * capture (authorize, confirm inventory: never held without confirmation), then the saga does not
 * capture: it hands the authorization to the merchant (the checkout's financial instrument becomes
 * `active`) and the checkout ends `succeeded` with nothing captured yet. The merchant captures or
 * revokes through the instrument API. Authorizations do not last: the PSP accepts captures up to
 * 7 days after the authorization (seed orders-invoices-webhooks.txt), so each hold has a warning
 * time (`authorization.expiring`) and an expiry time at which the merchant's
 * `expired_authorization_action` (void | capture) is applied to what is still capturable.
 */
import type { FinancialInstrument } from './instrument-model';
import type { Checkout, CheckoutPayment } from './model';
import { authorizationOf, attemptOf, isVoided, withAttempt, type AttemptStatus } from './payment-attempt';

export type CaptureMethod = 'automatic' | 'manual';

/** What happens to a held authorization's capturable remainder at expiry (merchant setting). */
export type ExpiredAuthorizationAction = 'void' | 'capture';

export const CAPTURE_METHODS: readonly CaptureMethod[] = ['automatic', 'manual'];
export const EXPIRED_AUTHORIZATION_ACTIONS: readonly ExpiredAuthorizationAction[] = ['void', 'capture'];
export const DEFAULT_EXPIRED_AUTHORIZATION_ACTION: ExpiredAuthorizationAction = 'void';

/** How long an authorization can be captured, and how early the merchant is warned. */
export interface AuthorizationPolicy {
  validitySeconds: number;
  warningSeconds: number;
}

/** PSP rule (seed): captures up to 7 days after authorization; the merchant hears 24 h before. */
export const DEFAULT_AUTHORIZATION_POLICY: AuthorizationPolicy = { validitySeconds: 7 * 86_400, warningSeconds: 86_400 };

/**
 * The policy from raw settings (env strings): empty means the default; anything but a positive
 * whole number of seconds throws, so a typo fails at cold start instead of expiring holds at once.
 * The warning is capped at the validity (a warning "before" the authorization means nothing).
 */
export function parseAuthorizationPolicy(validity: string | undefined, warning: string | undefined): AuthorizationPolicy {
  const positive = (raw: string | undefined, fallback: number): number => {
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new Error(`Authorization expiry settings must be positive whole seconds, got "${raw}"`);
    return value;
  };
  const validitySeconds = positive(validity, DEFAULT_AUTHORIZATION_POLICY.validitySeconds);
  const warningSeconds = Math.min(positive(warning, DEFAULT_AUTHORIZATION_POLICY.warningSeconds), validitySeconds);
  return { validitySeconds, warningSeconds };
}

/** When the merchant is warned and when the default action runs, from the authorization time. */
export function authorizationDeadlines(authorizedAt: string, policy: AuthorizationPolicy): { warnAt: string; expiresAt: string } {
  const start = Date.parse(authorizedAt);
  const expiresAt = start + policy.validitySeconds * 1000;
  const warnAt = Math.max(start, expiresAt - policy.warningSeconds * 1000);
  return { warnAt: new Date(warnAt).toISOString(), expiresAt: new Date(expiresAt).toISOString() };
}

/** The checkout's capture method (`automatic` when the merchant did not choose). */
export function captureMethodOf(checkout: Pick<Checkout, 'captureMethod'>): CaptureMethod {
  return checkout.captureMethod ?? 'automatic';
}

/**
 * Whether a manual-capture checkout may end `succeeded` with less than its amount captured: the
 * authorization is recorded, handed to the merchant (hold written), not voided, and inventory was
 * confirmed (or confirmation not required). recordOutcome and the reconciliation sweep both ask this.
 */
export function isHeldForManualCapture(checkout: Pick<Checkout, 'captureMethod' | 'amount' | 'payment'>): boolean {
  const payment = checkout.payment;
  return (
    captureMethodOf(checkout) === 'manual' &&
    payment !== undefined &&
    authorizationOf(payment) !== undefined &&
    payment.authorizationExpiresAt !== undefined &&
    !isVoided(payment) &&
    (payment.inventoryConfirmation === 'confirmed' || payment.inventoryConfirmation === 'not_required')
  );
}

/** The watch item's life: held (before the warning), warned, done (acted on or nothing left). */
export type AuthorizationHoldStage = 'held' | 'warned' | 'done';

/** What the expiry sweep must do for one hold now. */
export type AuthorizationHoldStep = 'wait' | 'warn' | 'expire' | 'none';

/**
 * The next step for a hold at `now`: nothing once done; the action once expired (the warning is
 * published first if it was never sent); the warning once due; else wait (the index is only
 * eventually consistent, so an early read must not act).
 */
export function nextHoldStep(
  hold: { stage: AuthorizationHoldStage; warnAt: string; expiresAt: string },
  now: Date,
): AuthorizationHoldStep {
  if (hold.stage === 'done') return 'none';
  if (now.getTime() >= Date.parse(hold.expiresAt)) return 'expire';
  if (hold.stage === 'held' && now.getTime() >= Date.parse(hold.warnAt)) return 'warn';
  return 'wait';
}

/** What the merchant captured through the instrument (succeeded capture operations, the saga's included). */
export function capturedThroughInstrument(instrument: FinancialInstrument): number {
  return Object.values(instrument.operations)
    .filter((operation) => operation.kind === 'capture' && operation.status === 'succeeded')
    .reduce((sum, operation) => sum + operation.pspAmount, 0);
}

/**
 * What a checkout's money stands at, read from its financial instrument: the one money ledger
 * (DESIGN Part 2 "Payment attempts"); the checkout keeps no amount of its own.
 */
export interface PaymentBalances {
  /** Captured through the instrument (the saga's capture, the merchant's, the expiry's). */
  capturedAmount: number;
  /** Authorized and not captured nor released. */
  capturableAmount: number;
}

/**
 * The payment's balances from its instrument (undefined: the payment has none, e.g. not authorized
 * yet). Before the hand-over of a manual authorization the capturable amount is the authorization
 * less what was captured (0 once voided); after it, the instrument's own `capturableAmount`.
 * Checkouts stored before the ledger existed (no instrument, amounts kept as flags) read their
 * capture from the attempt the flags became: a `captured` attempt took its authorized amount.
 */
export function paymentBalances(payment: CheckoutPayment, instrument: FinancialInstrument | undefined): PaymentBalances {
  const authorization = authorizationOf(payment);
  const attempt = attemptOf(payment);
  const capturedAmount =
    instrument !== undefined
      ? capturedThroughInstrument(instrument)
      : attempt.status === 'captured'
        ? (attempt.authorizedAmount ?? attempt.amount)
        : 0;
  if (instrument !== undefined && payment.authorizationExpiresAt !== undefined)
    return { capturedAmount, capturableAmount: instrument.capturableAmount };
  const capturableAmount =
    isVoided(payment) || authorization === undefined ? 0 : Math.max(0, authorization.amount - capturedAmount);
  return { capturedAmount, capturableAmount };
}

/**
 * The checkout's payment with the held attempt's status the instrument shows now: after the saga
 * handed a manual authorization over, the merchant's captures and revokes happen on the
 * instrument, which is then the truth for the attempt (captured, partially captured, voided).
 */
export function paymentWithInstrumentBalances(payment: CheckoutPayment, instrument: FinancialInstrument): CheckoutPayment {
  const capturedAmount = capturedThroughInstrument(instrument);
  const attempt = attemptOf(payment);
  const status: AttemptStatus =
    attempt.status !== 'authorized' && attempt.status !== 'partially_captured'
      ? attempt.status
      : instrument.status === 'voided'
        ? 'voided'
        : capturedAmount >= (attempt.authorizedAmount ?? attempt.amount)
          ? 'captured'
          : capturedAmount > 0
            ? 'partially_captured'
            : attempt.status;
  return status === attempt.status ? payment : { ...payment, attempts: withAttempt(payment.attempts, { ...attempt, status }) };
}

/**
 * A manual-capture authorization handed to the merchant: the expiry watch item. Written in the same
 * transaction that makes the saga's instrument `active`, so every hold is watched; it sits on a
 * sparse index by its next due time (warning, then expiry) and leaves it once done.
 */
export interface AuthorizationHold {
  instrumentId: string;
  checkoutId: string;
  merchantId: string;
  /** When the PSP authorized (the instrument's creation). ISO 8601. */
  authorizedAt: string;
  /** When `authorization.expiring` is due. */
  warnAt: string;
  /** When the merchant's expired_authorization_action is applied. */
  expiresAt: string;
  stage: AuthorizationHoldStage;
  /** Once done: what happened (`void`, `capture`, `nothing_held`, `failed`). */
  outcome?: string;
  leaseUntil?: string;
  leaseOwner?: string;
}

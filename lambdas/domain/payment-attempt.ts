/**
 * The payment attempt: one authorization try at one connector, with one status union and one
 * pure transition function (Hyperswitch's `AttemptStatus`). A checkout's payment is a list of
 * attempts, oldest first; the saga steps, the reconciliation sweep, the authorization wait and
 * the views all ask this module where a payment stands instead of combining flags. Pure: no AWS
 * import. DESIGN Part 2 "Payment attempts" pins the statuses and the API fields.
 */
import type { Checkout, CheckoutPayment } from './model';
import type { AuthenticationResult, NextAction } from './three-d-secure';

export const ATTEMPT_STATUSES = [
  'authorizing',
  'requires_action',
  'authorization_pending',
  'authorized',
  'captured',
  'partially_captured',
  'voided',
  'failed',
  'outcome_unknown',
] as const;

export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

export interface PaymentAttempt {
  id: string; // att_...
  connector: string;
  status: AttemptStatus;
  /** What the attempt asks the PSP to authorize (minor units). */
  amount: number;
  currency: string;
  /** The PSP's authorization id, once the PSP named one (pending or authorized). */
  pspReference?: string;
  /** What the PSP authorized, once it did (the attempt then held money at least once). */
  authorizedAmount?: number;
  /** Why the attempt failed: the PSP's decline code, or `psp_error`. */
  failureCode?: string;
  /** 3-D Secure: the buyer's next step while the attempt is `requires_action`. */
  nextAction?: NextAction;
  /** 3-D Secure result (flow, liability shift), once the PSP reported it. */
  authentication?: AuthenticationResult;
  createdAt: string;
  updatedAt?: string;
  /** A failover attempt: the id of the failed attempt of the same try it follows (lambdas/use-cases/saga/failover.ts). */
  failoverFrom?: string;
}

/** What can happen to an attempt; each maps to exactly one target status. */
export type AttemptEvent =
  | { type: 'action_required'; pspReference: string; nextAction: NextAction }
  | { type: 'authorization_pending'; pspReference: string }
  | { type: 'authorized'; pspReference: string; amount: number; authentication?: AuthenticationResult }
  | { type: 'declined'; failureCode: string; authentication?: AuthenticationResult }
  | { type: 'failed'; failureCode: string }
  | { type: 'outcome_unknown' }
  /** `capturedTotal`: everything captured on the authorization so far (partial below its amount). */
  | { type: 'captured'; capturedTotal: number }
  | { type: 'voided'; pspReference?: string };

export type AttemptTransition =
  | { kind: 'moved'; attempt: PaymentAttempt }
  /** The attempt already stands where the event leads (a re-run): nothing to write. */
  | { kind: 'unchanged'; attempt: PaymentAttempt }
  | { kind: 'refused'; attempt: PaymentAttempt; reason: string };

/** Where each status may go. Captured, voided and failed are terminal. */
const NEXT: Readonly<Record<AttemptStatus, readonly AttemptStatus[]>> = {
  authorizing: ['requires_action', 'authorization_pending', 'authorized', 'failed', 'outcome_unknown', 'voided'],
  requires_action: ['authorization_pending', 'authorized', 'failed', 'outcome_unknown', 'voided'],
  authorization_pending: ['authorized', 'failed', 'outcome_unknown', 'voided'],
  outcome_unknown: ['authorization_pending', 'authorized', 'failed', 'voided', 'captured', 'partially_captured'],
  authorized: ['captured', 'partially_captured', 'voided'],
  // A partial capture's remainder may still be released (voided); what was captured stays captured.
  partially_captured: ['captured', 'partially_captured', 'voided'],
  captured: [],
  voided: [],
  failed: [],
};

/** Whether the machine allows `from -> to` (a status never moves to itself, except partial captures adding up). */
export function canMoveAttempt(from: AttemptStatus, to: AttemptStatus): boolean {
  return NEXT[from].includes(to);
}

/** No exit: the attempt's outcome is final (refunds and disputes live on the instrument). */
export function isTerminalAttempt(status: AttemptStatus): boolean {
  return NEXT[status].length === 0;
}

/** The PSP holds (or took) money for it: at most one attempt of a checkout is ever here. */
export function holdsFunds(status: AttemptStatus): boolean {
  return status === 'authorized' || status === 'captured' || status === 'partially_captured';
}

/** The PSP's answer is not known yet (asked, pending, waiting on the buyer, or lost). */
export function isAwaitingPsp(status: AttemptStatus): boolean {
  return (
    status === 'authorizing' || status === 'requires_action' || status === 'authorization_pending' || status === 'outcome_unknown'
  );
}

/** A new attempt may start only when every earlier one ended without money: failed or voided. */
export function canStartAttempt(attempts: readonly PaymentAttempt[]): boolean {
  return attempts.every((attempt) => attempt.status === 'failed' || attempt.status === 'voided');
}

/** A fresh attempt, `authorizing`. */
export function newAttempt(input: {
  id: string;
  connector: string;
  amount: number;
  currency: string;
  at: string;
}): PaymentAttempt {
  return {
    id: input.id,
    connector: input.connector,
    status: 'authorizing',
    amount: input.amount,
    currency: input.currency,
    createdAt: input.at,
  };
}

function targetOf(attempt: PaymentAttempt, event: AttemptEvent): AttemptStatus {
  switch (event.type) {
    case 'action_required':
      return 'requires_action';
    case 'authorization_pending':
      return 'authorization_pending';
    case 'authorized':
      return 'authorized';
    case 'declined':
    case 'failed':
      return 'failed';
    case 'outcome_unknown':
      return 'outcome_unknown';
    case 'captured':
      return event.capturedTotal >= (attempt.authorizedAmount ?? attempt.amount) ? 'captured' : 'partially_captured';
    case 'voided':
      return 'voided';
  }
}

function applied(attempt: PaymentAttempt, event: AttemptEvent, status: AttemptStatus, at: string): PaymentAttempt {
  const { nextAction: _open, ...rest } = attempt;
  const next: PaymentAttempt = { ...rest, status, updatedAt: at };
  switch (event.type) {
    case 'action_required':
      next.pspReference = event.pspReference;
      next.nextAction = event.nextAction;
      break;
    case 'authorization_pending':
      next.pspReference = event.pspReference;
      break;
    case 'authorized':
      next.pspReference = event.pspReference;
      next.authorizedAmount = event.amount;
      if (event.authentication !== undefined) next.authentication = event.authentication;
      break;
    case 'declined':
      next.failureCode = event.failureCode;
      if (event.authentication !== undefined) next.authentication = event.authentication;
      break;
    case 'failed':
      next.failureCode = event.failureCode;
      break;
    case 'voided':
      if (next.pspReference === undefined && event.pspReference !== undefined) next.pspReference = event.pspReference;
      break;
    default:
      break;
  }
  return next;
}

/**
 * The one place an attempt changes status. Same-status events are `unchanged` (a step that runs
 * twice writes nothing the second time); anything the machine does not allow is `refused` with a
 * reason, and the caller decides whether that is an error or a late report to ignore.
 */
export function transitionAttempt(attempt: PaymentAttempt, event: AttemptEvent, at: string): AttemptTransition {
  const to = targetOf(attempt, event);
  if (to === attempt.status && to !== 'partially_captured') return { kind: 'unchanged', attempt };
  if (!canMoveAttempt(attempt.status, to)) {
    return { kind: 'refused', attempt, reason: `Attempt ${attempt.id} cannot move from ${attempt.status} to ${to}` };
  }
  return { kind: 'moved', attempt: applied(attempt, event, to, at) };
}

/** The attempt the payment is on now (the newest); undefined before the first. */
export function currentAttempt(attempts: readonly PaymentAttempt[]): PaymentAttempt | undefined {
  return attempts[attempts.length - 1];
}

/** The attempt that holds or took the money, if any (there is at most one). */
export function fundedAttempt(attempts: readonly PaymentAttempt[]): PaymentAttempt | undefined {
  return attempts.find((attempt) => holdsFunds(attempt.status));
}

/** Replaces the attempt with the same id (an attempt list is append-only otherwise). */
export function withAttempt(attempts: readonly PaymentAttempt[], attempt: PaymentAttempt): PaymentAttempt[] {
  return attempts.map((existing) => (existing.id === attempt.id ? attempt : existing));
}

// ---- The checkout's payment, read through its attempts -------------------------------------------

/** The current attempt. PayCheckout starts every payment with one, so a payment without any is a broken record. */
export function attemptOf(payment: Pick<CheckoutPayment, 'attempts'>): PaymentAttempt {
  const attempt = currentAttempt(payment.attempts);
  if (attempt === undefined) throw new Error('A payment without attempts cannot be processed');
  return attempt;
}

/** The authorization the payment got (reference and amount), even once captured or voided; undefined if none. */
export function authorizationOf(
  payment: Pick<CheckoutPayment, 'attempts'> | undefined,
): { pspReference: string; amount: number } | undefined {
  const attempt = payment?.attempts.find(
    (candidate) => candidate.authorizedAmount !== undefined && candidate.pspReference !== undefined,
  );
  if (attempt?.pspReference === undefined || attempt.authorizedAmount === undefined) return undefined;
  return { pspReference: attempt.pspReference, amount: attempt.authorizedAmount };
}

/**
 * The PSP's id of an authorization whose result is still pending (the saga waits for it): a
 * pending authorization, or one waiting on the buyer's 3-D Secure challenge.
 */
export function pendingAuthorizationOf(payment: Pick<CheckoutPayment, 'attempts'> | undefined): string | undefined {
  const attempt = payment === undefined ? undefined : currentAttempt(payment.attempts);
  return attempt?.status === 'authorization_pending' || attempt?.status === 'requires_action' ? attempt.pspReference : undefined;
}

/** The open 3-D Secure challenge's next action (the current attempt is `requires_action`), if any. */
export function openChallengeOf(payment: Pick<CheckoutPayment, 'attempts'> | undefined): NextAction | undefined {
  const attempt = payment === undefined ? undefined : currentAttempt(payment.attempts);
  return attempt?.status === 'requires_action' ? attempt.nextAction : undefined;
}

/** Whether the payment's authorization was released (the current attempt ended voided). */
export function isVoided(payment: Pick<CheckoutPayment, 'attempts'> | undefined): boolean {
  return payment !== undefined && currentAttempt(payment.attempts)?.status === 'voided';
}

/**
 * Whether the checkout recorded a capture of its authorization (the current attempt moved to
 * `captured` / `partially_captured`). How much was captured is the instrument's figure
 * (paymentBalances() in authorization-hold.ts), never the checkout's.
 */
export function capturedBySaga(payment: Pick<CheckoutPayment, 'attempts'> | undefined): boolean {
  const status = payment === undefined ? undefined : currentAttempt(payment.attempts)?.status;
  return status === 'captured' || status === 'partially_captured';
}

/** The connector the payment is on (the current attempt's). */
export function connectorOf(payment: Pick<CheckoutPayment, 'attempts'>): string {
  return attemptOf(payment).connector;
}

/**
 * Applies `event` to the current attempt: the payment with the moved attempt, and the transition
 * (unchanged or refused leave the payment as it was).
 */
export function recordAttemptEvent<P extends Pick<CheckoutPayment, 'attempts'>>(
  payment: P,
  event: AttemptEvent,
  at: string,
): { payment: P; transition: AttemptTransition } {
  const transition = transitionAttempt(attemptOf(payment), event, at);
  if (transition.kind !== 'moved') return { payment, transition };
  return { payment: { ...payment, attempts: withAttempt(payment.attempts, transition.attempt) }, transition };
}

/** Applies events in order, skipping those that leave the attempt where it is; stops at a refusal. */
export function recordAttemptEvents<P extends Pick<CheckoutPayment, 'attempts'>>(
  payment: P,
  events: readonly AttemptEvent[],
  at: string,
): { payment: P; transition: AttemptTransition } {
  let current = payment;
  let last: AttemptTransition = { kind: 'unchanged', attempt: attemptOf(payment) };
  for (const event of events) {
    const step = recordAttemptEvent(current, event, at);
    if (step.transition.kind === 'refused') return step;
    if (step.transition.kind === 'moved') last = step.transition;
    current = step.payment;
  }
  return { payment: current, transition: last };
}

/**
 * A failed payment's last word on its attempt: one whose PSP answer never came (and that nothing
 * voided) ends `failed` with `failureCode`; any other attempt stays as it is.
 */
export function failUnansweredAttempt<P extends Pick<CheckoutPayment, 'attempts'>>(
  payment: P,
  failureCode: string,
  at: string,
): P {
  const attempt = currentAttempt(payment.attempts);
  if (attempt === undefined || !isAwaitingPsp(attempt.status)) return payment;
  return recordAttemptEvent(payment, { type: 'failed', failureCode }, at).payment;
}

// ---- Items written before attempts -------------------------------------------------------------

/**
 * A payment as items written before attempts were stored it (flags: `pspReference`,
 * `pendingPspReference`, `voided`...), read as one attempt, so older items need no migration.
 */
export type FlaggedPayment = Omit<CheckoutPayment, 'attempts'> & {
  connector?: string;
  pspReference?: string;
  pendingPspReference?: string;
  authorizedAmount?: number;
  capturedAmount?: number;
  voided?: boolean;
  outcomeUnknown?: unknown;
};

export function paymentFromFlags(
  checkout: Pick<Checkout, 'id' | 'amount' | 'currency' | 'createdAt' | 'status' | 'failureReason'>,
  flagged: FlaggedPayment,
): CheckoutPayment {
  const {
    connector = 'sandbox',
    pspReference,
    pendingPspReference,
    authorizedAmount = 0,
    capturedAmount = 0,
    voided = false,
    outcomeUnknown: _unknown,
    ...kept
  } = flagged;
  const authorized = pspReference !== undefined;
  const status: AttemptStatus = voided
    ? 'voided'
    : authorized && capturedAmount > 0 && capturedAmount >= authorizedAmount
      ? 'captured'
      : authorized && capturedAmount > 0
        ? 'partially_captured'
        : authorized
          ? 'authorized'
          : pendingPspReference !== undefined
            ? 'authorization_pending'
            : checkout.status === 'failed'
              ? 'failed'
              : 'authorizing';
  const attempt: PaymentAttempt = {
    id: `att_${checkout.id.replace(/^chk_/, '')}`,
    connector,
    status,
    amount: authorized ? authorizedAmount : checkout.amount,
    currency: checkout.currency,
    createdAt: checkout.createdAt,
    ...(pspReference !== undefined || pendingPspReference !== undefined
      ? { pspReference: pspReference ?? pendingPspReference }
      : {}),
    ...(authorized ? { authorizedAmount } : {}),
    ...(status === 'failed' && checkout.failureReason !== undefined ? { failureCode: checkout.failureReason } : {}),
  };
  return { ...kept, attempts: [attempt] };
}

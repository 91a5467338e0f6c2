/**
 * The terminal status, by a conditional write from `processing`: library code the terminal steps
 * call in-process (VoidAuthorization's failure path; CapturePayment's manual hand-over and a capture
 * recorded without its status), no longer a state of its own.
 * Refuses `succeeded` unless the full amount was captured (automatic capture) or the authorization
 * was handed to the merchant after the inventory confirmation and is not voided (manual capture).
 * Running it again after the status is terminal returns the recorded status.
 * Each write is made on the checkout this call just read (`current`, its version pinned), so the
 * repository does not read it again: a checkout changed in between fails the write's condition and
 * then the version check (ConcurrentModificationError), as a second read would have found.
 */
import { isHeldForManualCapture } from '../../domain/authorization-hold';
import type { CheckoutStatus, FailureReason } from '../../domain/model';
import type { Checkout } from '../../domain/model';
import { currentAttempt, failUnansweredAttempt } from '../../domain/payment-attempt';
import { maxTriesOf, reopensForAnotherCard, tryNumberOf } from '../../domain/payment-tries';
import { CaptureIncompleteError } from '../../errors';
import { balancesOfPayment } from '../payment-ledger';
import { savePaymentMethodOnSuccess, type SavePaymentMethodDependencies } from '../payment-source';
import { loadCheckout, type SagaPorts, type StepInput } from './shared';

export type RecordOutcomePorts = Pick<SagaPorts, 'checkouts' | 'instruments'> & SavePaymentMethodDependencies;

export interface OutcomeInput extends StepInput {
  outcome: { status: 'succeeded' } | { status: 'failed'; reason: FailureReason; cause?: string };
}

const DEFAULT_FAILURE_MESSAGES: Record<FailureReason, string> = {
  payment_declined: 'The payment was declined',
  authentication_failed: '3-D Secure authentication failed or was not completed',
  authentication_required: 'The card requires 3-D Secure authentication, and no buyer was present',
  inventory_rejected: 'The merchant could not confirm the inventory',
  inventory_timeout: 'The merchant did not confirm the inventory within 10 s',
  inventory_unreachable: "The merchant's inventory confirmation endpoint could not be reached",
  psp_error: 'The payment provider could not complete the payment',
  expired: 'The checkout expired',
};

/**
 * A Task's error Cause: on AWS a JSON string `{"errorType","errorMessage",...}` written by the
 * Lambda runtime; in the local engine the error message itself. Returns the human message.
 */
export function messageFromCause(cause: string | undefined): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed && typeof parsed.errorMessage === 'string') {
      return parsed.errorMessage.slice(0, 500);
    }
  } catch {
    // not JSON: the local engine passes the message as is
  }
  return cause.slice(0, 500);
}

/**
 * A declined try with tries left (lambdas/domain/payment-tries.ts): the checkout goes back to
 * `open` with `last_payment_error` (the decline code and a message for the buyer), by the same
 * conditional write from `processing`; notifyMerchant then sends `payment.failed`. Nothing was
 * authorized, so nothing is voided and the merchant's stock was never asked about.
 */
async function reopenForAnotherCard(
  deps: RecordOutcomePorts,
  checkout: Checkout,
  reason: FailureReason,
): Promise<{ status: CheckoutStatus }> {
  const at = new Date().toISOString();
  const payment = checkout.payment === undefined ? undefined : failUnansweredAttempt(checkout.payment, reason, at);
  const code = (payment === undefined ? undefined : currentAttempt(payment.attempts)?.failureCode) ?? reason;
  const message = `${DEFAULT_FAILURE_MESSAGES[reason]}${code !== reason ? ` (${code})` : ''}. Try another card.`;
  const tryNumber = tryNumberOf(checkout.payment);
  const updated = await deps.checkouts.transitionCheckout({
    checkoutId: checkout.id,
    from: ['processing'],
    to: 'open',
    expectedVersion: checkout.version,
    current: checkout,
    patch: { lastPaymentError: { code, message }, ...(payment !== undefined ? { payment } : {}) },
    event: {
      type: 'payment_failed',
      data: { failure_reason: reason, code, message, try: tryNumber, tries_left: maxTriesOf(checkout) - tryNumber },
    },
  });
  return { status: updated.status };
}

export async function recordOutcome(deps: RecordOutcomePorts, input: OutcomeInput): Promise<{ status: CheckoutStatus }> {
  const { status } = await recordOutcomeWriting(deps, input);
  return { status };
}

/**
 * recordOutcome, also giving the checkout as its own terminal write left it (`written`: set only
 * when this call's conditional write from `processing` landed), so the caller's notify neither reads
 * it again nor looks for result events that cannot be stored yet (startNotifyReads).
 */
export async function recordOutcomeWriting(
  deps: RecordOutcomePorts,
  { checkoutId, outcome }: OutcomeInput,
): Promise<{ status: CheckoutStatus; written?: Checkout }> {
  const checkout = await loadCheckout(deps, checkoutId);
  if (checkout.status !== 'processing') return { status: checkout.status };
  if (checkout.payment?.recoveredBy !== undefined) return { status: checkout.status }; // the sweep records it
  const { capturedAmount: captured } = await balancesOfPayment(deps.instruments, checkout.payment); // the ledger's figure
  if (outcome.status === 'succeeded') {
    const held = captured !== checkout.amount && isHeldForManualCapture(checkout);
    if (captured !== checkout.amount && !held) {
      throw new CaptureIncompleteError(`Refusing to mark ${checkoutId} succeeded: captured ${captured} of ${checkout.amount}`);
    }
    await savePaymentMethodOnSuccess(deps, checkout); // save_payment_method: idempotent, before the terminal write
    const updated = await deps.checkouts.transitionCheckout({
      checkoutId,
      from: ['processing'],
      to: 'succeeded',
      expectedVersion: checkout.version,
      current: checkout,
      event: held
        ? {
            type: 'succeeded',
            data: {
              capture_method: 'manual',
              captured_amount: captured,
              authorization_expires_at: checkout.payment?.authorizationExpiresAt,
            },
          }
        : { type: 'succeeded' },
    });
    return { status: updated.status, written: updated };
  }
  if (reopensForAnotherCard(checkout, outcome.reason)) return await reopenForAnotherCard(deps, checkout, outcome.reason);
  const message = messageFromCause(outcome.cause) ?? DEFAULT_FAILURE_MESSAGES[outcome.reason];
  const payment =
    checkout.payment === undefined
      ? undefined
      : failUnansweredAttempt(checkout.payment, outcome.reason, new Date().toISOString());
  const updated = await deps.checkouts.transitionCheckout({
    checkoutId,
    from: ['processing'],
    to: 'failed',
    expectedVersion: checkout.version,
    current: checkout,
    patch: {
      failureReason: outcome.reason,
      failureMessage: message,
      ...(payment !== undefined && payment !== checkout.payment ? { payment } : {}),
    },
    event: { type: 'failed', data: { failure_reason: outcome.reason, message, captured_amount: captured } },
  });
  return { status: updated.status, written: updated };
}

/**
 * 3-D Secure in the payment saga (DESIGN Part 2 "3-D Secure (SCA)"). The saga steps call these
 * with a line each: what to ask the connector for (return URL to the hosted page, off-session,
 * a routing rule's `three_ds: required`), which decline codes are authentication outcomes
 * (`authentication_failed` / `authentication_required`, each its own typed error the ASL routes),
 * what an abandoned challenge turns the attempt into, and the `payment.requires_action` event the
 * merchant gets while the buyer is at the challenge. The wait itself is the ASL's
 * `AwaitAuthentication` (task token, 15 min abandonment timeout, compressed locally).
 */
import type { Checkout } from '../domain/model';
import { currentAttempt, openChallengeOf, type AttemptEvent } from '../domain/payment-attempt';
import type { ThreeDSecureRequest } from '../domain/three-d-secure';
import { AuthenticationFailedError, AuthenticationRequiredError, PaymentDeclinedError } from '../errors';
import { publishEvent, type PublishDependencies } from './webhook-delivery';
import type { RenderCheckout } from './payment-ledger';

/** What the saga needs to build the connector's 3-D Secure request. */
export interface ThreeDSecureSettings {
  /** The hosted page the challenge sends the buyer back to (`<checkout url>?three_ds=return`). */
  challengeReturnUrl?: (checkoutId: string) => string;
}

/** The connector's 3-D Secure request for this checkout's authorization. */
export function threeDSecureRequest(
  settings: ThreeDSecureSettings,
  checkout: Checkout,
  options: { offSession?: boolean; required?: boolean } = {},
): ThreeDSecureRequest {
  const returnUrl = settings.challengeReturnUrl?.(checkout.id);
  return {
    ...(returnUrl !== undefined ? { returnUrl } : {}),
    ...(options.offSession === true ? { offSession: true } : {}),
    ...(options.required === true ? { required: true } : {}),
  };
}

/**
 * A decline whose code is an authentication outcome, as its own typed error (the ASL fails the
 * checkout `authentication_failed` / `authentication_required` instead of `payment_declined`);
 * any other error is returned as it is.
 */
export function asAuthenticationError(error: unknown): unknown {
  if (!(error instanceof PaymentDeclinedError)) return error;
  if (error.message === 'authentication_failed') return new AuthenticationFailedError(error.message, { cause: error });
  if (error.message === 'authentication_required') return new AuthenticationRequiredError(error.message, { cause: error });
  return error;
}

/** A decline the saga records on the attempt (`authorization_declined` row, attempt `failed` with the code). */
export function isRecordedDecline(
  error: unknown,
): error is PaymentDeclinedError | AuthenticationFailedError | AuthenticationRequiredError {
  return (
    error instanceof PaymentDeclinedError ||
    error instanceof AuthenticationFailedError ||
    error instanceof AuthenticationRequiredError
  );
}

/** The error for a declined authorization reported by the PSP's status (its code, or card_declined). */
export function declineFromPsp(failureCode: string | undefined): Error {
  const declined = new PaymentDeclinedError(failureCode ?? 'card_declined');
  return asAuthenticationError(declined) as Error;
}

/**
 * What releasing an unanswered authorization means for the attempt: a challenge nobody answered
 * (abandoned) ends the attempt `failed` / `authentication_failed`, never authorized; anything
 * else is a void. The timeline row is named after it.
 */
export function releaseEvent(
  checkout: Checkout,
  pspReference: string,
): { event: AttemptEvent; timeline: 'authentication_abandoned' | 'voided' } {
  const attempt = checkout.payment === undefined ? undefined : currentAttempt(checkout.payment.attempts);
  if (attempt?.status === 'requires_action' && attempt.pspReference === pspReference) {
    return { event: { type: 'failed', failureCode: 'authentication_failed' }, timeline: 'authentication_abandoned' };
  }
  return { event: { type: 'voided', pspReference }, timeline: 'voided' };
}

/**
 * `payment.requires_action` while the buyer is at the challenge: stored with its pending
 * deliveries, which the webhook dispatcher sends (this wait step makes no merchant call, so it
 * needs no egress). The id derives from the attempt, so a re-run publishes nothing new. No-op
 * unless a challenge is open.
 */
export async function announceRequiredAction(
  deps: PublishDependencies & { renderCheckout: RenderCheckout },
  checkout: Checkout,
): Promise<{ eventId?: string }> {
  const nextAction = openChallengeOf(checkout.payment);
  const attempt = checkout.payment === undefined ? undefined : currentAttempt(checkout.payment.attempts);
  if (nextAction === undefined || attempt === undefined) return {};
  const published = await publishEvent(deps, {
    merchantId: checkout.merchantId,
    type: 'payment.requires_action',
    objectId: checkout.id,
    checkoutId: checkout.id,
    // Not authorized yet (a challenge is open), so no instrument holds any money of it.
    data: { object: deps.renderCheckout(checkout, undefined) },
    sourceKey: `${checkout.id}:${attempt.id}:payment.requires_action`,
  });
  return { eventId: published.eventId };
}

/**
 * Why a payment failed when the PSP reports every authorization declined (the reconciliation
 * sweep settling a checkout whose saga stopped): an authentication failure keeps its own reason
 * (`authentication_failed` / `authentication_required`), as the saga would have set it; any other
 * decline is `payment_declined`.
 */
export function declinedFailureReason(
  failureCodes: readonly (string | undefined)[],
): 'payment_declined' | 'authentication_failed' | 'authentication_required' {
  for (const code of failureCodes) {
    if (code === 'authentication_failed' || code === 'authentication_required') return code;
  }
  return 'payment_declined';
}

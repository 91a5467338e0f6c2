/**
 * Stripe's status words and amounts, mapped onto the domain: a PaymentIntent's `status` becomes a
 * PspAuthorizationState, a card error's `code`/`decline_code` becomes Paystep's decline code, and
 * a PaymentIntent becomes the PspAuthorizationView the saga, instruments and reconciliation read.
 * Pure; nothing outside this folder knows Stripe's words.
 */
import type Stripe from 'stripe';
import type { PspAuthorizationState } from '../../domain/psp-outcome';
import type { AuthenticationResult, NextAction } from '../../domain/three-d-secure';
import type { PspAuthorizationView } from '../../ports/payments';

/**
 * A manual-capture PaymentIntent's status as an authorization state. `succeeded` is captured (a
 * partial capture releases the rest); `canceled` with nothing received is voided; a PaymentIntent
 * waiting for a payment method after a confirm is a declined authorization. `requires_action`
 * (a 3-D Secure challenge open at the buyer's bank) is pending, like the sandbox's; the
 * not-yet-confirmed statuses mean nothing to the saga: undefined.
 */
export function stateFromIntentStatus(
  status: Stripe.PaymentIntent.Status,
  amountReceived = 0,
): PspAuthorizationState | undefined {
  switch (status) {
    case 'processing':
    case 'requires_action':
      return 'pending';
    case 'requires_capture':
      return 'authorized';
    case 'succeeded':
      return 'captured';
    case 'canceled':
      return amountReceived > 0 ? 'captured' : 'voided';
    case 'requires_payment_method':
      return 'declined';
    default:
      return undefined;
  }
}

/** Stripe's code for a failed (or canceled) 3-D Secure authentication; Paystep says `authentication_failed`. */
export const STRIPE_AUTHENTICATION_FAILURE = 'payment_intent_authentication_failure';

/**
 * Paystep's decline code for a Stripe card error (or a PaymentIntent's `last_payment_error`): the
 * issuer's `decline_code` when it says more than "generic" (insufficient_funds, do_not_honor,
 * stolen_card, try_again_later, authentication_required, ...), else the error `code`
 * (card_declined, expired_card, incorrect_cvc, processing_error, ...); a failed 3-D Secure
 * authentication is `authentication_failed`.
 */
export function declineCodeOf(error: { code?: string | null | undefined; decline_code?: string | null | undefined }): string {
  const declineCode = error.decline_code;
  if (typeof declineCode === 'string' && declineCode !== '' && declineCode !== 'generic_decline') return declineCode;
  if (error.code === STRIPE_AUTHENTICATION_FAILURE) return 'authentication_failed';
  return typeof error.code === 'string' && error.code !== '' ? error.code : 'card_declined';
}

/**
 * The buyer's next step while the PaymentIntent is `requires_action`: Stripe's
 * `next_action.redirect_to_url` (what a confirm with `return_url` gets); undefined otherwise,
 * including `use_stripe_sdk`, which needs Stripe.js in the buyer's browser.
 */
export function nextActionOf(intent: Stripe.PaymentIntent): NextAction | undefined {
  if (intent.status !== 'requires_action') return undefined;
  const action = intent.next_action;
  const redirect = action?.type === 'redirect_to_url' ? action.redirect_to_url : undefined;
  if (redirect === undefined || typeof redirect.url !== 'string' || redirect.url === '') return undefined;
  return {
    type: 'redirect_to_url',
    redirectToUrl: { url: redirect.url, returnUrl: typeof redirect.return_url === 'string' ? redirect.return_url : null },
  };
}

/**
 * The 3-D Secure result on the charge (`payment_method_details.card.three_d_secure`) as the
 * domain's liability data: `authenticated` (and `attempt_acknowledged`, where the issuer could not
 * authenticate but the network still shifts liability) move fraud liability to the issuer.
 * Undefined when the charge had no 3-D Secure or Stripe names no flow.
 */
export function authenticationOf(intent: Stripe.PaymentIntent): AuthenticationResult | undefined {
  const block = expandedCharge(intent)?.payment_method_details?.card?.three_d_secure;
  if (block === null || block === undefined) return undefined;
  const flows: readonly string[] = ['challenge', 'frictionless'];
  if (block.authentication_flow === null || !flows.includes(block.authentication_flow)) return undefined;
  const flow = block.authentication_flow as AuthenticationResult['flow'];
  const authenticated = block.result === 'authenticated';
  return {
    flow,
    authenticated,
    liabilityShift: authenticated || block.result === 'attempt_acknowledged',
    ...(typeof block.electronic_commerce_indicator === 'string' ? { eci: block.electronic_commerce_indicator } : {}),
  };
}

/** The charge behind the PaymentIntent when it was expanded (`expand: ['latest_charge']`). */
export function expandedCharge(intent: Stripe.PaymentIntent): Stripe.Charge | undefined {
  const charge = intent.latest_charge;
  return charge !== null && typeof charge === 'object' ? charge : undefined;
}

/** The card network's transaction id of this authorization (what a later off-session payment refers to). */
export function networkTransactionIdOf(intent: Stripe.PaymentIntent): string | undefined {
  return expandedCharge(intent)?.payment_method_details?.card?.network_transaction_id ?? undefined;
}

/** The PaymentIntent's amounts in the view the gateway port returns (reference: `metadata.reference`). */
export function toAuthorizationView(intent: Stripe.PaymentIntent): PspAuthorizationView {
  const refunded = expandedCharge(intent)?.amount_refunded ?? 0;
  const state = stateFromIntentStatus(intent.status, intent.amount_received);
  const nextAction = nextActionOf(intent);
  const authentication = authenticationOf(intent);
  const error = intent.last_payment_error;
  return {
    id: intent.id,
    state,
    pspStatus: intent.status,
    amount: intent.amount,
    currency: intent.currency.toUpperCase(),
    reference: intent.metadata['reference'] ?? '',
    capturedAmount: intent.amount_received,
    refundedAmount: refunded,
    capturableAmount: intent.amount_capturable,
    refundableAmount: Math.max(0, intent.amount_received - refunded),
    ...(nextAction !== undefined ? { nextAction } : {}),
    ...(authentication !== undefined ? { authentication } : {}),
    ...(state === 'declined' && error !== null && error !== undefined ? { failureCode: declineCodeOf(error) } : {}),
  };
}

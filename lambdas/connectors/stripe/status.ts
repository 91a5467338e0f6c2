/**
 * Stripe's status words and amounts, mapped onto the domain: a PaymentIntent's `status` becomes a
 * PspAuthorizationState, a card error's `code`/`decline_code` becomes Paystep's decline code, and
 * a PaymentIntent becomes the PspAuthorizationView the saga, instruments and reconciliation read.
 * Pure; nothing outside this folder knows Stripe's words.
 */
import type Stripe from 'stripe';
import type { PspAuthorizationState } from '../../domain/psp-outcome';
import type { PspAuthorizationView } from '../../ports/payments';

/**
 * A manual-capture PaymentIntent's status as an authorization state. `succeeded` is captured (a
 * partial capture releases the rest); `canceled` with nothing received is voided; a PaymentIntent
 * waiting for a payment method after a confirm is a declined authorization. `requires_action`
 * (3-D Secure) and the not-yet-confirmed statuses mean nothing to the saga yet: undefined.
 */
export function stateFromIntentStatus(
  status: Stripe.PaymentIntent.Status,
  amountReceived = 0,
): PspAuthorizationState | undefined {
  switch (status) {
    case 'processing':
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

/**
 * Paystep's decline code for a Stripe card error: the issuer's `decline_code` when it says more
 * than "generic" (insufficient_funds, do_not_honor, stolen_card, try_again_later, ...), else the
 * error `code` (card_declined, expired_card, incorrect_cvc, processing_error,
 * authentication_required, ...).
 */
export function declineCodeOf(error: { code?: string | undefined; decline_code?: string | undefined }): string {
  const declineCode = error.decline_code;
  if (declineCode !== undefined && declineCode !== '' && declineCode !== 'generic_decline') return declineCode;
  return error.code !== undefined && error.code !== '' ? error.code : 'card_declined';
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
  };
}

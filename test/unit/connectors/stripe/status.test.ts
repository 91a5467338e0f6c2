/**
 * The `stripe` connector's pure mappings: PaymentIntent statuses to authorization states, Stripe
 * card errors to Paystep decline codes, and a PaymentIntent to the gateway's authorization view.
 */
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import {
  declineCodeOf,
  networkTransactionIdOf,
  stateFromIntentStatus,
  toAuthorizationView,
} from '../../../../lambdas/connectors/stripe/status';

function intent(fields: Partial<Stripe.PaymentIntent>): Stripe.PaymentIntent {
  return {
    id: 'pi_1',
    object: 'payment_intent',
    amount: 5000,
    amount_capturable: 0,
    amount_received: 0,
    currency: 'eur',
    status: 'requires_capture',
    metadata: { reference: 'chk_1' },
    latest_charge: null,
    ...fields,
  } as Stripe.PaymentIntent;
}

describe('stateFromIntentStatus', () => {
  it.each([
    ['processing', 0, 'pending'],
    ['requires_capture', 0, 'authorized'],
    ['succeeded', 3000, 'captured'],
    ['canceled', 0, 'voided'],
    ['canceled', 3000, 'captured'],
    ['requires_payment_method', 0, 'declined'],
    ['requires_action', 0, 'pending'],
    ['requires_confirmation', 0, undefined],
  ] as const)('maps %s (received %d) to %s', (status, received, expected) => {
    // Act
    const state = stateFromIntentStatus(status, received);
    // Assess
    expect(state).toBe(expected);
  });
});

describe('declineCodeOf', () => {
  it.each([
    [{ code: 'card_declined', decline_code: 'insufficient_funds' }, 'insufficient_funds'],
    [{ code: 'card_declined', decline_code: 'do_not_honor' }, 'do_not_honor'],
    [{ code: 'card_declined', decline_code: 'generic_decline' }, 'card_declined'],
    [{ code: 'expired_card' }, 'expired_card'],
    [{ code: 'incorrect_cvc' }, 'incorrect_cvc'],
    [{ code: 'processing_error' }, 'processing_error'],
    [{}, 'card_declined'],
  ])('reads %j as %s', (error, expected) => {
    // Act
    const code = declineCodeOf(error);
    // Assess
    expect(code).toBe(expected);
  });
});

describe('toAuthorizationView', () => {
  it('reads captured and refunded amounts from the intent and its expanded charge', () => {
    // Prepare
    const charge = {
      id: 'ch_1',
      amount_refunded: 1000,
      payment_method_details: { card: { network_transaction_id: 'ntid_1' } },
    } as unknown as Stripe.Charge;
    // Act
    const view = toAuthorizationView(intent({ status: 'succeeded', amount_received: 3000, latest_charge: charge }));
    // Assess
    expect(view).toEqual({
      id: 'pi_1',
      state: 'captured',
      pspStatus: 'succeeded',
      amount: 5000,
      currency: 'EUR',
      reference: 'chk_1',
      capturedAmount: 3000,
      refundedAmount: 1000,
      capturableAmount: 0,
      refundableAmount: 2000,
    });
    expect(networkTransactionIdOf(intent({ latest_charge: charge }))).toBe('ntid_1');
  });

  it('shows an open authorization as authorized with everything capturable', () => {
    // Act
    const view = toAuthorizationView(intent({ status: 'requires_capture', amount_capturable: 5000 }));
    // Assess
    expect(view).toMatchObject({ state: 'authorized', capturableAmount: 5000, capturedAmount: 0, refundableAmount: 0 });
  });

  it('keeps a status it cannot map as Stripe wrote it', () => {
    // Act
    const view = toAuthorizationView(intent({ status: 'requires_confirmation', metadata: {} }));
    // Assess
    expect(view).toMatchObject({ state: undefined, pspStatus: 'requires_confirmation', reference: '' });
  });
});

/**
 * The `stripe` connector's 3-D Secure mappings (pure): `requires_action` with
 * `next_action.redirect_to_url` becomes the domain's pending authorization with its next action,
 * the charge's `three_d_secure` block the liability data, a failed authentication
 * (`payment_intent_authentication_failure`) the decline code `authentication_failed`, the decline
 * after a completed challenge its issuer code, as the sandbox connector reports them.
 */
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { authenticationOf, declineCodeOf, nextActionOf, toAuthorizationView } from '../../../../lambdas/connectors/stripe/status';

const CHALLENGE_URL = 'https://hooks.stripe.com/3d_secure_2/challenge/pi_1';
const RETURN_URL = 'https://pay.example/checkout/chk_1?three_ds=return';

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
    next_action: null,
    last_payment_error: null,
    ...fields,
  } as Stripe.PaymentIntent;
}

function chargeWith(threeDSecure: Record<string, unknown> | null): Stripe.Charge {
  return {
    id: 'ch_1',
    amount_refunded: 0,
    payment_method_details: { card: { network_transaction_id: 'ntid_1', three_d_secure: threeDSecure } },
  } as unknown as Stripe.Charge;
}

const redirect = {
  type: 'redirect_to_url',
  redirect_to_url: { url: CHALLENGE_URL, return_url: RETURN_URL },
} as Stripe.PaymentIntent.NextAction;

describe('nextActionOf', () => {
  it('reads a redirect_to_url next action of a requires_action intent', () => {
    // Act
    const action = nextActionOf(intent({ status: 'requires_action', next_action: redirect }));
    // Assess
    expect(action).toEqual({ type: 'redirect_to_url', redirectToUrl: { url: CHALLENGE_URL, returnUrl: RETURN_URL } });
  });

  it('has no next action for use_stripe_sdk (Stripe.js only) or for an intent past the challenge', () => {
    // Prepare
    const sdk = { type: 'use_stripe_sdk', use_stripe_sdk: {} } as unknown as Stripe.PaymentIntent.NextAction;
    // Act
    const viaSdk = nextActionOf(intent({ status: 'requires_action', next_action: sdk }));
    const decided = nextActionOf(intent({ status: 'requires_capture', next_action: redirect }));
    // Assess
    expect(viaSdk).toBeUndefined();
    expect(decided).toBeUndefined();
  });
});

describe('authenticationOf', () => {
  it.each([
    [
      { authentication_flow: 'challenge', result: 'authenticated', electronic_commerce_indicator: '05' },
      { flow: 'challenge', authenticated: true, liabilityShift: true, eci: '05' },
    ],
    [
      { authentication_flow: 'frictionless', result: 'authenticated', electronic_commerce_indicator: '05' },
      { flow: 'frictionless', authenticated: true, liabilityShift: true, eci: '05' },
    ],
    [
      { authentication_flow: 'frictionless', result: 'attempt_acknowledged', electronic_commerce_indicator: '06' },
      { flow: 'frictionless', authenticated: false, liabilityShift: true, eci: '06' },
    ],
    [
      { authentication_flow: 'challenge', result: 'failed', electronic_commerce_indicator: '07' },
      { flow: 'challenge', authenticated: false, liabilityShift: false, eci: '07' },
    ],
  ])('reads %j as %j', (block, expected) => {
    // Act
    const result = authenticationOf(intent({ latest_charge: chargeWith(block) }));
    // Assess
    expect(result).toEqual(expected);
  });

  it('is undefined without 3-D Secure on the charge, without an expanded charge, or without a flow', () => {
    // Act
    const none = authenticationOf(intent({ latest_charge: chargeWith(null) }));
    const notExpanded = authenticationOf(intent({ latest_charge: 'ch_1' }));
    const exempted = authenticationOf(intent({ latest_charge: chargeWith({ authentication_flow: null, result: 'exempted' }) }));
    // Assess
    expect([none, notExpanded, exempted]).toEqual([undefined, undefined, undefined]);
  });
});

describe('declineCodeOf for authentication', () => {
  it.each([
    [{ code: 'payment_intent_authentication_failure' }, 'authentication_failed'],
    [{ code: 'authentication_required', decline_code: 'authentication_required' }, 'authentication_required'],
    [{ code: 'card_declined', decline_code: 'insufficient_funds' }, 'insufficient_funds'],
    [{ code: 'card_declined', decline_code: null }, 'card_declined'],
  ])('reads %j as %s', (error, expected) => {
    // Act
    const code = declineCodeOf(error);
    // Assess
    expect(code).toBe(expected);
  });
});

describe('toAuthorizationView with 3-D Secure', () => {
  it('an open challenge is pending with the next action, nothing capturable', () => {
    // Act
    const view = toAuthorizationView(intent({ status: 'requires_action', next_action: redirect }));
    // Assess
    expect(view).toMatchObject({
      state: 'pending',
      pspStatus: 'requires_action',
      capturableAmount: 0,
      nextAction: { type: 'redirect_to_url', redirectToUrl: { url: CHALLENGE_URL, returnUrl: RETURN_URL } },
    });
    expect(view.failureCode).toBeUndefined();
  });

  it('a failed challenge is declined authentication_failed', () => {
    // Act
    const view = toAuthorizationView(
      intent({
        status: 'requires_payment_method',
        last_payment_error: {
          type: 'invalid_request_error',
          code: 'payment_intent_authentication_failure',
        } as Stripe.PaymentIntent.LastPaymentError,
      }),
    );
    // Assess
    expect(view).toMatchObject({ state: 'declined', failureCode: 'authentication_failed' });
    expect(view.nextAction).toBeUndefined();
  });

  it('a decline after a completed challenge is declined with the issuer code and the authentication kept', () => {
    // Act
    const view = toAuthorizationView(
      intent({
        status: 'requires_payment_method',
        latest_charge: chargeWith({
          authentication_flow: 'challenge',
          result: 'authenticated',
          electronic_commerce_indicator: '05',
        }),
        last_payment_error: {
          type: 'card_error',
          code: 'card_declined',
          decline_code: 'insufficient_funds',
        } as Stripe.PaymentIntent.LastPaymentError,
      }),
    );
    // Assess
    expect(view).toMatchObject({
      state: 'declined',
      failureCode: 'insufficient_funds',
      authentication: { flow: 'challenge', authenticated: true, liabilityShift: true },
    });
  });

  it('an authorization after a challenge carries its liability data', () => {
    // Act
    const view = toAuthorizationView(
      intent({
        status: 'requires_capture',
        amount_capturable: 5000,
        latest_charge: chargeWith({
          authentication_flow: 'challenge',
          result: 'authenticated',
          electronic_commerce_indicator: '05',
        }),
      }),
    );
    // Assess
    expect(view).toMatchObject({
      state: 'authorized',
      capturableAmount: 5000,
      authentication: { flow: 'challenge', authenticated: true, liabilityShift: true, eci: '05' },
    });
  });
});

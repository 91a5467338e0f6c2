/**
 * 3-D Secure pieces of the saga (lambdas/use-cases/three-d-secure.ts and the attempt's
 * requires_action moves): which declines are authentication outcomes, what an abandoned
 * challenge makes of the attempt, and the checkout's status and next_action while it is open.
 */
import { describe, expect, it } from 'vitest';
import { SensitiveCard, type PaymentMethod } from '../../../lambdas/domain/payment-method';
import type { AuthorizeInput } from '../../../lambdas/ports/payments';
import { authorizePayment } from '../../../lambdas/use-cases/saga/authorize-payment';
import { input, sagaWorld } from './saga/saga-fixture';
import type { Checkout } from '../../../lambdas/domain/model';
import { newAttempt, openChallengeOf, pendingAuthorizationOf, recordAttemptEvent } from '../../../lambdas/domain/payment-attempt';
import type { NextAction } from '../../../lambdas/domain/three-d-secure';
import { AuthenticationFailedError, AuthenticationRequiredError, PaymentDeclinedError } from '../../../lambdas/errors';
import { challengeStatusView } from '../../../lambdas/shared/views';
import { statusView } from '../../../lambdas/use-cases/pay-checkout';
import {
  asAuthenticationError,
  declineFromPsp,
  releaseEvent,
  threeDSecureRequest,
} from '../../../lambdas/use-cases/three-d-secure';

const AT = '2026-11-30T20:00:00.000Z';
const NEXT: NextAction = {
  type: 'redirect_to_url',
  redirectToUrl: {
    url: 'http://127.0.0.1:3001/v1/challenges/auth_1',
    returnUrl: 'http://127.0.0.1:3000/checkout/chk_1?three_ds=return',
  },
};

function checkoutWithChallenge(): Checkout {
  const payment = {
    paymentToken: 'tok_1',
    capturedAmount: 0,
    attempts: [newAttempt({ id: 'att_1', connector: 'sandbox', amount: 2599, currency: 'EUR', at: AT })],
  };
  const opened = recordAttemptEvent(payment, { type: 'action_required', pspReference: 'auth_1', nextAction: NEXT }, AT).payment;
  return {
    id: 'chk_1',
    merchantId: 'mer_1',
    status: 'processing',
    amount: 2599,
    currency: 'EUR',
    items: [],
    successUrl: 'https://shop.example/ok',
    failureUrl: 'https://shop.example/ko',
    merchantOrderRef: 'o-1',
    createdAt: AT,
    updatedAt: AT,
    expiresAt: AT,
    version: 2,
    payment: opened,
  } as unknown as Checkout;
}

describe('an open challenge', () => {
  it('keeps the attempt requires_action with its next action, and waits on its PSP reference', () => {
    // Prepare
    const checkout = checkoutWithChallenge();
    // Act
    const open = openChallengeOf(checkout.payment);
    // Assess
    expect(checkout.payment?.attempts[0]).toMatchObject({ status: 'requires_action', pspReference: 'auth_1' });
    expect(open).toEqual(NEXT);
    expect(pendingAuthorizationOf(checkout.payment)).toBe('auth_1');
  });

  it('shows the checkout and its status as requires_action with next_action in snake_case', () => {
    // Prepare
    const checkout = checkoutWithChallenge();
    const expected = {
      type: 'redirect_to_url',
      redirect_to_url: { url: NEXT.redirectToUrl.url, return_url: NEXT.redirectToUrl.returnUrl },
    };
    // Act
    const shown = challengeStatusView(checkout);
    const status = statusView(checkout);
    // Assess
    expect(shown).toEqual({ status: 'requires_action', next_action: expected });
    expect(status).toMatchObject({ status: 'requires_action', next_action: expected, redirect_url: null });
  });

  it('drops the next action once authorized, keeping the liability-shift data', () => {
    // Prepare
    const checkout = checkoutWithChallenge();
    // Act
    const moved = recordAttemptEvent(
      checkout.payment!,
      {
        type: 'authorized',
        pspReference: 'auth_1',
        amount: 2599,
        authentication: { flow: 'challenge', authenticated: true, liabilityShift: true },
      },
      AT,
    ).payment;
    // Assess
    expect(moved.attempts[0]?.nextAction).toBeUndefined();
    expect(moved.attempts[0]).toMatchObject({ status: 'authorized', authentication: { liabilityShift: true } });
    expect(challengeStatusView({ status: 'processing', payment: moved })).toEqual({ status: 'processing', next_action: null });
  });

  it('abandoned: the release fails the attempt authentication_failed instead of recording a void', () => {
    // Act
    const release = releaseEvent(checkoutWithChallenge(), 'auth_1');
    // Assess
    expect(release).toEqual({
      event: { type: 'failed', failureCode: 'authentication_failed' },
      timeline: 'authentication_abandoned',
    });
    expect(releaseEvent(checkoutWithChallenge(), 'auth_other').event).toEqual({ type: 'voided', pspReference: 'auth_other' });
  });
});

describe('authentication outcomes', () => {
  it('turns authentication declines into their own errors and leaves other declines alone', () => {
    // Act
    const failed = asAuthenticationError(new PaymentDeclinedError('authentication_failed'));
    const required = asAuthenticationError(new PaymentDeclinedError('authentication_required'));
    const funds = declineFromPsp('insufficient_funds');
    // Assess
    expect(failed).toBeInstanceOf(AuthenticationFailedError);
    expect(required).toBeInstanceOf(AuthenticationRequiredError);
    expect(funds).toBeInstanceOf(PaymentDeclinedError);
    expect(funds.message).toBe('insufficient_funds');
    expect(declineFromPsp(undefined).message).toBe('card_declined');
  });

  it('asks the connector for the return URL to the hosted page, off-session and a required challenge', () => {
    // Act
    const request = threeDSecureRequest(
      { challengeReturnUrl: (id) => `https://pay.example/checkout/${id}?three_ds=return` },
      checkoutWithChallenge(),
      {
        offSession: true,
        required: true,
      },
    );
    // Assess
    expect(request).toEqual({
      returnUrl: 'https://pay.example/checkout/chk_1?three_ds=return',
      offSession: true,
      required: true,
    });
    expect(threeDSecureRequest({}, checkoutWithChallenge())).toEqual({});
  });
});

describe('the 3-D Secure request AuthorizePayment sends', () => {
  async function authorizeVaulted(offSession: boolean): Promise<AuthorizeInput | undefined> {
    const { checkouts, gateway, deps } = await sagaWorld();
    const stored = (await checkouts.getCheckout('chk_1'))!;
    const { paymentToken: _token, ...payment } = stored.payment!;
    await checkouts.updatePayment('chk_1', { ...payment, paymentMethodId: 'pm_1', offSession }, stored.version);
    const sent: AuthorizeInput[] = [];
    const authorize = gateway.authorize.bind(gateway);
    gateway.authorize = async (request: AuthorizeInput) => {
      sent.push(request);
      return authorize(request);
    };
    const vault = {
      revealForAuthorization: async () => ({
        paymentMethod: { id: 'pm_1', customerId: 'cus_1' } as PaymentMethod,
        card: new SensitiveCard('pm_1', '4000002760003184', 12, 2049, undefined),
      }),
      destroyCvc: async () => undefined,
    };
    await authorizePayment(
      { ...deps, vault, challengeReturnUrl: (id) => `http://127.0.0.1:3000/checkout/${id}?three_ds=return` },
      input,
    );
    return sent[0];
  }

  it('asks off-session for a merchant-initiated payment, so a card that needs a challenge fails authentication_required', async () => {
    // Act
    const sent = await authorizeVaulted(true);
    // Assess
    expect(sent?.source).toMatchObject({ type: 'card', cardOnFile: { initiator: 'merchant' } });
    expect(sent?.threeDSecure).toMatchObject({ offSession: true });
  });

  it('does not ask off-session while the buyer pays, and gives the hosted page as return URL', async () => {
    // Act
    const sent = await authorizeVaulted(false);
    // Assess
    expect(sent?.source).toMatchObject({ type: 'card', cardOnFile: { initiator: 'customer' } });
    expect(sent?.threeDSecure).toEqual({ returnUrl: 'http://127.0.0.1:3000/checkout/chk_1?three_ds=return' });
  });
});

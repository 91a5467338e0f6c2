/**
 * The `stripe` gateway's 3-D Secure requests and answers, with the official SDK over a fake fetch
 * (no network): what the confirm carries (`return_url` for a buyer at the page,
 * `request_three_d_secure=any` for a routing rule's `three_ds: required`, `off_session` without a
 * return_url for a merchant-initiated payment) and how `requires_action`, a frictionless
 * authorization and an off-session `authentication_required` come back in the port's words.
 */
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { StripeGateway } from '../../../../lambdas/connectors/stripe/gateway';
import { PaymentDeclinedError, PspRejectedError } from '../../../../lambdas/errors';
import type { AuthorizeInput } from '../../../../lambdas/ports/payments';

const RETURN_URL = 'https://pay.example/checkout/chk_1?three_ds=return';
const CHALLENGE_URL = 'https://hooks.stripe.com/3d_secure_2/challenge/pi_1';

interface Exchange {
  body: URLSearchParams;
  path: string;
}

/** A gateway whose SDK calls are answered by `answer` (status, JSON body); every request is kept. */
function gatewayAnswering(status: number, body: Record<string, unknown>): { gateway: StripeGateway; sent: Exchange[] } {
  const sent: Exchange[] = [];
  const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    sent.push({ path: url.pathname, body: new URLSearchParams(typeof init?.body === 'string' ? init.body : '') });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'request-id': 'req_1' } });
  }) as typeof fetch;
  const gateway = new StripeGateway({
    apiKey: 'sk_test_unit',
    baseUrl: 'http://127.0.0.1:9',
    httpClient: Stripe.createFetchHttpClient(fakeFetch),
  });
  return { gateway, sent };
}

function paymentIntent(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    id: 'pi_1',
    object: 'payment_intent',
    amount: 2599,
    amount_capturable: 0,
    amount_received: 0,
    currency: 'eur',
    status: 'requires_capture',
    metadata: { reference: 'chk_1' },
    latest_charge: null,
    next_action: null,
    last_payment_error: null,
    ...fields,
  };
}

function input(threeDSecure: AuthorizeInput['threeDSecure'], merchant = false): AuthorizeInput {
  return {
    reference: 'chk_1',
    source: {
      type: 'token',
      token: 'pm_saved',
      ...(merchant ? { cardOnFile: { initiator: 'merchant', stored: true, networkTransactionId: 'ntid_1' } } : {}),
    },
    amount: 2599,
    currency: 'EUR',
    idempotencyKey: 'chk_1:authorize',
    ...(threeDSecure !== undefined ? { threeDSecure } : {}),
  };
}

describe('the confirm request', () => {
  it('carries return_url for a buyer at the page and no 3-D Secure request by default', async () => {
    // Prepare
    const { gateway, sent } = gatewayAnswering(200, paymentIntent({ amount_capturable: 2599 }));
    // Act
    await gateway.authorize(input({ returnUrl: RETURN_URL }));
    // Assess
    expect(sent[0]?.path).toBe('/v1/payment_intents');
    expect(sent[0]?.body.get('return_url')).toBe(RETURN_URL);
    expect(sent[0]?.body.get('confirm')).toBe('true');
    expect(sent[0]?.body.has('payment_method_options[card][request_three_d_secure]')).toBe(false);
    expect(sent[0]?.body.has('off_session')).toBe(false);
  });

  it('asks request_three_d_secure=any when a routing rule requires 3-D Secure', async () => {
    // Prepare
    const { gateway, sent } = gatewayAnswering(200, paymentIntent({ amount_capturable: 2599 }));
    // Act
    await gateway.authorize(input({ returnUrl: RETURN_URL, required: true }));
    // Assess
    expect(sent[0]?.body.get('payment_method_options[card][request_three_d_secure]')).toBe('any');
  });

  it('sends off_session and no return_url for a merchant-initiated payment', async () => {
    // Prepare
    const { gateway, sent } = gatewayAnswering(200, paymentIntent({ amount_capturable: 2599 }));
    // Act
    await gateway.authorize(input({ returnUrl: RETURN_URL, offSession: true }, true));
    // Assess
    expect(sent[0]?.body.get('off_session')).toBe('true');
    expect(sent[0]?.body.has('return_url')).toBe(false);
  });
});

describe('the confirm answer', () => {
  it('requires_action with redirect_to_url is the port requires-action outcome: nothing authorized, the next action', async () => {
    // Prepare
    const { gateway } = gatewayAnswering(
      200,
      paymentIntent({
        status: 'requires_action',
        next_action: { type: 'redirect_to_url', redirect_to_url: { url: CHALLENGE_URL, return_url: RETURN_URL } },
      }),
    );
    // Act
    const answer = await gateway.authorize(input({ returnUrl: RETURN_URL }));
    // Assess
    expect(answer).toEqual({
      pspReference: 'pi_1',
      authorizedAmount: 0,
      nextAction: { type: 'redirect_to_url', redirectToUrl: { url: CHALLENGE_URL, returnUrl: RETURN_URL } },
    });
  });

  it('requires_action that only Stripe.js can follow (use_stripe_sdk) is refused, not mistaken for a redirect', async () => {
    // Prepare
    const { gateway } = gatewayAnswering(
      200,
      paymentIntent({ status: 'requires_action', next_action: { type: 'use_stripe_sdk', use_stripe_sdk: {} } }),
    );
    // Act
    const failure = await gateway.authorize(input({})).then(
      () => undefined,
      (error: unknown) => error,
    );
    // Assess
    expect(failure).toBeInstanceOf(PspRejectedError);
  });

  it('a frictionless authorization carries its liability data', async () => {
    // Prepare
    const { gateway } = gatewayAnswering(
      200,
      paymentIntent({
        amount_capturable: 2599,
        latest_charge: {
          id: 'ch_1',
          object: 'charge',
          amount_refunded: 0,
          payment_method_details: {
            type: 'card',
            card: {
              network_transaction_id: 'ntid_9',
              three_d_secure: {
                authentication_flow: 'frictionless',
                result: 'authenticated',
                electronic_commerce_indicator: '05',
              },
            },
          },
        },
      }),
    );
    // Act
    const answer = await gateway.authorize(input({ returnUrl: RETURN_URL }));
    // Assess
    expect(answer).toEqual({
      pspReference: 'pi_1',
      authorizedAmount: 2599,
      networkTransactionId: 'ntid_9',
      authentication: { flow: 'frictionless', authenticated: true, liabilityShift: true, eci: '05' },
    });
  });

  it('off-session authentication_required is a decline with that code', async () => {
    // Prepare
    const { gateway } = gatewayAnswering(402, {
      error: {
        type: 'card_error',
        code: 'authentication_required',
        decline_code: 'authentication_required',
        message: 'This payment required an authentication action to complete.',
      },
    });
    // Act
    const failure = await gateway.authorize(input({ offSession: true }, true)).then(
      () => undefined,
      (error: unknown) => error,
    );
    // Assess
    expect(failure).toBeInstanceOf(PaymentDeclinedError);
    expect((failure as Error).message).toBe('authentication_required');
  });

  it('canceling a challenge that never authorized (no charge) reports nothing released', async () => {
    // Prepare
    const { gateway } = gatewayAnswering(200, paymentIntent({ status: 'canceled', latest_charge: null }));
    // Act
    const result = await gateway.voidAuthorization({ reference: 'chk_1', pspReference: 'pi_1', idempotencyKey: 'chk_1:void' });
    // Assess
    expect(result).toEqual({ pspOperationId: 'pi_1:canceled', amount: 0 });
  });
});

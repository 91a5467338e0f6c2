/**
 * Stripe SDK errors become Paystep's typed errors at the connector: declines keep their code,
 * outages are transient, timeouts are "outcome unknown", the rest is a refusal.
 */
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { translateStripeError } from '../../../../lambdas/connectors/stripe/errors';
import { PaymentDeclinedError, PspRejectedError, PspTimeoutError, PspUnavailableError } from '../../../../lambdas/errors';

const {
  StripeAPIError,
  StripeCardError,
  StripeConnectionError,
  StripeIdempotencyError,
  StripeInvalidRequestError,
  StripeRateLimitError,
  StripeAuthenticationError,
} = Stripe.errors;

describe('translateStripeError', () => {
  it('turns a card error into a decline carrying the issuer decline code', () => {
    // Act
    const error = translateStripeError(
      new StripeCardError({
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'stolen_card',
        message: 'Your card was declined.',
        statusCode: 402,
      }),
      'authorize',
    );
    // Assess
    expect(error).toBeInstanceOf(PaymentDeclinedError);
    expect(error.message).toBe('stolen_card');
  });

  it.each([
    ['an API error (5xx)', new StripeAPIError({ type: 'api_error', message: 'down', statusCode: 503 })],
    ['a rate limit (429)', new StripeRateLimitError({ type: 'invalid_request_error', message: 'slow down', statusCode: 429 })],
    [
      'a lock timeout (409)',
      new StripeInvalidRequestError({ type: 'invalid_request_error', code: 'lock_timeout', message: 'busy', statusCode: 409 }),
    ],
    [
      'a refused connection',
      new StripeConnectionError({
        type: 'api_error',
        message: 'An error occurred with our connection to Stripe.',
        detail: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      }),
    ],
    ['a non-Stripe failure', new TypeError('socket hang up')],
  ])('treats %s as transient (PspUnavailableError)', (_label, raw) => {
    // Act
    const error = translateStripeError(raw, 'capture');
    // Assess
    expect(error).toBeInstanceOf(PspUnavailableError);
  });

  it('treats the SDK timeout as an unknown outcome (PspTimeoutError)', () => {
    // Prepare
    const raw = new StripeConnectionError({
      type: 'api_error',
      message: 'Request aborted due to timeout being reached (8000ms)',
      detail: Object.assign(new TypeError('ETIMEDOUT'), { code: 'ETIMEDOUT' }),
    });
    // Act
    const error = translateStripeError(raw, 'authorize');
    // Assess
    expect(error).toBeInstanceOf(PspTimeoutError);
  });

  it.each([
    [
      'a bad request',
      new StripeInvalidRequestError({
        type: 'invalid_request_error',
        code: 'payment_intent_unexpected_state',
        message: 'nope',
        statusCode: 400,
      }),
    ],
    [
      'an idempotency key reused with other parameters',
      new StripeIdempotencyError({ type: 'idempotency_error', message: 'Keys for idempotent requests...', statusCode: 400 }),
    ],
    [
      'a wrong API key',
      new StripeAuthenticationError({ type: 'invalid_request_error', message: 'Invalid API Key', statusCode: 401 }),
    ],
  ])('treats %s as a refusal (PspRejectedError) and never says the card was declined', (_label, raw) => {
    // Act
    const error = translateStripeError(raw, 'void');
    // Assess
    expect(error).toBeInstanceOf(PspRejectedError);
    expect(error).not.toBeInstanceOf(PaymentDeclinedError);
  });
});

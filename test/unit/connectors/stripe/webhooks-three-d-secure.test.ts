/**
 * Stripe webhooks about a 3-D Secure challenge, read by the connector's webhook reader into the
 * same callback outcomes the sandbox connector produces (authorization.succeeded / .failed): the
 * completed challenge (`payment_intent.amount_capturable_updated`) is `authorized`, the failed one
 * and the decline after it (`payment_intent.payment_failed`) are `declined`, and
 * `payment_intent.requires_action` is ignored (the saga learned it from the confirm).
 */
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { StripeWebhookReader } from '../../../../lambdas/connectors/stripe/webhooks';
import { signStripePayload } from '../../../../local/stripe-sandbox/webhook-sender';

const SECRET = 'whsec_unit_three_d_secure';
const NOW = new Date('2026-11-30T12:00:00Z');

function delivery(type: string, object: Record<string, unknown>) {
  const rawBody = JSON.stringify({
    id: `evt_${type.replace(/\W/g, '')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(NOW.getTime() / 1000),
    type,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
  });
  const signature = signStripePayload(SECRET, Math.floor(NOW.getTime() / 1000), rawBody);
  return { rawBody, headers: { 'stripe-signature': signature }, now: NOW };
}

function intent(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    id: 'pi_3ds',
    object: 'payment_intent',
    amount: 2599,
    amount_capturable: 0,
    amount_received: 0,
    currency: 'eur',
    metadata: { reference: 'chk_3ds' },
    ...fields,
  };
}

const reader = new StripeWebhookReader(new Stripe('sk_test_unit'), [SECRET], async () => undefined);

describe('3-D Secure webhooks', () => {
  it('a completed challenge (amount_capturable_updated) reports the authorization authorized', async () => {
    // Act
    const reading = await reader.read(
      delivery('payment_intent.amount_capturable_updated', intent({ status: 'requires_capture', amount_capturable: 2599 })),
    );
    // Assess
    expect(reading).toMatchObject({
      kind: 'callback',
      callback: { state: 'authorized', authorizationId: 'pi_3ds', reference: 'chk_3ds', amount: 2599, currency: 'EUR' },
    });
  });

  it('a failed challenge (payment_failed, authentication failure) reports it declined', async () => {
    // Act
    const reading = await reader.read(
      delivery(
        'payment_intent.payment_failed',
        intent({
          status: 'requires_payment_method',
          last_payment_error: { type: 'invalid_request_error', code: 'payment_intent_authentication_failure' },
        }),
      ),
    );
    // Assess
    expect(reading).toMatchObject({ kind: 'callback', callback: { state: 'declined', reference: 'chk_3ds' } });
  });

  it('the decline after a completed challenge reports it declined', async () => {
    // Act
    const reading = await reader.read(
      delivery(
        'payment_intent.payment_failed',
        intent({
          status: 'requires_payment_method',
          last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds' },
        }),
      ),
    );
    // Assess
    expect(reading).toMatchObject({ kind: 'callback', callback: { state: 'declined' } });
  });

  it('payment_intent.requires_action is verified and ignored', async () => {
    // Act
    const reading = await reader.read(delivery('payment_intent.requires_action', intent({ status: 'requires_action' })));
    // Assess
    expect(reading).toEqual({ kind: 'ignored', type: 'payment_intent.requires_action' });
  });
});

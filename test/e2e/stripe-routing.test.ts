/**
 * The `stripe` connector under Paystep, over HTTP against the running local stack (`npm start` as
 * a child process, with its Stripe-protocol sandbox): the Stripe webhook route
 * (`POST /v1/psp/stripe/callbacks`, verified with `Stripe-Signature`).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaystepClient } from '../../local/paystep-client';
import { signStripePayload } from '../../local/stripe-sandbox/webhook-sender';
import { startStackProcess, type StackProcess } from './harness';

const WEBHOOK_SECRET = `whsec_${randomBytes(18).toString('base64url')}`;

/** A Stripe `event` object as Stripe sends it (the fields the SDK's constructEvent reads). */
function stripeEvent(type: string, object: Record<string, unknown>): string {
  return JSON.stringify({
    id: `evt_${randomBytes(8).toString('hex')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    type,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
  });
}

async function postWebhook(stack: StackProcess, body: string, signature: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${stack.apiUrl}/v1/psp/stripe/callbacks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body,
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

describe('the stripe connector (one stack)', () => {
  let stack: StackProcess;
  let api: PaystepClient;

  beforeAll(async () => {
    stack = await startStackProcess({ STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, PSP_TIMEOUT_MS: '2000' });
    api = new PaystepClient(stack.apiUrl);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  describe('the Stripe webhook route', () => {
    it('answers a verified event Paystep does not use 200 and ignores it', async () => {
      // Prepare
      const body = stripeEvent('charge.refunded', { id: 'ch_1', object: 'charge', amount: 100 });
      // Act
      const answer = await postWebhook(stack, body, signStripePayload(WEBHOOK_SECRET, Math.floor(Date.now() / 1000), body));
      // Assess
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ received: true, result: 'ignored', state: 'charge.refunded' });
    });

    it('refuses a body signed with another secret 401, before reading it', async () => {
      // Prepare
      const body = stripeEvent('payment_intent.succeeded', { id: 'pi_1', object: 'payment_intent' });
      const forged = signStripePayload('whsec_not_the_endpoints', Math.floor(Date.now() / 1000), body);
      // Act
      const answer = await postWebhook(stack, body, forged);
      // Assess
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: expect.any(String) as string } });
    });

    it('records a verified PaymentIntent event about no Paystep authorization as unmatched, changing nothing', async () => {
      // Prepare: a checkout that never paid; an event naming it as reference
      const created = await api.call<{ id: string; status: string }>('POST', '/v1/checkouts', {
        token: stack.secretKey,
        body: {
          merchant_order_ref: `wh_${randomBytes(6).toString('hex')}`,
          amount: 2500,
          currency: 'USD',
          items: [{ sku: 'tshirt', name: 'Paystep T-shirt', quantity: 1 }],
          success_url: `${stack.merchantUrl}/thanks`,
          failure_url: `${stack.merchantUrl}/sorry`,
        },
      });
      expect(created.status, created.text).toBe(201);
      const body = stripeEvent('payment_intent.amount_capturable_updated', {
        id: 'pi_forged',
        object: 'payment_intent',
        amount: 2500,
        amount_capturable: 2500,
        amount_received: 0,
        currency: 'usd',
        status: 'requires_capture',
        metadata: { reference: created.body.id },
      });
      // Act
      const answer = await postWebhook(stack, body, signStripePayload(WEBHOOK_SECRET, Math.floor(Date.now() / 1000), body));
      // Assess
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ received: true, result: 'unmatched' });
      const after = await api.call<{ status: string }>('GET', `/v1/checkouts/${created.body.id}`, { token: stack.secretKey });
      expect(after.body.status).toBe('open');
    });
  });
});

/**
 * The callback functions' readers (lambdas/connectors/callback-readers.ts): a connector takes
 * callbacks only where its secrets are configured, and Stripe's reader, built at cold start without
 * the Stripe SDK, verifies and maps a delivery on its first read (the SDK imported then).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { callbackReadersFromEnv } from '../../../lambdas/connectors/callback-readers';
import { signStripePayload } from '../../../local/stripe-sandbox/webhook-sender';

/** Set when the Stripe SDK is first imported (the mock passes the real module through). */
const loaded = vi.hoisted(() => ({ stripeSdk: false }));
vi.mock('stripe', async (importOriginal) => {
  loaded.stripeSdk = true;
  return await importOriginal();
});

const SECRET = 'whsec_unit_callback_readers';
const NOW = new Date('2026-12-01T12:00:00Z');

function stripeDelivery(secret: string) {
  const created = Math.floor(NOW.getTime() / 1000);
  const rawBody = JSON.stringify({
    id: 'evt_readers',
    object: 'event',
    api_version: '2026-10-28.endive',
    created,
    type: 'payment_intent.amount_capturable_updated',
    data: {
      object: {
        id: 'pi_readers',
        object: 'payment_intent',
        amount: 1250,
        amount_capturable: 1250,
        amount_received: 0,
        currency: 'eur',
        status: 'requires_capture',
        metadata: { reference: 'chk_readers' },
      },
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
  });
  return { rawBody, headers: { 'stripe-signature': signStripePayload(secret, created, rawBody) }, now: NOW };
}

describe('callbackReadersFromEnv', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('lists no reader for a connector whose callback secrets are not configured', async () => {
    // Prepare
    vi.stubEnv('SANDBOX_PSP_CALLBACK_SECRET', '');
    vi.stubEnv('STRIPE_WEBHOOK_SECRET', '');
    vi.stubEnv('STRIPE_API_KEY', 'sk_test_unit');
    // Act
    const readers = await callbackReadersFromEnv();
    // Assess
    expect(Object.keys(readers)).toEqual([]);
  });

  it("builds Stripe's reader from its secrets and reads a signed delivery on the first callback", async () => {
    // Prepare
    vi.stubEnv('SANDBOX_PSP_CALLBACK_SECRET', 'sandbox_unit_secret');
    vi.stubEnv('STRIPE_WEBHOOK_SECRET', SECRET);
    vi.stubEnv('STRIPE_API_KEY', 'sk_test_unit');
    // Act
    const readers = await callbackReadersFromEnv();
    const sdkLoadedAtColdStart = loaded.stripeSdk;
    const reading = await readers['stripe']!.read(stripeDelivery(SECRET));
    const forged = await readers['stripe']!.read(stripeDelivery('whsec_someone_else'));
    // Assess
    expect(Object.keys(readers)).toEqual(['sandbox', 'stripe']);
    expect(sdkLoadedAtColdStart).toBe(false);
    expect(loaded.stripeSdk).toBe(true);
    expect(reading).toMatchObject({
      kind: 'callback',
      callback: { id: 'evt_readers', state: 'authorized', authorizationId: 'pi_readers', reference: 'chk_readers', amount: 1250 },
    });
    expect(forged).toEqual({ kind: 'bad_signature', reason: 'mismatch' });
  });

  it('refuses a Stripe key that is not a secret or restricted key when the reader is built', async () => {
    // Prepare
    vi.stubEnv('STRIPE_WEBHOOK_SECRET', SECRET);
    vi.stubEnv('STRIPE_API_KEY', 'pk_test_publishable');
    // Act + Assess
    await expect(callbackReadersFromEnv()).rejects.toThrow(/STRIPE_API_KEY must be a Stripe secret or restricted key/);
  });
});

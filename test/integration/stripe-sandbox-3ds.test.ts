/**
 * 3-D Secure at the Stripe-protocol sandbox over real HTTP, spoken with the official `stripe` SDK
 * (the wire level, no Paystep code between): the three contract cards, `requires_action` with
 * `next_action.redirect_to_url` for a confirm that passed `return_url`, the challenge page with
 * Complete and Fail, `POST <url>` answering 302 to the return_url, the intent's status afterwards,
 * the signed webhooks reporting the outcome, liability data on the charge, a 3-D Secure request
 * (`request_three_d_secure=any`), off-session `authentication_required`, cancel of an open
 * challenge and a second or late answer that changes nothing; then the same through the `stripe`
 * connector (the domain's view: next action, pending, authorized or declined with its code,
 * liability data).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StripeGateway, stripeClientConfig } from '../../lambdas/connectors/stripe/gateway';
import { SensitiveCard } from '../../lambdas/domain/payment-method';
import { PaymentDeclinedError } from '../../lambdas/errors';
import { startStripeSandbox, type StripeSandbox } from '../../local/stripe-sandbox/server';

const CHALLENGE = '4000002760003184';
const CHALLENGE_THEN_DECLINE = '4000008260003178';
const FRICTIONLESS = '4000000000003055';
const APPROVE = '4242424242424242';
const WEBHOOK_SECRET = 'whsec_test_stripe_sandbox_3ds';
const RETURN_URL = 'http://127.0.0.1:9/checkout/chk_x?three_ds=return';

interface Delivery {
  type: string;
  reference: string | undefined;
  status: string | undefined;
  verified: boolean;
}

interface LedgerRow {
  type: string;
  status: string;
  amount: number;
  failure_code: string | null;
  payment_intent: string | null;
}

let sandbox: StripeSandbox;
let stripe: Stripe;
let receiver: Server;
const deliveries: Delivery[] = [];
let counter = 0;
const nextReference = (): string => `chk_s3ds_${Date.now()}_${(counter += 1)}`;

beforeAll(async () => {
  const verifier = new Stripe('sk_test_verifier');
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const header = String(request.headers['stripe-signature'] ?? '');
      let verified = true;
      try {
        verifier.webhooks.constructEvent(raw, header, WEBHOOK_SECRET);
      } catch {
        verified = false;
      }
      const event = JSON.parse(raw) as { type: string; data: { object: { status?: string; metadata?: { reference?: string } } } };
      deliveries.push({
        type: event.type,
        reference: event.data.object.metadata?.reference,
        status: event.data.object.status,
        verified,
      });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as AddressInfo).port;
  sandbox = await startStripeSandbox({ webhooks: { url: `http://127.0.0.1:${port}/hooks`, secret: WEBHOOK_SECRET } });
  stripe = new Stripe(sandbox.apiKey, stripeClientConfig({ apiKey: sandbox.apiKey, baseUrl: sandbox.url, timeoutMs: 3000 }));
});

afterAll(async () => {
  await sandbox.stop();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

async function paymentMethod(number: string): Promise<string> {
  const method = await stripe.paymentMethods.create({
    type: 'card',
    card: { number, exp_month: 12, exp_year: 2040, cvc: '123' },
  });
  return method.id;
}

/** Creates and confirms a manual-capture PaymentIntent as the connector does. */
async function confirm(
  number: string,
  reference: string,
  extra: Partial<Stripe.PaymentIntentCreateParams> = { return_url: RETURN_URL },
): Promise<Stripe.PaymentIntent> {
  return stripe.paymentIntents.create(
    {
      amount: 2599,
      currency: 'eur',
      capture_method: 'manual',
      confirm: true,
      payment_method: await paymentMethod(number),
      metadata: { reference },
      expand: ['latest_charge'],
      ...extra,
    },
    { idempotencyKey: `${reference}:authorize` },
  );
}

function challengeUrl(intent: Stripe.PaymentIntent): string {
  const url = intent.next_action?.redirect_to_url?.url;
  if (typeof url !== 'string') throw new Error(`no redirect_to_url on ${intent.id}`);
  return url;
}

async function answer(url: string, outcome: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `outcome=${outcome}`,
  });
}

async function ledger(reference: string): Promise<LedgerRow[]> {
  const response = await fetch(`${sandbox.url}/v1/test/ledger?reference=${encodeURIComponent(reference)}`);
  return ((await response.json()) as { operations: LedgerRow[] }).operations;
}

async function retrieve(id: string): Promise<Stripe.PaymentIntent> {
  return stripe.paymentIntents.retrieve(id, { expand: ['latest_charge'] });
}

function threeDSecureOf(intent: Stripe.PaymentIntent) {
  const charge = intent.latest_charge;
  return typeof charge === 'object' && charge !== null ? charge.payment_method_details?.card?.three_d_secure : undefined;
}

async function webhooksFor(reference: string, type: string): Promise<Delivery[]> {
  for (let tries = 0; tries < 100; tries += 1) {
    const rows = deliveries.filter((row) => row.reference === reference && row.type === type);
    if (rows.length > 0) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return [];
}

describe('challenge card 4000002760003184', () => {
  it('answers requires_action with a redirect to the challenge page and the return_url, nothing authorized yet', async () => {
    // Prepare
    const reference = nextReference();
    // Act
    const intent = await confirm(CHALLENGE, reference);
    // Assess
    expect(intent.status).toBe('requires_action');
    expect(intent.amount_capturable).toBe(0);
    expect(intent.latest_charge).toBeNull();
    expect(intent.next_action).toEqual({
      type: 'redirect_to_url',
      redirect_to_url: { url: `${sandbox.url}/3d_secure_2/challenge/${intent.id}`, return_url: RETURN_URL },
    });
    expect(await ledger(reference)).toEqual([]);
  });

  it('serves a plain-HTML challenge page with labelled Complete and Fail submit buttons and never the card number', async () => {
    // Prepare
    const intent = await confirm(CHALLENGE, nextReference());
    // Act
    const page = await fetch(challengeUrl(intent));
    const html = await page.text();
    // Assess
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('Stripe sandbox');
    expect(html).toMatch(/<button type="submit" name="outcome" value="complete"[^>]*>Complete authentication<\/button>/);
    expect(html).toMatch(/<button type="submit" name="outcome" value="fail"[^>]*>Fail authentication<\/button>/);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('tabindex="-1"');
    expect(html).toContain('EUR 25.99');
    expect(html).toContain('3184');
    expect(html).not.toContain(CHALLENGE);
  });

  it('completed: 302 to the return_url, requires_capture with challenge liability data, a signed amount_capturable_updated webhook', async () => {
    // Prepare
    const reference = nextReference();
    const intent = await confirm(CHALLENGE, reference);
    // Act
    const redirect = await answer(challengeUrl(intent), 'complete');
    const after = await retrieve(intent.id);
    // Assess
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(RETURN_URL);
    expect(after).toMatchObject({ status: 'requires_capture', amount_capturable: 2599, next_action: null });
    expect(threeDSecureOf(after)).toMatchObject({
      authentication_flow: 'challenge',
      result: 'authenticated',
      electronic_commerce_indicator: '05',
    });
    const rows = await ledger(reference);
    expect(rows).toMatchObject([{ type: 'authorize', status: 'succeeded', amount: 2599, payment_intent: intent.id }]);
    const hooks = await webhooksFor(reference, 'payment_intent.amount_capturable_updated');
    expect(hooks).toEqual([
      { type: 'payment_intent.amount_capturable_updated', reference, status: 'requires_capture', verified: true },
    ]);
  });

  it('failed: 302 to the return_url, requires_payment_method with an authentication failure, a payment_failed webhook', async () => {
    // Prepare
    const reference = nextReference();
    const intent = await confirm(CHALLENGE, reference);
    // Act
    const redirect = await answer(challengeUrl(intent), 'fail');
    const after = await retrieve(intent.id);
    // Assess
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(RETURN_URL);
    expect(after.status).toBe('requires_payment_method');
    expect(after.last_payment_error?.code).toBe('payment_intent_authentication_failure');
    expect(after.amount_capturable).toBe(0);
    expect(await ledger(reference)).toMatchObject([
      { type: 'authorize', status: 'failed', failure_code: 'authentication_failed' },
    ]);
    const hooks = await webhooksFor(reference, 'payment_intent.payment_failed');
    expect(hooks).toEqual([
      { type: 'payment_intent.payment_failed', reference, status: 'requires_payment_method', verified: true },
    ]);
  });

  it('a second or late answer changes nothing: still requires_capture, one authorization row', async () => {
    // Prepare
    const reference = nextReference();
    const intent = await confirm(CHALLENGE, reference);
    const url = challengeUrl(intent);
    // Act
    const first = await answer(url, 'complete');
    const second = await answer(url, 'fail');
    const page = await (await fetch(url)).text();
    // Assess
    expect([first.status, second.status]).toEqual([302, 302]);
    expect((await retrieve(intent.id)).status).toBe('requires_capture');
    expect(await ledger(reference)).toHaveLength(1);
    expect(page).toContain('This challenge is completed');
    expect(page).not.toContain('<button');
  });

  it('an open challenge can be canceled: nothing was authorized so nothing is voided; a late answer only redirects', async () => {
    // Prepare
    const reference = nextReference();
    const intent = await confirm(CHALLENGE, reference);
    // Act
    const canceled = await stripe.paymentIntents.cancel(intent.id, {}, { idempotencyKey: `${reference}:void` });
    const late = await answer(challengeUrl(intent), 'complete');
    // Assess
    expect(canceled.status).toBe('canceled');
    expect(late.status).toBe(302);
    expect((await retrieve(intent.id)).status).toBe('canceled');
    expect(await ledger(reference)).toEqual([]);
  });

  it('off-session: declined authentication_required, even on a card saved by a completed challenge', async () => {
    // Prepare
    const reference = nextReference();
    const method = await paymentMethod(CHALLENGE);
    const first = await stripe.paymentIntents.create(
      {
        amount: 2599,
        currency: 'eur',
        capture_method: 'manual',
        confirm: true,
        payment_method: method,
        metadata: { reference },
        setup_future_usage: 'off_session',
        return_url: RETURN_URL,
      },
      { idempotencyKey: `${reference}:authorize` },
    );
    await answer(challengeUrl(first), 'complete');
    const renewal = nextReference();
    // Act
    const failure = await stripe.paymentIntents
      .create(
        {
          amount: 2599,
          currency: 'eur',
          capture_method: 'manual',
          confirm: true,
          payment_method: method,
          metadata: { reference: renewal },
          off_session: true,
        },
        { idempotencyKey: `${renewal}:authorize` },
      )
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    // Assess
    expect(failure).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(failure).toMatchObject({ code: 'authentication_required', decline_code: 'authentication_required', statusCode: 402 });
    expect(await ledger(renewal)).toMatchObject([
      { type: 'authorize', status: 'failed', failure_code: 'authentication_required' },
    ]);
  });

  it('the same Idempotency-Key replays the requires_action answer, never a second intent', async () => {
    // Prepare
    const reference = nextReference();
    const method = await paymentMethod(CHALLENGE);
    const params: Stripe.PaymentIntentCreateParams = {
      amount: 2599,
      currency: 'eur',
      capture_method: 'manual',
      confirm: true,
      payment_method: method,
      metadata: { reference },
      return_url: RETURN_URL,
    };
    // Act
    const first = await stripe.paymentIntents.create(params, { idempotencyKey: `${reference}:authorize` });
    const replay = await stripe.paymentIntents.create(params, { idempotencyKey: `${reference}:authorize` });
    const search = await stripe.paymentIntents.search({ query: `metadata['reference']:'${reference}'` });
    // Assess
    expect(replay.id).toBe(first.id);
    expect(replay.next_action).toEqual(first.next_action);
    expect(search.data.map((intent) => intent.id)).toEqual([first.id]);
  });
});

describe('other 3-D Secure cards and requests', () => {
  it('4000008260003178 challenges, then declines insufficient_funds once completed (authenticated on the charge)', async () => {
    // Prepare
    const reference = nextReference();
    const intent = await confirm(CHALLENGE_THEN_DECLINE, reference);
    // Act
    const redirect = await answer(challengeUrl(intent), 'complete');
    const after = await retrieve(intent.id);
    // Assess
    expect(intent.status).toBe('requires_action');
    expect(redirect.status).toBe(302);
    expect(after.status).toBe('requires_payment_method');
    expect(after.last_payment_error).toMatchObject({ code: 'card_declined', decline_code: 'insufficient_funds' });
    expect(threeDSecureOf(after)).toMatchObject({ authentication_flow: 'challenge', result: 'authenticated' });
    expect(await ledger(reference)).toMatchObject([{ type: 'authorize', status: 'failed', failure_code: 'insufficient_funds' }]);
    expect(await webhooksFor(reference, 'payment_intent.payment_failed')).toHaveLength(1);
  });

  it('4000000000003055 authenticates frictionless: requires_capture at once with frictionless liability data', async () => {
    // Prepare
    const reference = nextReference();
    // Act
    const intent = await confirm(FRICTIONLESS, reference);
    // Assess
    expect(intent).toMatchObject({ status: 'requires_capture', amount_capturable: 2599, next_action: null });
    expect(threeDSecureOf(intent)).toMatchObject({ authentication_flow: 'frictionless', result: 'authenticated' });
    expect(await ledger(reference)).toMatchObject([{ type: 'authorize', status: 'succeeded' }]);
  });

  it('an ordinary card has no 3-D Secure block on its charge', async () => {
    // Prepare
    const reference = nextReference();
    // Act
    const intent = await confirm(APPROVE, reference);
    // Assess
    expect(intent.status).toBe('requires_capture');
    expect(threeDSecureOf(intent)).toBeNull();
  });

  it('request_three_d_secure=any challenges a card that would not need it (and frictionless cards too)', async () => {
    // Prepare
    const requested = { return_url: RETURN_URL, payment_method_options: { card: { request_three_d_secure: 'any' as const } } };
    // Act
    const approve = await confirm(APPROVE, nextReference(), requested);
    const frictionless = await confirm(FRICTIONLESS, nextReference(), requested);
    // Assess
    expect(approve.status).toBe('requires_action');
    expect(frictionless.status).toBe('requires_action');
    expect(approve.next_action?.type).toBe('redirect_to_url');
  });

  it('without a return_url the next action is use_stripe_sdk, as Stripe answers', async () => {
    // Prepare
    const reference = nextReference();
    // Act
    const intent = await confirm(CHALLENGE, reference, {});
    // Assess
    expect(intent.status).toBe('requires_action');
    expect(intent.next_action?.type).toBe('use_stripe_sdk');
  });

  it('an invalid return_url is refused with parameter url_invalid', async () => {
    // Prepare
    const reference = nextReference();
    // Act
    const failure = await confirm(CHALLENGE, reference, { return_url: 'javascript:alert(1)' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    // Assess
    expect(failure).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(failure).toMatchObject({ code: 'url_invalid', param: 'return_url' });
  });

  it('an unknown challenge page is a 404 page', async () => {
    // Prepare
    const url = `${sandbox.url}/3d_secure_2/challenge/pi_doesnotexist`;
    // Act
    const page = await fetch(url);
    // Assess
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('This challenge is unknown');
  });
});

describe('through the stripe connector', () => {
  const gatewayOf = (): StripeGateway => new StripeGateway({ apiKey: sandbox.apiKey, baseUrl: sandbox.url, timeoutMs: 3000 });
  const authorize = (
    number: string,
    reference: string,
    threeDSecure: { returnUrl?: string; offSession?: boolean; required?: boolean },
  ) =>
    gatewayOf().authorize({
      reference,
      source: {
        type: 'card',
        card: new SensitiveCard('pm_vault_3ds', number, 12, 2049, '123'),
        cardOnFile: { initiator: 'customer', stored: false },
      },
      amount: 2599,
      currency: 'EUR',
      idempotencyKey: `${reference}:att_1:authorize`,
      threeDSecure,
    });

  it('a challenge is the requires-action outcome, pending in the view and found by reference; completed it is authorized with liability shift', async () => {
    // Prepare
    const reference = nextReference();
    const answerOfConfirm = await authorize(CHALLENGE, reference, { returnUrl: RETURN_URL });
    const pending = await gatewayOf().getAuthorization(answerOfConfirm.pspReference);
    const found = await gatewayOf().findAuthorizations(reference);
    // Act
    await answer(answerOfConfirm.nextAction?.redirectToUrl.url ?? '', 'complete');
    const view = await gatewayOf().getAuthorization(answerOfConfirm.pspReference);
    // Assess
    expect(answerOfConfirm).toMatchObject({
      authorizedAmount: 0,
      nextAction: { type: 'redirect_to_url', redirectToUrl: { returnUrl: RETURN_URL } },
    });
    expect(pending).toMatchObject({ state: 'pending', pspStatus: 'requires_action', nextAction: answerOfConfirm.nextAction });
    expect(found.map((row) => row.state)).toEqual(['pending']);
    expect(view).toMatchObject({
      state: 'authorized',
      capturableAmount: 2599,
      authentication: { flow: 'challenge', authenticated: true, liabilityShift: true, eci: '05' },
    });
  });

  it('a failed challenge is declined authentication_failed; the decline card declined insufficient_funds', async () => {
    // Prepare
    const failedRef = nextReference();
    const declinedRef = nextReference();
    const failed = await authorize(CHALLENGE, failedRef, { returnUrl: RETURN_URL });
    const declined = await authorize(CHALLENGE_THEN_DECLINE, declinedRef, { returnUrl: RETURN_URL });
    // Act
    await answer(failed.nextAction?.redirectToUrl.url ?? '', 'fail');
    await answer(declined.nextAction?.redirectToUrl.url ?? '', 'complete');
    // Assess
    expect(await gatewayOf().getAuthorization(failed.pspReference)).toMatchObject({
      state: 'declined',
      failureCode: 'authentication_failed',
    });
    expect(await gatewayOf().getAuthorization(declined.pspReference)).toMatchObject({
      state: 'declined',
      failureCode: 'insufficient_funds',
    });
  });

  it('frictionless authorizes at once with frictionless liability data; a required 3-D Secure challenges it instead', async () => {
    // Act
    const frictionless = await authorize(FRICTIONLESS, nextReference(), { returnUrl: RETURN_URL });
    const required = await authorize(FRICTIONLESS, nextReference(), { returnUrl: RETURN_URL, required: true });
    // Assess
    expect(frictionless).toMatchObject({
      authorizedAmount: 2599,
      authentication: { flow: 'frictionless', authenticated: true, liabilityShift: true },
    });
    expect(required.nextAction?.type).toBe('redirect_to_url');
  });

  it('off-session, a challenge card is declined authentication_required', async () => {
    // Prepare
    const reference = nextReference();
    // Act
    const failure = await authorize(CHALLENGE, reference, { returnUrl: RETURN_URL, offSession: true }).then(
      () => undefined,
      (error: unknown) => error,
    );
    // Assess
    expect(failure).toBeInstanceOf(PaymentDeclinedError);
    expect((failure as Error).message).toBe('authentication_required');
  });
});

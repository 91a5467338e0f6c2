/**
 * The `stripe` connector (the official SDK, unchanged) against the Stripe-protocol sandbox over
 * real HTTP, each suite its own sandbox on a random port: authorize -> partial capture -> refund,
 * void, declines with their codes, 503 then the same-key retry, outage modes, idempotent replays,
 * recovery by reference, card-on-file, signed webhooks (accepted, forged, replayed, disputes) and
 * the ledger endpoint tests prove the money invariants with.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StripeGateway, stripeWebhookReader, type StripeWebhookReader } from '../../lambdas/connectors/stripe';
import { SensitiveCard } from '../../lambdas/domain/payment-method';
import { PaymentDeclinedError, PspRejectedError, PspTimeoutError, PspUnavailableError } from '../../lambdas/errors';
import { startStripeSandbox, type StripeSandbox } from '../../local/stripe-sandbox/server';

const WEBHOOK_SECRET = 'whsec_test_paystep_stripe_sandbox';
/** A vault card as the vault reveals it for one authorization. */
const card = (number: string): SensitiveCard => new SensitiveCard('pm_vault_test', number, 12, 2049, '123');
const APPROVE = '4242424242424242';
/** A one-off payment by a buyer at the page: the card is not kept. */
const CUSTOMER_PRESENT = { initiator: 'customer', stored: false } as const;

interface Delivery {
  rawBody: string;
  headers: Record<string, string>;
  type: string;
  reference: string | undefined;
}

let sandbox: StripeSandbox;
let gateway: StripeGateway;
let reader: StripeWebhookReader;
let receiver: Server;
const deliveries: Delivery[] = [];
let counter = 0;

const nextReference = (): string => `chk_stripe_${Date.now()}_${(counter += 1)}`;
const nextKey = (step: string): string => `pay_${Date.now()}_${(counter += 1)}:att_1:${step}`;

interface LedgerRow {
  type: string;
  amount: number;
  currency: string;
  status: string;
  reference: string;
  idempotency_key: string;
  failure_code: string | null;
  network_transaction_id: string | null;
  initial_network_transaction_id: string | null;
  off_session: boolean;
}

async function ledger(reference: string): Promise<LedgerRow[]> {
  const response = await fetch(`${sandbox.url}/v1/test/ledger?reference=${encodeURIComponent(reference)}`);
  return ((await response.json()) as { operations: LedgerRow[] }).operations;
}

async function setOutage(mode: 'none' | 'unavailable' | 'timeout'): Promise<number> {
  const response = await fetch(`${sandbox.url}/v1/test/outage`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode }),
  });
  return response.status;
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const event = JSON.parse(rawBody) as {
        type: string;
        data: { object: { metadata?: { reference?: string }; payment_intent?: string } };
      };
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
      deliveries.push({ rawBody, headers, type: event.type, reference: event.data.object.metadata?.reference });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as AddressInfo).port;
  sandbox = await startStripeSandbox({
    hangMs: 1500,
    asyncDelayMs: 300,
    webhooks: { url: `http://127.0.0.1:${port}/hooks`, secret: WEBHOOK_SECRET },
  });
  gateway = new StripeGateway({ apiKey: sandbox.apiKey, baseUrl: sandbox.url, timeoutMs: 800 });
  reader = stripeWebhookReader(gateway, [WEBHOOK_SECRET]);
});

afterAll(async () => {
  await sandbox.stop();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

beforeEach(async () => {
  await setOutage('none');
});

describe('authorize, capture, refund, void', () => {
  it('authorizes card data with manual capture, captures part and refunds part of it', async () => {
    // Prepare
    const reference = nextReference();
    const authorizeKey = nextKey('authorize');
    // Act
    const authorized = await gateway.authorize({
      reference,
      source: { type: 'card', card: card(APPROVE), cardOnFile: CUSTOMER_PRESENT },
      amount: 5000,
      currency: 'EUR',
      idempotencyKey: authorizeKey,
    });
    const captured = await gateway.capture({
      reference,
      pspReference: authorized.pspReference,
      amount: 3000,
      currency: 'EUR',
      idempotencyKey: nextKey('capture'),
    });
    const refunded = await gateway.refund({
      reference,
      pspReference: authorized.pspReference,
      amount: 1000,
      currency: 'EUR',
      idempotencyKey: nextKey('refund'),
    });
    const view = await gateway.getAuthorization(authorized.pspReference);
    // Assess
    expect(authorized).toMatchObject({ authorizedAmount: 5000 });
    expect(authorized.pspReference).toMatch(/^pi_/);
    expect(authorized.pending).toBeUndefined();
    expect(captured.amount).toBe(3000);
    expect(captured.pspOperationId).toMatch(/^ch_/);
    expect(refunded).toMatchObject({ amount: 1000 });
    expect(refunded.pspOperationId).toMatch(/^re_/);
    expect(view).toEqual({
      id: authorized.pspReference,
      state: 'captured',
      pspStatus: 'succeeded',
      amount: 5000,
      currency: 'EUR',
      reference,
      capturedAmount: 3000,
      refundedAmount: 1000,
      capturableAmount: 0,
      refundableAmount: 2000,
    });
    const rows = await ledger(reference);
    expect(rows.map((row) => [row.type, row.amount, row.currency, row.status])).toEqual([
      ['authorize', 5000, 'EUR', 'succeeded'],
      ['capture', 3000, 'EUR', 'succeeded'],
      ['refund', 1000, 'EUR', 'succeeded'],
    ]);
    expect(rows[0]?.idempotency_key).toBe(authorizeKey);
  });

  it('voids an authorization made with a PaymentMethod id, releasing the whole amount', async () => {
    // Prepare
    const reference = nextReference();
    const paymentMethod = await gateway.createPaymentMethod(card('5555555555554444'), nextKey('pm'));
    const authorized = await gateway.authorize({
      reference,
      source: { type: 'token', token: paymentMethod },
      amount: 1299,
      currency: 'USD',
      idempotencyKey: nextKey('authorize'),
    });
    // Act
    const voided = await gateway.voidAuthorization({
      reference,
      pspReference: authorized.pspReference,
      idempotencyKey: nextKey('void'),
    });
    // Assess
    expect(paymentMethod).toMatch(/^pm_/);
    expect(voided).toEqual({ pspOperationId: `${authorized.pspReference}:canceled`, amount: 1299 });
    expect((await gateway.getAuthorization(authorized.pspReference)).state).toBe('voided');
    expect((await ledger(reference)).map((row) => [row.type, row.amount])).toEqual([
      ['authorize', 1299],
      ['void', 1299],
    ]);
  });

  it('captures in parts by multicapture (final_capture=false), then cancel releases the rest and the parts stay refundable', async () => {
    // Prepare
    const reference = nextReference();
    const authorized = await gateway.authorize({
      reference,
      source: { type: 'card', card: card(APPROVE), cardOnFile: CUSTOMER_PRESENT },
      amount: 10000,
      currency: 'USD',
      idempotencyKey: nextKey('authorize'),
    });
    const common = { reference, pspReference: authorized.pspReference, currency: 'USD' };
    // Act
    const first = await gateway.capture({ ...common, amount: 3000, final: false, idempotencyKey: nextKey('capture') });
    const second = await gateway.capture({ ...common, amount: 2000, final: false, idempotencyKey: nextKey('capture') });
    const between = await gateway.getAuthorization(authorized.pspReference);
    const voided = await gateway.voidAuthorization({
      reference,
      pspReference: authorized.pspReference,
      idempotencyKey: nextKey('void'),
    });
    const refunded = await gateway.refund({ ...common, amount: 5000, idempotencyKey: nextKey('refund') });
    const after = await gateway.getAuthorization(authorized.pspReference);
    // Assess: each capture its own amount and id; the rest capturable until the cancel released it
    expect([first.amount, second.amount]).toEqual([3000, 2000]);
    expect(new Set([first.pspOperationId, second.pspOperationId, voided.pspOperationId, authorized.pspReference]).size).toBe(4);
    expect(between).toMatchObject({ state: 'authorized', capturedAmount: 5000, capturableAmount: 5000 });
    expect(voided.amount).toBe(5000);
    expect(refunded.amount).toBe(5000);
    expect(after).toMatchObject({ capturedAmount: 5000, capturableAmount: 0, refundedAmount: 5000, refundableAmount: 0 });
    expect((await ledger(reference)).map((row) => [row.type, row.amount])).toEqual([
      ['authorize', 10000],
      ['capture', 3000],
      ['capture', 2000],
      ['void', 5000],
      ['refund', 5000],
    ]);
  });

  it('refuses a non-final capture of a PaymentIntent created without multicapture, capturing nothing', async () => {
    // Prepare: a PaymentIntent made directly with the SDK, without request_multicapture
    const reference = nextReference();
    const paymentMethod = await gateway.createPaymentMethod(card(APPROVE), nextKey('pm'));
    const intent = await gateway.client.paymentIntents.create({
      amount: 4000,
      currency: 'usd',
      capture_method: 'manual',
      confirm: true,
      payment_method: paymentMethod,
      metadata: { reference },
    });
    // Act
    const attempt = gateway.capture({
      reference,
      pspReference: intent.id,
      amount: 1000,
      currency: 'USD',
      final: false,
      idempotencyKey: nextKey('capture'),
    });
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(PspRejectedError);
    expect((await gateway.getAuthorization(intent.id)).capturableAmount).toBe(4000);
    expect((await ledger(reference)).map((row) => row.type)).toEqual(['authorize']);
  });

  it('refuses to capture more than was authorized (PspRejectedError, nothing captured)', async () => {
    // Prepare
    const reference = nextReference();
    const authorized = await gateway.authorize({
      reference,
      source: { type: 'card', card: card(APPROVE), cardOnFile: CUSTOMER_PRESENT },
      amount: 500,
      currency: 'EUR',
      idempotencyKey: nextKey('authorize'),
    });
    // Act
    const failure = gateway.capture({
      reference,
      pspReference: authorized.pspReference,
      amount: 501,
      currency: 'EUR',
      idempotencyKey: nextKey('capture'),
    });
    // Assess
    await expect(failure).rejects.toBeInstanceOf(PspRejectedError);
    expect((await ledger(reference)).map((row) => row.type)).toEqual(['authorize']);
  });
});

describe('declines', () => {
  it.each([
    ['4000000000000002', 'card_declined'],
    ['4000000000009995', 'insufficient_funds'],
  ])('card %s is declined with code %s and recorded as a failed authorize', async (number, code) => {
    // Prepare
    const reference = nextReference();
    // Act
    const failure = await gateway
      .authorize({
        reference,
        source: { type: 'card', card: card(number), cardOnFile: CUSTOMER_PRESENT },
        amount: 700,
        currency: 'EUR',
        idempotencyKey: nextKey('authorize'),
      })
      .catch((error: unknown) => error);
    // Assess
    expect(failure).toBeInstanceOf(PaymentDeclinedError);
    expect((failure as Error).message).toBe(code);
    expect((await ledger(reference)).map((row) => [row.type, row.status, row.failure_code])).toEqual([
      ['authorize', 'failed', code],
    ]);
  });
});

describe('transient failures and idempotency', () => {
  it('answers 503 to the first try of the 0119 card and authorizes once on the same-key retry', async () => {
    // Prepare
    const reference = nextReference();
    const paymentMethod = await gateway.createPaymentMethod(card('4000000000000119'), nextKey('pm'));
    const input = {
      reference,
      source: { type: 'token' as const, token: paymentMethod },
      amount: 900,
      currency: 'EUR',
      idempotencyKey: nextKey('authorize'),
    };
    // Act
    const first = await gateway.authorize(input).catch((error: unknown) => error);
    const retry = await gateway.authorize(input);
    // Assess
    expect(first).toBeInstanceOf(PspUnavailableError);
    expect(retry.authorizedAmount).toBe(900);
    expect((await ledger(reference)).filter((row) => row.type === 'authorize')).toHaveLength(1);
  });

  it('replays the same answer for the same key and refuses the key with other parameters', async () => {
    // Prepare
    const reference = nextReference();
    const paymentMethod = await gateway.createPaymentMethod(card(APPROVE), nextKey('pm'));
    const key = nextKey('authorize');
    // Act
    const first = await gateway.authorize({
      reference,
      source: { type: 'token', token: paymentMethod },
      amount: 1000,
      currency: 'EUR',
      idempotencyKey: key,
    });
    const replay = await gateway.authorize({
      reference,
      source: { type: 'token', token: paymentMethod },
      amount: 1000,
      currency: 'EUR',
      idempotencyKey: key,
    });
    const misuse = await gateway
      .authorize({
        reference,
        source: { type: 'token', token: paymentMethod },
        amount: 2000,
        currency: 'EUR',
        idempotencyKey: key,
      })
      .catch((error: unknown) => error);
    // Assess
    expect(replay.pspReference).toBe(first.pspReference);
    expect(misuse).toBeInstanceOf(PspRejectedError);
    expect((misuse as Error).message).toContain('idempotency_error');
    expect((await ledger(reference)).filter((row) => row.type === 'authorize')).toHaveLength(1);
  });

  it('marks a replay with Idempotent-Replayed on the wire, form-encoded like the SDK', async () => {
    // Prepare
    const paymentMethod = await gateway.createPaymentMethod(card(APPROVE), nextKey('pm'));
    const body = new URLSearchParams({
      amount: '100',
      currency: 'eur',
      capture_method: 'manual',
      confirm: 'true',
      payment_method: paymentMethod,
      'metadata[reference]': nextReference(),
    }).toString();
    const send = () =>
      fetch(`${sandbox.url}/v1/payment_intents`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${sandbox.apiKey}`,
          'content-type': 'application/x-www-form-urlencoded',
          'idempotency-key': 'wire-replay-1',
        },
        body,
      });
    // Act
    const first = await send();
    const second = await send();
    // Assess
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await second.json()).toEqual(await first.json());
  });

  it('answers a wrong API key 401 with Stripe error object (PspRejectedError through the SDK)', async () => {
    // Prepare
    const wrong = new StripeGateway({ apiKey: 'sk_test_wrong', baseUrl: sandbox.url, timeoutMs: 800 });
    const raw = await fetch(`${sandbox.url}/v1/payment_intents/pi_x`, { headers: { authorization: 'Bearer sk_test_wrong' } });
    // Act
    const failure = await wrong.getAuthorization('pi_x').catch((error: unknown) => error);
    // Assess
    expect(raw.status).toBe(401);
    expect(((await raw.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    expect(failure).toBeInstanceOf(PspRejectedError);
  });
});

describe('outages and recovery by reference', () => {
  it('answers every authorization 503 while unavailable, recording nothing', async () => {
    // Prepare
    const reference = nextReference();
    expect(await setOutage('unavailable')).toBe(200);
    // Act
    const failure = await gateway
      .authorize({
        reference,
        source: { type: 'card', card: card(APPROVE), cardOnFile: CUSTOMER_PRESENT },
        amount: 100,
        currency: 'EUR',
        idempotencyKey: nextKey('authorize'),
      })
      .catch((error: unknown) => error);
    // Assess
    expect(failure).toBeInstanceOf(PspUnavailableError);
    expect(await ledger(reference)).toEqual([]);
  });

  it('holds authorizations past the timeout in timeout mode; the settled truth is "not authorized"', async () => {
    // Prepare
    const reference = nextReference();
    const paymentMethod = await gateway.createPaymentMethod(card(APPROVE), nextKey('pm'));
    await setOutage('timeout');
    // Act
    const failure = await gateway
      .authorize({
        reference,
        source: { type: 'token', token: paymentMethod },
        amount: 100,
        currency: 'EUR',
        idempotencyKey: nextKey('authorize'),
      })
      .catch((error: unknown) => error);
    await setOutage('none');
    const found = await gateway.findAuthorizations(reference);
    // Assess
    expect(failure).toBeInstanceOf(PspTimeoutError);
    expect(found).toEqual([]);
    expect(await ledger(reference)).toEqual([]);
  });

  it('finds by reference the authorization whose answer was lost (hang card), and the same-key retry replays it', async () => {
    // Prepare
    const reference = nextReference();
    const input = {
      reference,
      source: { type: 'card' as const, card: card('4000000000000333'), cardOnFile: CUSTOMER_PRESENT },
      amount: 4200,
      currency: 'EUR',
      idempotencyKey: nextKey('authorize'),
    };
    // Act
    const failure = await gateway.authorize(input).catch((error: unknown) => error);
    const found = await gateway.findAuthorizations(reference);
    const retry = await gateway.authorize(input);
    // Assess
    expect(failure).toBeInstanceOf(PspTimeoutError);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ state: 'authorized', amount: 4200, capturableAmount: 4200, reference });
    expect(retry.pspReference).toBe(found[0]?.id);
    expect((await ledger(reference)).filter((row) => row.type === 'authorize')).toHaveLength(1);
  });
});

describe('card on file', () => {
  it('records the network transaction id of the saving payment and refers to it off-session', async () => {
    // Prepare
    const paymentMethod = await gateway.createPaymentMethod(card(APPROVE), nextKey('pm'));
    const first = await gateway.authorize({
      reference: nextReference(),
      source: { type: 'token', token: paymentMethod, cardOnFile: { initiator: 'customer', stored: true } },
      amount: 1000,
      currency: 'EUR',
      idempotencyKey: nextKey('authorize'),
    });
    const later = nextReference();
    // Act
    const merchantInitiated = await gateway.authorize({
      reference: later,
      source: { type: 'token', token: paymentMethod, cardOnFile: { initiator: 'merchant', stored: true } },
      amount: 1500,
      currency: 'EUR',
      idempotencyKey: nextKey('authorize'),
    });
    // Assess
    expect(first.networkTransactionId).toMatch(/^ntid_/);
    expect(merchantInitiated.authorizedAmount).toBe(1500);
    const [row] = await ledger(later);
    expect(row).toMatchObject({
      type: 'authorize',
      status: 'succeeded',
      off_session: true,
      initial_network_transaction_id: first.networkTransactionId,
    });
  });

  it('declines an off-session payment on a method never saved (authentication_required)', async () => {
    // Prepare
    const paymentMethod = await gateway.createPaymentMethod(card(APPROVE), nextKey('pm'));
    // Act
    const failure = await gateway
      .authorize({
        reference: nextReference(),
        source: { type: 'token', token: paymentMethod, cardOnFile: { initiator: 'merchant', stored: true } },
        amount: 1000,
        currency: 'EUR',
        idempotencyKey: nextKey('authorize'),
      })
      .catch((error: unknown) => error);
    // Assess
    expect(failure).toBeInstanceOf(PaymentDeclinedError);
    expect((failure as Error).message).toBe('authentication_required');
  });
});

describe('webhooks', () => {
  it('reports an async authorization as pending, then authorized by a signed webhook the SDK verifies', async () => {
    // Prepare
    const reference = nextReference();
    const key = nextKey('authorize');
    // Act
    const authorized = await gateway.authorize({
      reference,
      source: { type: 'card', card: card('4000000000000770'), cardOnFile: CUSTOMER_PRESENT },
      amount: 2500,
      currency: 'EUR',
      idempotencyKey: key,
    });
    const delivery = await waitFor(() =>
      deliveries.find((row) => row.reference === reference && row.type === 'payment_intent.amount_capturable_updated'),
    );
    const reading = await reader.read({ rawBody: delivery.rawBody, headers: delivery.headers, now: new Date() });
    // Assess
    expect(authorized).toMatchObject({ pending: true, authorizedAmount: 0 });
    expect(delivery.headers['stripe-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(reading).toEqual({
      kind: 'callback',
      callback: expect.objectContaining({
        type: 'payment_intent.amount_capturable_updated',
        state: 'authorized',
        authorizationId: authorized.pspReference,
        reference,
        amount: 2500,
        currency: 'EUR',
      }),
    });
    expect((await gateway.getAuthorization(authorized.pspReference)).state).toBe('authorized');
    expect(await ledger(reference)).toEqual([
      expect.objectContaining({ type: 'authorize', status: 'succeeded', amount: 2500, idempotency_key: key }),
    ]);
  });

  it('refuses a forged body, a wrong secret, a missing header and a replay outside the tolerance', async () => {
    // Prepare
    const reference = nextReference();
    await gateway.authorize({
      reference,
      source: { type: 'card', card: card(APPROVE), cardOnFile: CUSTOMER_PRESENT },
      amount: 100,
      currency: 'EUR',
      idempotencyKey: nextKey('authorize'),
    });
    const delivery = await waitFor(() => deliveries.find((row) => row.reference === reference));
    const other = stripeWebhookReader(gateway, ['whsec_someone_else']);
    // Act
    const genuine = await reader.read({ rawBody: delivery.rawBody, headers: delivery.headers, now: new Date() });
    const forged = await reader.read({
      rawBody: delivery.rawBody.replace('"amount": 100', '"amount": 1'),
      headers: delivery.headers,
      now: new Date(),
    });
    const wrongSecret = await other.read({ rawBody: delivery.rawBody, headers: delivery.headers, now: new Date() });
    const unsigned = await reader.read({ rawBody: delivery.rawBody, headers: {}, now: new Date() });
    const replayed = await reader.read({
      rawBody: delivery.rawBody,
      headers: delivery.headers,
      now: new Date(Date.now() + 10 * 60_000),
    });
    // Assess
    expect(genuine.kind).toBe('callback');
    expect(forged).toEqual({ kind: 'bad_signature', reason: 'mismatch' });
    expect(wrongSecret).toEqual({ kind: 'bad_signature', reason: 'mismatch' });
    expect(unsigned).toEqual({ kind: 'bad_signature', reason: 'missing' });
    expect(replayed).toEqual({ kind: 'bad_signature', reason: 'stale' });
  });

  it('reads a chargeback (charge.dispute.created) with the reference looked up from its PaymentIntent', async () => {
    // Prepare
    const reference = nextReference();
    const authorized = await gateway.authorize({
      reference,
      source: { type: 'card', card: card(APPROVE), cardOnFile: CUSTOMER_PRESENT },
      amount: 800,
      currency: 'EUR',
      idempotencyKey: nextKey('authorize'),
    });
    await gateway.capture({
      reference,
      pspReference: authorized.pspReference,
      amount: 800,
      currency: 'EUR',
      idempotencyKey: nextKey('capture'),
    });
    // Act
    const opened = await fetch(`${sandbox.url}/v1/test/payment_intents/${authorized.pspReference}/dispute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'fraudulent' }),
    });
    const delivery = await waitFor(() =>
      deliveries.find((row) => row.type === 'charge.dispute.created' && row.rawBody.includes(authorized.pspReference)),
    );
    const reading = await reader.read({ rawBody: delivery.rawBody, headers: delivery.headers, now: new Date() });
    // Assess
    expect(opened.status).toBe(200);
    expect(reading).toEqual({
      kind: 'callback',
      callback: expect.objectContaining({
        state: 'disputed',
        authorizationId: authorized.pspReference,
        reference,
        amount: 800,
        currency: 'EUR',
        reason: 'fraudulent',
      }),
    });
  });

  it('ignores events the saga does not act on (a refund) rather than refusing them', async () => {
    // Prepare
    const reference = nextReference();
    const authorized = await gateway.authorize({
      reference,
      source: { type: 'card', card: card(APPROVE), cardOnFile: CUSTOMER_PRESENT },
      amount: 300,
      currency: 'EUR',
      idempotencyKey: nextKey('authorize'),
    });
    await gateway.capture({
      reference,
      pspReference: authorized.pspReference,
      amount: 300,
      currency: 'EUR',
      idempotencyKey: nextKey('capture'),
    });
    await gateway.refund({
      reference,
      pspReference: authorized.pspReference,
      amount: 300,
      currency: 'EUR',
      idempotencyKey: nextKey('refund'),
    });
    // Act
    const delivery = await waitFor(() => deliveries.find((row) => row.type === 'charge.refunded' && row.reference === reference));
    const reading = await reader.read({ rawBody: delivery.rawBody, headers: delivery.headers, now: new Date() });
    // Assess
    expect(reading).toEqual({ kind: 'ignored', type: 'charge.refunded' });
  });
});

describe('ledger endpoint', () => {
  it('lists operations per reference in the sandbox PSP ledger shape, without card data', async () => {
    // Prepare
    const reference = nextReference();
    const key = nextKey('authorize');
    await gateway.authorize({
      reference,
      source: { type: 'card', card: card(APPROVE), cardOnFile: CUSTOMER_PRESENT },
      amount: 123,
      currency: 'JPY',
      idempotencyKey: key,
    });
    // Act
    const response = await fetch(`${sandbox.url}/v1/test/ledger?reference=${reference}`);
    const text = await response.text();
    // Assess
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toEqual({
      operations: [
        expect.objectContaining({
          type: 'authorize',
          amount: 123,
          currency: 'JPY',
          status: 'succeeded',
          reference,
          idempotency_key: key,
        }),
      ],
    });
    expect(text).not.toContain(APPROVE);
  });
});

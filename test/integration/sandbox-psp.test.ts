/**
 * The sandbox PSP over real HTTP (each suite its own server on a random port): tokenization,
 * the money rules, idempotent replays, test-card behaviours and the ledger tests rely on,
 * driven partly through the SandboxPspGateway adapter the saga uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxPspGateway } from '../../lambdas/connectors/sandbox/gateway';
import { SensitiveCard } from '../../lambdas/domain/payment-method';
import { PaymentDeclinedError, PspRejectedError, PspTimeoutError, PspUnavailableError } from '../../lambdas/errors';
import { fetchAuthorization, fetchLedger, setOutage, tokenizeTestCard } from '../../local/sandbox-psp/client';
import { startSandboxPsp, type SandboxPsp } from '../../local/sandbox-psp/server';

const APPROVE = '4242424242424242';
let psp: SandboxPsp;
let gateway: SandboxPspGateway;
let counter = 0;

const nextReference = (): string => `chk_test_${Date.now()}_${(counter += 1)}`;

interface PspAnswer {
  status: number;
  body: { id?: string; card?: Record<string, unknown>; error?: { code: string; message: string; param?: string } };
  replayed: boolean;
}

async function post(path: string, body: unknown, key?: string): Promise<PspAnswer> {
  const response = await fetch(`${psp.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as PspAnswer['body'],
    replayed: response.headers.get('idempotent-replayed') === 'true',
  };
}

beforeAll(async () => {
  psp = await startSandboxPsp({ hangMs: 1500 });
  gateway = new SandboxPspGateway({ baseUrl: psp.url, timeoutMs: 3000 });
});

afterAll(async () => {
  await psp.stop();
});

describe('tokens', () => {
  it('tokenizes a valid card and keeps only last4', async () => {
    // Act
    const answer = await post('/v1/tokens', { number: '4242 4242 4242 4242', exp_month: 12, exp_year: 2049, cvc: '123' });
    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body.id).toMatch(/^tok_/);
    expect(answer.body.card).toMatchObject({ brand: 'visa', last4: '4242' });
    expect(JSON.stringify(answer.body)).not.toContain('4242424242424242');
  });

  it.each([
    [{ number: '4242424242424241', exp_month: 12, exp_year: 2049, cvc: '123' }, 'invalid_number', 'number'],
    [{ number: APPROVE, exp_month: 13, exp_year: 2049, cvc: '123' }, 'invalid_expiry_month', 'exp_month'],
    [{ number: APPROVE, exp_month: 1, exp_year: 2020, cvc: '123' }, 'expired_card', 'exp_year'],
    [{ number: APPROVE, exp_month: 12, exp_year: 2049, cvc: '12' }, 'invalid_cvc', 'cvc'],
    [{ number: '378282246310005', exp_month: 12, exp_year: 2049, cvc: '123' }, 'invalid_cvc', 'cvc'],
  ])('refuses %j with 400 %s', async (card, code, param) => {
    // Act
    const answer = await post('/v1/tokens', card);
    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code, param });
  });

  it('answers the CORS preflight so a checkout page on another port can tokenize', async () => {
    // Act
    const response = await fetch(`${psp.url}/v1/tokens`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://127.0.0.1:3000',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    // Assess
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
  });
});

describe('money movements', () => {
  it('authorizes, captures partially twice, refunds, and the ledger shows every row', async () => {
    // Prepare
    const reference = nextReference();
    const token = await tokenizeTestCard(psp.url, APPROVE);
    // Act
    const authorization = await gateway.authorize({
      reference,
      source: { type: 'token', token },
      amount: 10050,
      currency: 'USD',
      idempotencyKey: `${reference}-auth`,
    });
    const first = await gateway.capture({
      reference,
      pspReference: authorization.pspReference,
      amount: 5000,
      currency: 'USD',
      idempotencyKey: `${reference}-cap1`,
    });
    const second = await gateway.capture({
      reference,
      pspReference: authorization.pspReference,
      amount: 5050,
      currency: 'USD',
      idempotencyKey: `${reference}-cap2`,
    });
    const refund = await gateway.refund({
      reference,
      pspReference: authorization.pspReference,
      amount: 2000,
      currency: 'USD',
      idempotencyKey: `${reference}-ref1`,
    });
    // Assess
    expect(authorization).toMatchObject({ pspReference: expect.stringMatching(/^auth_/), authorizedAmount: 10050 });
    expect([first.amount, second.amount, refund.amount]).toEqual([5000, 5050, 2000]);
    const rows = await fetchLedger(psp.url, reference);
    expect(
      rows.map((row) => [row.type, row.amount, row.currency, row.status, row.idempotency_key, row.authorization_id]),
    ).toEqual([
      ['authorize', 10050, 'USD', 'succeeded', `${reference}-auth`, authorization.pspReference],
      ['capture', 5000, 'USD', 'succeeded', `${reference}-cap1`, authorization.pspReference],
      ['capture', 5050, 'USD', 'succeeded', `${reference}-cap2`, authorization.pspReference],
      ['refund', 2000, 'USD', 'succeeded', `${reference}-ref1`, authorization.pspReference],
    ]);
    expect(rows.every((row) => row.reference === reference && typeof row.created === 'string')).toBe(true);
    const view = await fetchAuthorization(psp.url, authorization.pspReference);
    expect(view).toMatchObject({
      status: 'partially_refunded',
      captured_amount: 10050,
      refunded_amount: 2000,
      capturable_amount: 0,
      refundable_amount: 8050,
    });
  });

  it('refuses over-capture, over-refund and a currency mismatch, recording failed rows', async () => {
    // Prepare
    const reference = nextReference();
    const token = await tokenizeTestCard(psp.url, APPROVE);
    const { pspReference } = await gateway.authorize({
      reference,
      source: { type: 'token', token },
      amount: 1000,
      currency: 'USD',
      idempotencyKey: `${reference}-a`,
    });
    await gateway.capture({ reference, pspReference, amount: 600, currency: 'USD', idempotencyKey: `${reference}-c1` });
    // Act
    const overCapture = await gateway
      .capture({ reference, pspReference, amount: 401, currency: 'USD', idempotencyKey: `${reference}-c2` })
      .catch((error: unknown) => error);
    const wrongCurrency = await gateway
      .capture({ reference, pspReference, amount: 100, currency: 'EUR', idempotencyKey: `${reference}-c3` })
      .catch((error: unknown) => error);
    const overRefund = await gateway
      .refund({ reference, pspReference, amount: 601, currency: 'USD', idempotencyKey: `${reference}-r1` })
      .catch((error: unknown) => error);
    // Assess
    expect(overCapture).toBeInstanceOf(PspRejectedError);
    expect((overCapture as Error).message).toContain('amount_exceeds_capturable');
    expect((wrongCurrency as Error).message).toContain('currency_mismatch');
    expect(overRefund).toBeInstanceOf(PspRejectedError);
    expect((overRefund as Error).message).toContain('amount_exceeds_refundable');
    const rows = await fetchLedger(psp.url, reference);
    expect(rows.filter((row) => row.status === 'failed').map((row) => [row.type, row.failure_code])).toEqual([
      ['capture', 'amount_exceeds_capturable'],
      ['capture', 'currency_mismatch'],
      ['refund', 'amount_exceeds_refundable'],
    ]);
    expect((await fetchAuthorization(psp.url, pspReference))?.captured_amount).toBe(600);
  });

  it('void releases the remainder and refuses capture after void; void after full capture is refused', async () => {
    // Prepare
    const reference = nextReference();
    const voided = await gateway.authorize({
      reference,
      source: { type: 'token', token: await tokenizeTestCard(psp.url, APPROVE) },
      amount: 3000,
      currency: 'USD',
      idempotencyKey: `${reference}-a1`,
    });
    const full = await gateway.authorize({
      reference,
      source: { type: 'token', token: await tokenizeTestCard(psp.url, APPROVE) },
      amount: 700,
      currency: 'USD',
      idempotencyKey: `${reference}-a2`,
    });
    await gateway.capture({
      reference,
      pspReference: voided.pspReference,
      amount: 1000,
      currency: 'USD',
      idempotencyKey: `${reference}-c1`,
    });
    await gateway.capture({
      reference,
      pspReference: full.pspReference,
      amount: 700,
      currency: 'USD',
      idempotencyKey: `${reference}-c2`,
    });
    // Act
    const release = await gateway.voidAuthorization({
      reference,
      pspReference: voided.pspReference,
      idempotencyKey: `${reference}-v1`,
    });
    const captureAfterVoid = await gateway
      .capture({ reference, pspReference: voided.pspReference, amount: 1, currency: 'USD', idempotencyKey: `${reference}-c3` })
      .catch((error: unknown) => error);
    const voidAfterFullCapture = await gateway
      .voidAuthorization({ reference, pspReference: full.pspReference, idempotencyKey: `${reference}-v2` })
      .catch((error: unknown) => error);
    // Assess
    expect(release.amount).toBe(2000);
    expect(captureAfterVoid).toBeInstanceOf(PspRejectedError);
    expect((captureAfterVoid as Error).message).toContain('authorization_voided');
    expect(voidAfterFullCapture).toBeInstanceOf(PspRejectedError);
    expect((voidAfterFullCapture as Error).message).toContain('authorization_fully_captured');
    expect(await fetchAuthorization(psp.url, voided.pspReference)).toMatchObject({
      status: 'captured',
      captured_amount: 1000,
      voided_amount: 2000,
      capturable_amount: 0,
    });
  });

  it('rejects a mutating call without Idempotency-Key', async () => {
    // Prepare
    const token = await tokenizeTestCard(psp.url, APPROVE);
    // Act
    const answer = await post('/v1/authorizations', { token, amount: 100, currency: 'USD', reference: nextReference() });
    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('idempotency_key_required');
  });

  it('rejects bad amounts with the offending param and records nothing', async () => {
    // Prepare
    const reference = nextReference();
    const token = await tokenizeTestCard(psp.url, APPROVE);
    // Act
    const fractional = await post('/v1/authorizations', { token, amount: 100.5, currency: 'USD', reference }, `${reference}-x`);
    const unknownCurrency = await post(
      '/v1/authorizations',
      { token, amount: 100, currency: 'XYZ', reference },
      `${reference}-y`,
    );
    // Assess
    expect([fractional.status, fractional.body.error?.param]).toEqual([400, 'amount']);
    expect([unknownCurrency.status, unknownCurrency.body.error?.param]).toEqual([400, 'currency']);
    expect(await fetchLedger(psp.url, reference)).toEqual([]);
  });
});

describe('declines and double spend', () => {
  it.each([
    ['4000000000000002', 'card_declined'],
    ['4000000000009995', 'insufficient_funds'],
    ['4000000000000101', 'do_not_honor'],
  ])('card %s is declined with %s and recorded as failed', async (number, code) => {
    // Prepare
    const reference = nextReference();
    const token = await tokenizeTestCard(psp.url, number);
    // Act
    const raw = await post('/v1/authorizations', { token, amount: 500, currency: 'USD', reference }, `${reference}-raw`);
    const viaAdapter = await gateway
      .authorize({
        reference,
        source: { type: 'token' as const, token },
        amount: 500,
        currency: 'USD',
        idempotencyKey: `${reference}-adapter`,
      })
      .catch((error: unknown) => error);
    // Assess
    expect(raw.status).toBe(402);
    expect(raw.body.error?.code).toBe(code);
    expect(viaAdapter).toBeInstanceOf(PaymentDeclinedError);
    expect((viaAdapter as Error).message).toBe(code);
    const rows = await fetchLedger(psp.url, reference);
    expect(rows.map((row) => [row.type, row.status, row.failure_code, row.authorization_id])).toEqual([
      ['authorize', 'failed', code, null],
      ['authorize', 'failed', code, null],
    ]);
  });

  it('refuses a token reused with a new key after success, but replays the same key', async () => {
    // Prepare
    const reference = nextReference();
    const token = await tokenizeTestCard(psp.url, APPROVE);
    const first = await post('/v1/authorizations', { token, amount: 900, currency: 'USD', reference }, `${reference}-1`);
    // Act
    const sameKey = await post('/v1/authorizations', { token, amount: 900, currency: 'USD', reference }, `${reference}-1`);
    const newKey = await post('/v1/authorizations', { token, amount: 900, currency: 'USD', reference }, `${reference}-2`);
    // Assess
    expect(first.status).toBe(200);
    expect(sameKey).toMatchObject({ status: 200, replayed: true, body: first.body });
    expect(newKey.status).toBe(402);
    expect(newKey.body.error?.code).toBe('token_already_used');
    const rows = await fetchLedger(psp.url, reference);
    expect(rows.map((row) => [row.status, row.failure_code])).toEqual([
      ['succeeded', null],
      ['failed', 'token_already_used'],
    ]);
  });

  it('replays a capture with the same key even if the body changed, with no new ledger row', async () => {
    // Prepare
    const reference = nextReference();
    const token = await tokenizeTestCard(psp.url, APPROVE);
    const { pspReference } = await gateway.authorize({
      reference,
      source: { type: 'token', token },
      amount: 1000,
      currency: 'USD',
      idempotencyKey: `${reference}-a`,
    });
    const path = `/v1/authorizations/${pspReference}/capture`;
    const first = await post(path, { amount: 400, currency: 'USD', reference }, `${reference}-c`);
    // Act
    const replay = await post(path, { amount: 999, currency: 'USD', reference }, `${reference}-c`);
    // Assess
    expect(replay).toMatchObject({ status: 200, replayed: true, body: first.body });
    expect((await fetchLedger(psp.url, reference)).filter((row) => row.type === 'capture')).toHaveLength(1);
    expect((await fetchAuthorization(psp.url, pspReference))?.captured_amount).toBe(400);
  });
});

describe('misbehaving cards', () => {
  it('503 on the first attempt, success on the retry with the same key: one succeeded row', async () => {
    // Prepare
    const reference = nextReference();
    const token = await tokenizeTestCard(psp.url, '4000000000000119');
    const input = {
      reference,
      source: { type: 'token' as const, token },
      amount: 1200,
      currency: 'USD',
      idempotencyKey: `${reference}-auth`,
    };
    // Act
    const firstAttempt = await gateway.authorize(input).catch((error: unknown) => error);
    const retry = await gateway.authorize(input);
    // Assess
    expect(firstAttempt).toBeInstanceOf(PspUnavailableError);
    expect(retry.authorizedAmount).toBe(1200);
    const rows = await fetchLedger(psp.url, reference);
    expect(rows.map((row) => [row.type, row.status, row.idempotency_key])).toEqual([
      ['authorize', 'succeeded', `${reference}-auth`],
    ]);
  });

  it('hang card: the adapter times out, the same-key retry gets the stored result at once', async () => {
    // Prepare
    const reference = nextReference();
    const token = await tokenizeTestCard(psp.url, '4000000000000333');
    const impatient = new SandboxPspGateway({ baseUrl: psp.url, timeoutMs: 200 });
    const input = {
      reference,
      source: { type: 'token' as const, token },
      amount: 800,
      currency: 'USD',
      idempotencyKey: `${reference}-auth`,
    };
    // Act
    const timedOut = await impatient.authorize(input).catch((error: unknown) => error);
    const retry = await impatient.authorize(input);
    // Assess
    expect(timedOut).toBeInstanceOf(PspTimeoutError);
    expect(retry.authorizedAmount).toBe(800);
    expect((await fetchLedger(psp.url, reference)).filter((row) => row.status === 'succeeded')).toHaveLength(1);
  });

  it('capture-hang card: authorize is fast, capture times out at the adapter', async () => {
    // Prepare
    const reference = nextReference();
    const token = await tokenizeTestCard(psp.url, '4000000000000440');
    const impatient = new SandboxPspGateway({ baseUrl: psp.url, timeoutMs: 200 });
    const { pspReference } = await impatient.authorize({
      reference,
      source: { type: 'token', token },
      amount: 800,
      currency: 'USD',
      idempotencyKey: `${reference}-a`,
    });
    // Act
    const timedOut = await impatient
      .capture({ reference, pspReference, amount: 800, currency: 'USD', idempotencyKey: `${reference}-c` })
      .catch((error: unknown) => error);
    // Assess
    expect(timedOut).toBeInstanceOf(PspTimeoutError);
    expect((await fetchAuthorization(psp.url, pspReference))?.captured_amount).toBe(800);
  });
});

describe('persistence', () => {
  it('reloads the ledger from dataFile after a restart', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-psp-'));
    const dataFile = join(dir, 'ledger.json');
    const first = await startSandboxPsp({ dataFile });
    const reference = nextReference();
    const token = await tokenizeTestCard(first.url, APPROVE);
    const key = `${reference}-auth`;
    await new SandboxPspGateway({ baseUrl: first.url }).authorize({
      reference,
      source: { type: 'token', token },
      amount: 4200,
      currency: 'KRW',
      idempotencyKey: key,
    });
    await first.stop();
    // Act
    const second = await startSandboxPsp({ dataFile });
    try {
      const rows = await fetchLedger(second.url, reference);
      const reuse = await new SandboxPspGateway({ baseUrl: second.url })
        .authorize({
          reference,
          source: { type: 'token' as const, token },
          amount: 4200,
          currency: 'KRW',
          idempotencyKey: `${key}-new`,
        })
        .catch((error: unknown) => error);
      // Assess
      expect(rows.map((row) => [row.type, row.amount, row.currency, row.status])).toEqual([
        ['authorize', 4200, 'KRW', 'succeeded'],
      ]);
      expect((reuse as Error).message).toBe('token_already_used');
    } finally {
      await second.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('test outage (PUT /v1/test/outage)', () => {
  it('answers new authorizations 503 while unavailable, holds them past the timeout while timing out, and records nothing', async () => {
    // Prepare
    const token = await tokenizeTestCard(psp.url, APPROVE);
    const reference = nextReference();
    const body = { token, amount: 1000, currency: 'USD', reference };
    // Act
    await setOutage(psp.url, 'unavailable');
    const unavailable = await post('/v1/authorizations', body, `${reference}:authorize:1`);
    await setOutage(psp.url, 'timeout');
    const started = Date.now();
    const timedOut = await post('/v1/authorizations', body, `${reference}:authorize:2`);
    const heldMs = Date.now() - started;
    const during = await fetchLedger(psp.url, reference);
    await setOutage(psp.url, 'none');
    const after = await post('/v1/authorizations', body, `${reference}:authorize:3`);
    // Assess
    expect(unavailable.status).toBe(503);
    expect(unavailable.body.error?.code).toBe('psp_unavailable');
    expect(timedOut.status).toBe(503);
    expect(heldMs).toBeGreaterThanOrEqual(1400);
    expect(during).toEqual([]);
    expect(after.status).toBe(200);
    expect((await fetchLedger(psp.url, reference)).map((op) => [op.type, op.status])).toEqual([['authorize', 'succeeded']]);
  });

  it('refuses an unknown mode with 422 and its param', async () => {
    // Act
    const response = await fetch(`${psp.url}/v1/test/outage`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'sometimes' }),
    });
    // Assess
    expect(response.status).toBe(422);
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe('mode');
  });
});

describe('card data with card-on-file flags (vaulted cards)', () => {
  const vaulted = (cvc: string | undefined) => new SensitiveCard('pm_sandbox_test', '5555555555554444', 12, 2049, cvc);

  it('issues a network transaction id to a customer-initiated card authorization and records its flags', async () => {
    // Prepare
    const reference = nextReference();
    // Act
    const authorization = await gateway.authorize({
      reference,
      source: { type: 'card', card: vaulted('123'), cardOnFile: { initiator: 'customer', stored: true } },
      amount: 1500,
      currency: 'USD',
      idempotencyKey: `${reference}-auth`,
    });
    // Assess
    expect(authorization.networkTransactionId).toMatch(/^ntid_/);
    expect(await fetchAuthorization(psp.url, authorization.pspReference)).toMatchObject({
      status: 'authorized',
      card: { last4: '4444' },
      card_on_file: { initiator: 'customer', stored: true },
      network_transaction_id: authorization.networkTransactionId,
    });
  });

  it('refuses a merchant-initiated authorization without a network transaction id it issued, and approves one quoting it', async () => {
    // Prepare
    const first = nextReference();
    const { networkTransactionId } = await gateway.authorize({
      reference: first,
      source: { type: 'card', card: vaulted('123'), cardOnFile: { initiator: 'customer', stored: true } },
      amount: 1500,
      currency: 'USD',
      idempotencyKey: `${first}-auth`,
    });
    const withoutId = nextReference();
    const withId = nextReference();
    // Act
    const refused = await gateway
      .authorize({
        reference: withoutId,
        source: { type: 'card', card: vaulted(undefined), cardOnFile: { initiator: 'merchant', stored: true } },
        amount: 900,
        currency: 'USD',
        idempotencyKey: `${withoutId}-auth`,
      })
      .catch((error: unknown) => error);
    const renewal = await gateway.authorize({
      reference: withId,
      source: {
        type: 'card',
        card: vaulted(undefined),
        cardOnFile: { initiator: 'merchant', stored: true, ...(networkTransactionId ? { networkTransactionId } : {}) },
      },
      amount: 900,
      currency: 'USD',
      idempotencyKey: `${withId}-auth`,
    });
    // Assess
    expect(refused).toBeInstanceOf(PaymentDeclinedError);
    expect((refused as Error).message).toBe('network_transaction_id_required');
    expect(renewal.authorizedAmount).toBe(900);
    expect(renewal.networkTransactionId).toBeUndefined();
    expect((await fetchLedger(psp.url, withoutId)).map((row) => [row.type, row.status])).toEqual([['authorize', 'failed']]);
  });
});

/**
 * Financial instruments end to end in-process: the real API handler on DynamoDB Local, calling
 * the real sandbox PSP server (its own ledger proves what moved). Covers the seed's workflow
 * tables request by request, 50 concurrent refunds on 100 refundable, the seed's idempotency rule
 * (one key, three bodies: three identical answers, one PSP call), a transient PSP failure resumed
 * by the same key, in-flight duplicates, and the 4xx for bad amounts, currencies and states.
 */
import { randomBytes } from 'node:crypto';
import { GetCommand } from '../../lambdas/adapters/dynamo-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/adapters/dynamo-client';
import { instrumentRequestKey } from '../../lambdas/adapters/dynamo-keys';
import { SandboxPspGateway } from '../../lambdas/connectors/sandbox/gateway';
import { startSandboxPsp, type SandboxPsp } from '../../local/sandbox-psp/server';
import { fetchLedger, tokenizeTestCard } from '../../local/sandbox-psp/client';
import { startStripeSandbox, type StripeSandbox } from '../../local/stripe-sandbox/server';
import {
  INSTRUMENT_CONNECTORS,
  pspTotals,
  routingTo,
  sandboxInstrumentPsp,
  stripeInstrumentPsp,
  type InstrumentConnector,
  type InstrumentPsp,
} from '../support/instrument-connectors';
import { expectedBalances, INSTRUMENT_SCENARIOS, type InstrumentScenario } from '../support/instrument-scenarios';
import { apiEvent, startApiTestEnv, type ApiResponse, type ApiTestEnv, type Handler } from './api-test-kit';

const CARD_OK = '4242424242424242';
const CARD_DECLINED = '4000000000000002';
const CARD_5XX_ONCE = '4000000000000119';
const CARD_SLOW_CAPTURE = '4000000000000440';
const PSP_HANG_MS = 2_000;

let env: ApiTestEnv;
let psp: SandboxPsp;
let stripe: StripeSandbox;
let gateway: SandboxPspGateway;
let instrumentsHandler: Handler;
let secretKey: string;
/** Per connector: a merchant whose routing sends its instruments there, and that PSP's test side. */
const seedMerchants = {} as Record<InstrumentConnector, { secretKey: string; psp: InstrumentPsp }>;

interface CallOptions {
  body?: unknown;
  key?: string;
  token?: string;
}

async function call(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
  return await callAs(secretKey, method, path, options);
}

async function callAs(merchantKey: string, method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
  const result = await instrumentsHandler(
    apiEvent(method, path, {
      token: options.token ?? merchantKey,
      ...(options.body !== undefined ? { body: options.body } : {}),
      ...(options.key !== undefined ? { headers: { 'Idempotency-Key': options.key } } : {}),
    }),
    {} as never,
  );
  const rawBody = result.body ?? '';
  return {
    status: result.statusCode ?? 0,
    headers: (result.headers ?? {}) as Record<string, string>,
    rawBody,
    json: rawBody === '' ? undefined : JSON.parse(rawBody),
  };
}

const newKey = (): string => `key_${randomBytes(8).toString('hex')}`;

/** An authorization made directly at the PSP (what a merchant passes as psp_reference). */
async function pspPayment(
  amount: number,
  captured: boolean,
  card = CARD_OK,
): Promise<{ reference: string; pspReference: string }> {
  const token = await tokenizeTestCard(psp.url, card);
  const reference = `ord_${randomBytes(6).toString('hex')}`;
  const authorization = await gateway.authorize({
    reference,
    source: { type: 'token', token },
    amount,
    currency: 'USD',
    idempotencyKey: `${reference}:setup-authorize`,
  });
  if (captured) {
    await gateway.capture({
      reference,
      pspReference: authorization.pspReference,
      amount,
      currency: 'USD',
      idempotencyKey: `${reference}:setup-capture`,
    });
  }
  return { reference, pspReference: authorization.pspReference };
}

/** Creates an instrument through the API; returns the response and the PSP reference its ledger rows carry. */
async function createInstrument(
  type: InstrumentScenario['type'],
  amount: number,
  card = CARD_OK,
  key = newKey(),
): Promise<{ response: ApiResponse; ledgerReference: string }> {
  if (type === 'token') {
    const token = await tokenizeTestCard(psp.url, card);
    const response = await call('POST', '/v1/financial_instruments', {
      key,
      body: { type, amount, currency: 'USD', payment_token: token },
    });
    return { response, ledgerReference: response.json?.id as string };
  }
  const payment = await pspPayment(amount, type === 'captured', card);
  const response = await call('POST', '/v1/financial_instruments', {
    key,
    body: { type, amount, currency: 'USD', psp_reference: payment.pspReference, metadata: { order: payment.reference } },
  });
  return { response, ledgerReference: payment.reference };
}

function pairs(transactions: { capture_amount: number; refund_amount: number }[]): [number, number][] {
  return transactions.map((t) => [t.capture_amount, t.refund_amount]);
}

/** A seed-table instrument of the merchant routed to `psp.connector`; the ledger reference its PSP rows carry. */
async function createSeedInstrument(
  merchant: { secretKey: string; psp: InstrumentPsp },
  type: InstrumentScenario['type'],
  amount: number,
): Promise<{ response: ApiResponse; ledgerReference: string }> {
  if (type === 'token') {
    const response = await call('POST', '/v1/financial_instruments', {
      token: merchant.secretKey,
      key: newKey(),
      body: { type, amount, currency: 'USD', payment_token: await merchant.psp.token(CARD_OK) },
    });
    return { response, ledgerReference: response.json?.id as string };
  }
  const payment = await merchant.psp.payment(amount, type === 'captured');
  const response = await call('POST', '/v1/financial_instruments', {
    token: merchant.secretKey,
    key: newKey(),
    body: { type, amount, currency: 'USD', psp_reference: payment.pspReference, metadata: { order: payment.reference } },
  });
  return { response, ledgerReference: payment.reference };
}

beforeAll(async () => {
  psp = await startSandboxPsp({ hangMs: PSP_HANG_MS });
  stripe = await startStripeSandbox({ hangMs: PSP_HANG_MS });
  env = await startApiTestEnv({
    STRIPE_API_KEY: stripe.apiKey,
    STRIPE_API_URL: stripe.url,
    PAYSTEP_PLATFORM_CONNECTORS: 'sandbox,stripe',
  });
  process.env['SANDBOX_PSP_URL'] = psp.url;
  gateway = new SandboxPspGateway({ baseUrl: psp.url });
  instrumentsHandler = (await import('../../lambdas/api-instruments/handler')).handler as Handler;
  const connectorsHandler = (await import('../../lambdas/api-connectors/handler')).handler as Handler;
  secretKey = (await env.createMerchant('Instrument shop')).secretKey;
  const psps = { sandbox: sandboxInstrumentPsp(psp), stripe: stripeInstrumentPsp(stripe) };
  for (const connector of INSTRUMENT_CONNECTORS) {
    const merchant = await env.createMerchant(`Instrument shop on ${connector}`);
    const routed = await connectorsHandler(
      apiEvent('PUT', '/v1/routing', { token: merchant.secretKey, body: routingTo(connector) }),
      {} as never,
    );
    if (routed.statusCode !== 200) throw new Error(`routing to ${connector} failed: ${routed.body}`);
    seedMerchants[connector] = { secretKey: merchant.secretKey, psp: psps[connector] };
  }
});

afterAll(async () => {
  await env?.stop();
  await psp?.stop();
  await stripe?.stop();
});

/**
 * Every table on both connectors, the merchant's routing choosing the connector. /v1 takes only
 * the sandbox's `tok_` tokens (request schema), so the token tables run on `stripe` through
 * /newstore (test/integration/newstore-adapter.test.ts), which passes any PSP identifier.
 */
const SEED_CASES = INSTRUMENT_CONNECTORS.flatMap((connector) =>
  INSTRUMENT_SCENARIOS.filter((scenario) => connector === 'sandbox' || scenario.type !== 'token').map(
    (scenario) => [connector, scenario.name, scenario] as const,
  ),
);

describe('the seed workflow tables, against DynamoDB Local and each connector', () => {
  it.each(SEED_CASES)('%s: %s', async (connector, _name, scenario) => {
    // Prepare + Act: the creation column
    const merchant = seedMerchants[connector];
    const call = (method: string, path: string, options: CallOptions = {}) => callAs(merchant.secretKey, method, path, options);
    const { response: created, ledgerReference } = await createSeedInstrument(merchant, scenario.type, scenario.amount);
    expect(created.status, created.rawBody).toBe(201);
    expect(created.json.connector).toBe(connector);
    const id = created.json.id as string;
    expect(pairs(created.json.transactions)).toEqual(scenario.steps[0]!.transactions);
    expect(created.json).toMatchObject({
      type: scenario.type,
      status: 'active',
      capturable_amount: scenario.amount,
      refundable_amount: 0,
    });
    if (scenario.type !== 'token') expect(created.json.metadata).toEqual({ order: ledgerReference });

    // Act + Assess: every later column, request by request
    for (const [index, step] of scenario.steps.entries()) {
      if (index === 0) continue;
      const body = step.request === 'revoke' ? {} : { amount: step.amount, currency: 'USD' };
      const answer = await call('POST', `/v1/financial_instruments/${id}/_${step.request}`, { key: newKey(), body });
      expect(answer.status, `${step.context} ${answer.rawBody}`).toBe(200);
      expect(pairs(answer.json.transactions), step.context).toEqual(step.transactions);
      expect(answer.json.transactions.every((t: { status: string }) => t.status === 'succeeded')).toBe(true);
      const balances = expectedBalances(scenario, index);
      expect({ capturable: answer.json.capturable_amount, refundable: answer.json.refundable_amount }, step.context).toEqual(
        balances,
      );
    }

    // Assess: the stored instrument and the PSP's own ledger
    const final = await call('GET', `/v1/financial_instruments/${id}`);
    const last = expectedBalances(scenario, scenario.steps.length - 1);
    expect(final.json).toMatchObject({ capturable_amount: last.capturable, refundable_amount: last.refundable });
    expect(pairs(final.json.transactions)).toEqual(scenario.steps.flatMap((step) => step.transactions));
    expect(pspTotals(await merchant.psp.ledger(ledgerReference))).toEqual(scenario.psp);
  });
});

describe('concurrency', () => {
  it('50 concurrent refunds of 10 on 100 refundable: exactly 10 succeed, refundable 0, the PSP refunded exactly 100', async () => {
    // Prepare
    const { response, ledgerReference } = await createInstrument('token', 100);
    const id = response.json.id as string;
    expect(
      (await call('POST', `/v1/financial_instruments/${id}/_capture`, { key: newKey(), body: { amount: 100, currency: 'USD' } }))
        .status,
    ).toBe(200);
    // Act
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        call('POST', `/v1/financial_instruments/${id}/_refund`, { key: newKey(), body: { amount: 10, currency: 'USD' } }),
      ),
    );
    // Assess
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(answers.filter((a) => a.status !== 200).map((a) => [a.status, a.json.error.code])).toEqual(
      Array(40).fill([422, 'amount_exceeds_refundable']),
    );
    const final = await call('GET', `/v1/financial_instruments/${id}`);
    expect(final.json).toMatchObject({ capturable_amount: 0, refundable_amount: 0 });
    const refunds = (await fetchLedger(psp.url, ledgerReference)).filter((row) => row.type === 'refund');
    expect(refunds.filter((row) => row.status === 'succeeded').reduce((sum, row) => sum + row.amount, 0)).toBe(100);
    expect(refunds).toHaveLength(10); // the 40 refused ones never reached the PSP
  });
});

describe('Idempotency-Key', () => {
  it('3 requests with key abcd and different bodies get 3 identical responses and make one PSP call', async () => {
    // Prepare: its own merchant, so the literal key "abcd" is fresh
    const merchant = await env.createMerchant('Key shop');
    const token = await tokenizeTestCard(psp.url, CARD_OK);
    const created = await call('POST', '/v1/financial_instruments', {
      token: merchant.secretKey,
      key: newKey(),
      body: { type: 'token', amount: 1000, currency: 'USD', payment_token: token },
    });
    const id = created.json.id as string;
    await call('POST', `/v1/financial_instruments/${id}/_capture`, {
      token: merchant.secretKey,
      key: newKey(),
      body: { amount: 1000, currency: 'USD' },
    });
    // Act
    const bodies = [
      { amount: 100, currency: 'USD' },
      { amount: 200, currency: 'USD' },
      { amount: 999999, currency: 'EUR' },
    ];
    const answers = [];
    for (const body of bodies)
      answers.push(
        await call('POST', `/v1/financial_instruments/${id}/_refund`, { token: merchant.secretKey, key: 'abcd', body }),
      );
    // Assess
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(new Set(answers.map((a) => a.rawBody)).size).toBe(1);
    expect(answers.map((a) => a.headers['idempotent-replayed'])).toEqual([undefined, 'true', 'true']);
    const refunds = (await fetchLedger(psp.url, id)).filter((row) => row.type === 'refund');
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({
      amount: 100,
      status: 'succeeded',
      idempotency_key: `${id}:${answers[0]!.json.operation_id as string}`,
    });
    expect((await call('GET', `/v1/financial_instruments/${id}`, { token: merchant.secretKey })).json.refundable_amount).toBe(
      900,
    );
    // The record has no TTL: it lives as long as the instrument (NewStore retries for ~45 days).
    const client = createDocumentClient({ endpoint: env.db.endpoint });
    const { Item } = await client.send(
      new GetCommand({ TableName: env.db.tableName, Key: instrumentRequestKey(`merchant:${merchant.id}`, 'abcd') }),
    );
    expect(Item).toMatchObject({ state: 'completed' });
    expect(Item?.['expiresAt']).toBeUndefined();
    client.destroy();
  });

  it('resumes the same operation after a transient PSP failure (503 first), moving money once', async () => {
    // Prepare: every first attempt per PSP key answers 503
    const key = newKey();
    // Act: creation
    const first = await createInstrument('token', 500, CARD_5XX_ONCE, key);
    const instrumentId = first.response.json?.id as string | undefined;
    expect(first.response.status, first.response.rawBody).toBe(503);
    const retried = await call('POST', '/v1/financial_instruments', {
      key,
      body: { type: 'token', amount: 1, currency: 'USD', payment_token: 'tok_other' },
    });
    // Assess: the retry (even with another body) finished the first instrument
    expect(retried.status, retried.rawBody).toBe(201);
    const id = retried.json.id as string;
    expect(instrumentId).toBeUndefined();
    expect(retried.json).toMatchObject({ amount: 500, capturable_amount: 500, status: 'active' });
    // Act: a capture with the same pattern
    const captureKey = newKey();
    const failed = await call('POST', `/v1/financial_instruments/${id}/_capture`, {
      key: captureKey,
      body: { amount: 500, currency: 'USD' },
    });
    const pending = await call('GET', `/v1/financial_instruments/${id}`);
    const resumed = await call('POST', `/v1/financial_instruments/${id}/_capture`, {
      key: captureKey,
      body: { amount: 500, currency: 'USD' },
    });
    // Assess
    expect(failed.status).toBe(503);
    expect(pending.json.capturable_amount).toBe(0);
    expect(pending.json.transactions.at(-1)).toMatchObject({ type: 'capture', status: 'pending' });
    expect(resumed.status, resumed.rawBody).toBe(200);
    expect(resumed.json).toMatchObject({ capturable_amount: 0, refundable_amount: 500 });
    const ledger = await fetchLedger(psp.url, id);
    expect(ledger.filter((row) => row.status === 'succeeded').map((row) => [row.type, row.amount])).toEqual([
      ['authorize', 500],
      ['capture', 500],
    ]);
  });

  it('answers 409 to a duplicate while the first request is still running', async () => {
    // Prepare: captures on this card are answered only after PSP_HANG_MS
    const { response } = await createInstrument('token', 700, CARD_SLOW_CAPTURE);
    const id = response.json.id as string;
    const key = newKey();
    // Act
    const slow = call('POST', `/v1/financial_instruments/${id}/_capture`, { key, body: { amount: 700, currency: 'USD' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const duplicate = await call('POST', `/v1/financial_instruments/${id}/_capture`, {
      key,
      body: { amount: 700, currency: 'USD' },
    });
    const first = await slow;
    const later = await call('POST', `/v1/financial_instruments/${id}/_capture`, { key, body: { amount: 700, currency: 'USD' } });
    // Assess
    expect(duplicate.status).toBe(409);
    expect(duplicate.json.error.code).toBe('idempotency_key_in_use');
    expect(first.status).toBe(200);
    expect(later.rawBody).toBe(first.rawBody);
  });
});

describe('errors', () => {
  let id: string;

  beforeAll(async () => {
    const { response } = await createInstrument('authorized', 1000);
    id = response.json.id as string;
  });

  it.each([
    [
      'capture over the capturable amount',
      '_capture',
      { amount: 1001, currency: 'USD' },
      422,
      'amount_exceeds_capturable',
      'amount',
    ],
    ['refund over the refundable amount', '_refund', { amount: 1, currency: 'USD' }, 422, 'amount_exceeds_refundable', 'amount'],
    ['wrong currency', '_capture', { amount: 10, currency: 'EUR' }, 422, 'currency_mismatch', 'currency'],
    ['fractional amount', '_capture', { amount: 10.5, currency: 'USD' }, 422, 'invalid_amount', 'amount'],
    ['negative amount', '_refund', { amount: -10, currency: 'USD' }, 422, 'invalid_amount', 'amount'],
    ['zero amount', '_capture', { amount: 0, currency: 'USD' }, 422, 'invalid_amount', 'amount'],
    ['amount as a string', '_capture', { amount: '10', currency: 'USD' }, 400, 'invalid_request', 'amount'],
    ['revoke with an amount', '_revoke', { amount: 10 }, 400, 'unknown_parameter', 'amount'],
  ])('%s -> %i %s', async (_name, path, body, status, code, param) => {
    const answer = await call('POST', `/v1/financial_instruments/${id}/${path}`, { key: newKey(), body });
    expect(answer.status).toBe(status);
    expect(answer.json.error).toMatchObject({ code, param });
  });

  it('refuses capture and revoke on a revoked instrument with 409 instrument_voided', async () => {
    // Prepare
    const { response } = await createInstrument('authorized', 300);
    const revokedId = response.json.id as string;
    expect((await call('POST', `/v1/financial_instruments/${revokedId}/_revoke`, { key: newKey() })).status).toBe(200);
    // Act
    const capture = await call('POST', `/v1/financial_instruments/${revokedId}/_capture`, {
      key: newKey(),
      body: { amount: 1, currency: 'USD' },
    });
    const revoke = await call('POST', `/v1/financial_instruments/${revokedId}/_revoke`, { key: newKey() });
    // Assess
    expect([capture.status, capture.json.error.code]).toEqual([409, 'instrument_voided']);
    expect([revoke.status, revoke.json.error.code]).toEqual([409, 'instrument_voided']);
  });

  it("answers 404 for another merchant's instrument and for unknown ids", async () => {
    const other = await env.createMerchant('Other shop');
    const answers = await Promise.all([
      call('GET', `/v1/financial_instruments/${id}`, { token: other.secretKey }),
      call('POST', `/v1/financial_instruments/${id}/_revoke`, { token: other.secretKey, key: newKey() }),
      call('GET', '/v1/financial_instruments/fi_unknown'),
    ]);
    expect(answers.map((a) => [a.status, a.json.error.code])).toEqual(Array(3).fill([404, 'resource_not_found']));
    expect((await call('GET', `/v1/financial_instruments/${id}`)).json.capturable_amount).toBe(1000);
  });

  it('answers a declined token with 402 and keeps the failed instrument out of play', async () => {
    const { response } = await createInstrument('token', 100, CARD_DECLINED);
    expect([response.status, response.json.error.code]).toEqual([402, 'payment_declined']);
  });

  it('validates creation: missing token, unknown or already used psp_reference, currency and amount against the PSP', async () => {
    const payment = await pspPayment(400, false);
    const answers = await Promise.all([
      call('POST', '/v1/financial_instruments', { key: newKey(), body: { type: 'token', amount: 100, currency: 'USD' } }),
      call('POST', '/v1/financial_instruments', {
        key: newKey(),
        body: { type: 'authorized', amount: 100, currency: 'USD', psp_reference: 'auth_unknown' },
      }),
      call('POST', '/v1/financial_instruments', {
        key: newKey(),
        body: { type: 'authorized', amount: 100, currency: 'EUR', psp_reference: payment.pspReference },
      }),
      call('POST', '/v1/financial_instruments', {
        key: newKey(),
        body: { type: 'authorized', amount: 401, currency: 'USD', psp_reference: payment.pspReference },
      }),
      call('POST', '/v1/financial_instruments', {
        key: newKey(),
        body: { type: 'captured', amount: 100, currency: 'USD', psp_reference: payment.pspReference },
      }),
      call('POST', '/v1/financial_instruments', { key: newKey(), body: { type: 'cash', amount: 100, currency: 'USD' } }),
      call('POST', '/v1/financial_instruments', {
        key: newKey(),
        body: {
          type: 'authorized',
          amount: 1,
          currency: 'USD',
          psp_reference: payment.pspReference,
          metadata: { a: { b: { c: { d: { e: { f: { g: { h: { i: { j: { k: 1 } } } } } } } } } } },
        },
      }),
    ]);
    expect(answers.map((a) => [a.status, a.json.error?.code, a.json.error?.param])).toEqual([
      [422, 'parameter_missing', 'payment_token'],
      [422, 'psp_reference_not_found', 'psp_reference'],
      [422, 'currency_mismatch', 'currency'],
      [422, 'amount_exceeds_capturable', 'amount'],
      [422, 'amount_exceeds_refundable', 'amount'],
      [422, 'invalid_parameter', 'type'],
      [422, 'metadata_too_deep', 'metadata'],
    ]);
    const ok = await call('POST', '/v1/financial_instruments', {
      key: newKey(),
      body: { type: 'authorized', amount: 400, currency: 'USD', psp_reference: payment.pspReference },
    });
    const twice = await call('POST', '/v1/financial_instruments', {
      key: newKey(),
      body: { type: 'authorized', amount: 1, currency: 'USD', psp_reference: payment.pspReference },
    });
    expect(ok.status).toBe(201);
    expect([twice.status, twice.json.error.code]).toEqual([409, 'psp_reference_in_use']);
  });
});

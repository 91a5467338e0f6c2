/**
 * NewStore's payment-provider calls replayed over HTTP (the local API host, as under `npm start`)
 * against DynamoDB Local and the real sandbox PSP server: request bodies shaped like the ones
 * NewStore sends (envelope with `account_id`, `transactions`, `idempotency_key`, `arguments`,
 * `metadata`; amounts as major-unit JSON numbers; `Authorization: <api_key>`), through every
 * workflow table of the seed, retries with the same idempotency_key and another body, concurrent
 * duplicates, the error mapping and the history cross-check. The PSP's own ledger and the /v1
 * instrument read prove that /newstore moves money on the one ledger, exactly once.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxPspGateway } from '../../lambdas/connectors/sandbox/gateway';
import { API_ROUTES, type ApiEntry } from '../../lib/api-routes';
import type { ApiHandler } from '../../local/handlers';
import { startApiHost, type ApiHost } from '../../local/http-host';
import { freePort } from '../../local/net';
import { fetchLedger, tokenizeTestCard } from '../../local/sandbox-psp/client';
import { startSandboxPsp, type SandboxPsp } from '../../local/sandbox-psp/server';
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
import { apiEvent, startApiTestEnv, type ApiTestEnv, type Handler } from './api-test-kit';

const CARD_OK = '4242424242424242';
const CARD_DECLINED = '4000000000000002';
const CARD_5XX_ONCE = '4000000000000119';
const CARD_SLOW_CAPTURE = '4000000000000440';
const PSP_HANG_MS = 3_000;
const DUPLICATE_WAIT_MS = 1_500;

/** The fields of every transaction NewStore receives (docs/design.md, "NewStore adapter"). */
const TRANSACTION_FIELDS = [
  'capture_amount',
  'created_at',
  'currency',
  'instrument_id',
  'metadata',
  'payment_method',
  'payment_wallet',
  'processed_at',
  'reason',
  'refund_amount',
  'transaction_id',
];

interface NewStoreTransaction {
  transaction_id: string;
  instrument_id: string;
  capture_amount: number;
  refund_amount: number;
  currency: string;
  reason: string;
  created_at: string;
  processed_at: string | null;
  payment_method: string | null;
  payment_wallet: string | null;
  metadata: {
    paystep_operation_id: string;
    psp_reference: string | null;
    history_check: { status: string; [key: string]: unknown };
  };
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

let env: ApiTestEnv;
let psp: SandboxPsp;
let stripe: StripeSandbox;
let host: ApiHost;
/** Per connector: the api_key of a brand whose routing sends its instruments there, and that PSP's test side. */
const seedBrands = {} as Record<InstrumentConnector, { secretKey: string; psp: InstrumentPsp }>;
let gateway: SandboxPspGateway;
let secretKey: string;

/** POSTs a NewStore call. `rawBody` sends JSON text as written (e.g. `12.990`); `authorization` defaults to the bare key, as NewStore sends its api_key. */
async function post(
  path: string,
  options: { body?: unknown; rawBody?: string; authorization?: string | null } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Go-http-client/2.0' };
  const authorization = options.authorization === undefined ? secretKey : options.authorization;
  if (authorization !== null) headers['authorization'] = authorization;
  const response = await fetch(`${host.url}${path}`, {
    method: 'POST',
    headers,
    body: options.rawBody ?? JSON.stringify(options.body ?? {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: text === '' ? undefined : JSON.parse(text) };
}

async function readV1(id: string, key = secretKey): Promise<Answer> {
  const response = await fetch(`${host.url}/v1/financial_instruments/${id}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: JSON.parse(text) };
}

const newKey = (): string => `ns_${randomBytes(8).toString('hex')}`;

/** Minor units of the seed tables (USD cents) as the major-unit JSON numbers NewStore sends. */
const major = (minor: number): number => minor / 100;

/** NewStore's create body for an instrument. */
function createBody(
  type: InstrumentScenario['type'],
  identifier: string,
  amount: number | string,
  extra: Record<string, unknown> = {},
) {
  return {
    account_id: `order_${randomBytes(4).toString('hex')}`,
    transactions: [],
    idempotency_key: newKey(),
    arguments: { instrument: { type, identifier }, amount, currency: 'USD', payment_method: 'credit_card' },
    metadata: { psp_payload: { token: identifier } },
    ...extra,
  };
}

/** NewStore's body for a capture / refund / revoke on an instrument with `history` so far. */
function operationBody(history: NewStoreTransaction[], args?: Record<string, unknown>, key = newKey()) {
  return {
    account_id: 'order_1',
    transactions: history,
    idempotency_key: key,
    ...(args !== undefined ? { arguments: args } : {}),
    metadata: {},
  };
}

/** An authorization made directly at the PSP (what NewStore's `authorized` / `captured` identifier points at). */
async function pspPayment(amount: number, captured: boolean): Promise<{ reference: string; pspReference: string }> {
  const token = await tokenizeTestCard(psp.url, CARD_OK);
  const reference = `ord_${randomBytes(6).toString('hex')}`;
  const authorization = await gateway.authorize({
    reference,
    source: { type: 'token', token },
    amount,
    currency: 'USD',
    idempotencyKey: `${reference}:setup-authorize`,
  });
  if (captured)
    await gateway.capture({
      reference,
      pspReference: authorization.pspReference,
      amount,
      currency: 'USD',
      idempotencyKey: `${reference}:setup-capture`,
    });
  return { reference, pspReference: authorization.pspReference };
}

/** Creates an instrument through /newstore; returns the answer and the PSP ledger reference of its movements. */
async function createInstrument(
  type: InstrumentScenario['type'],
  amountMinor: number,
  card = CARD_OK,
): Promise<{ answer: Answer; ledgerReference: (id: string) => string }> {
  if (type === 'token') {
    const token = await tokenizeTestCard(psp.url, card);
    return {
      answer: await post('/newstore/financial_instruments', { body: createBody(type, token, major(amountMinor)) }),
      ledgerReference: (id) => id,
    };
  }
  const payment = await pspPayment(amountMinor, type === 'captured');
  return {
    answer: await post('/newstore/financial_instruments', { body: createBody(type, payment.pspReference, major(amountMinor)) }),
    ledgerReference: () => payment.reference,
  };
}

function pairs(transactions: NewStoreTransaction[]): [number, number][] {
  return transactions.map((t) => [t.capture_amount, t.refund_amount]);
}

/** A seed-table instrument through /newstore for the brand routed to `brand.psp.connector`. */
async function createSeedInstrument(
  brand: { secretKey: string; psp: InstrumentPsp },
  type: InstrumentScenario['type'],
  amountMinor: number,
): Promise<{ answer: Answer; ledgerReference: (id: string) => string }> {
  if (type === 'token') {
    const token = await brand.psp.token(CARD_OK);
    return {
      answer: await post('/newstore/financial_instruments', {
        body: createBody(type, token, major(amountMinor)),
        authorization: brand.secretKey,
      }),
      ledgerReference: (id) => id,
    };
  }
  const payment = await brand.psp.payment(amountMinor, type === 'captured');
  return {
    answer: await post('/newstore/financial_instruments', {
      body: createBody(type, payment.pspReference, major(amountMinor)),
      authorization: brand.secretKey,
    }),
    ledgerReference: () => payment.reference,
  };
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
  process.env['NEWSTORE_DUPLICATE_WAIT_MS'] = String(DUPLICATE_WAIT_MS);
  gateway = new SandboxPspGateway({ baseUrl: psp.url });
  const handlers: Partial<Record<ApiEntry, ApiHandler>> = {
    'api-newstore': (await import('../../lambdas/api-newstore/handler')).handler as ApiHandler,
    'api-instruments': (await import('../../lambdas/api-instruments/handler')).handler as ApiHandler,
  };
  host = await startApiHost({
    port: await freePort(),
    routes: API_ROUTES.filter((route) => handlers[route.entry] !== undefined),
    loadHandler: async (entry) => handlers[entry]!,
    log: () => undefined,
  });
  secretKey = (await env.createMerchant('NewStore brand')).secretKey;
  const connectorsHandler = (await import('../../lambdas/api-connectors/handler')).handler as Handler;
  const psps = { sandbox: sandboxInstrumentPsp(psp), stripe: stripeInstrumentPsp(stripe) };
  for (const connector of INSTRUMENT_CONNECTORS) {
    const brand = await env.createMerchant(`NewStore brand on ${connector}`);
    const routed = await connectorsHandler(
      apiEvent('PUT', '/v1/routing', { token: brand.secretKey, body: routingTo(connector) }),
      {} as never,
    );
    if (routed.statusCode !== 200) throw new Error(`routing to ${connector} failed: ${routed.body}`);
    seedBrands[connector] = { secretKey: brand.secretKey, psp: psps[connector] };
  }
});

afterAll(async () => {
  await host?.stop();
  await env?.stop();
  await psp?.stop();
  await stripe?.stop();
});

describe('the seed workflow tables, replayed as NewStore calls on each connector', () => {
  const cases = INSTRUMENT_CONNECTORS.flatMap((connector) =>
    INSTRUMENT_SCENARIOS.map((scenario) => [connector, scenario.name, scenario] as const),
  );
  it.each(cases)('%s: %s', async (connector, _name, scenario) => {
    // Prepare + Act: the creation column
    const brand = seedBrands[connector];
    const { answer: created, ledgerReference } = await createSeedInstrument(brand, scenario.type, scenario.amount);
    // Assess: 200 and a bare array whose rows carry the id NewStore puts in later paths
    expect(created.status, created.text).toBe(200);
    expect(Array.isArray(created.json)).toBe(true);
    const history: NewStoreTransaction[] = created.json;
    expect(pairs(history)).toEqual(scenario.steps[0]!.transactions.map(([c, r]) => [major(c), major(r)]));
    const instrumentId = history[0]!.instrument_id;
    expect(instrumentId).toMatch(/^fi_/);
    expect(history[0]).toMatchObject({
      reason: 'authorization',
      currency: 'USD',
      payment_method: 'credit_card',
      payment_wallet: null,
    });
    expect(Object.keys(history[0]!).sort()).toEqual(TRANSACTION_FIELDS);
    expect((await readV1(instrumentId, brand.secretKey)).json.connector).toBe(connector);

    // Act + Assess: every later column, with NewStore's history so far in each request
    for (const [index, step] of scenario.steps.entries()) {
      if (index === 0) continue;
      // Revoke: the guide omits `arguments`, the wire carries them; both are accepted.
      let args: Record<string, unknown> | undefined = { amount: major(step.amount ?? 0), currency: 'USD' };
      if (step.request === 'revoke') args = index % 2 === 0 ? undefined : { amount: major(scenario.amount), currency: 'USD' };
      const answer = await post(`/newstore/financial_instruments/${instrumentId}/_${step.request}`, {
        body: operationBody(history, args),
        authorization: brand.secretKey,
      });
      expect(answer.status, `${step.context} ${answer.text}`).toBe(200);
      const rows: NewStoreTransaction[] = answer.json;
      // Only real balance changes: a revoke with nothing left to release answers no row.
      const expected = step.transactions.filter(([c, r]) => c !== 0 || r !== 0).map(([c, r]) => [major(c), major(r)]);
      expect(pairs(rows), step.context).toEqual(expected);
      for (const row of rows) {
        expect(row, step.context).toMatchObject({ instrument_id: instrumentId, reason: step.request, currency: 'USD' });
        expect(row.metadata.history_check.status, step.context).toBe('consistent');
        expect(row.processed_at).not.toBeNull();
      }
      history.push(...rows);
      const balances = expectedBalances(scenario, index);
      const v1 = await readV1(instrumentId, brand.secretKey);
      expect({ capturable: v1.json.capturable_amount, refundable: v1.json.refundable_amount }, step.context).toEqual(balances);
    }

    // Assess: NewStore's history adds up to the table, and the PSP's own ledger moved exactly that
    const last = expectedBalances(scenario, scenario.steps.length - 1);
    const sum = (field: 'capture_amount' | 'refund_amount') =>
      Math.round(history.reduce((total, t) => total + t[field], 0) * 100);
    expect({ capturable: sum('capture_amount'), refundable: sum('refund_amount') }).toEqual(last);
    expect(pspTotals(await brand.psp.ledger(ledgerReference(instrumentId)))).toEqual(scenario.psp);
  });
});

describe('amounts in major units', () => {
  it('converts 12.99, 12.990 and 1e1 USD exactly, and KRW 10000 with its exponent 0', async () => {
    // Prepare
    const tokens = await Promise.all([1, 2, 3, 4].map(() => tokenizeTestCard(psp.url, CARD_OK)));
    // Act
    const answers = await Promise.all([
      post('/newstore/financial_instruments', {
        rawBody: JSON.stringify(createBody('token', tokens[0]!, 0)).replace('"amount":0', '"amount":12.99'),
      }),
      post('/newstore/financial_instruments', {
        rawBody: JSON.stringify(createBody('token', tokens[1]!, 0)).replace('"amount":0', '"amount":12.990'),
      }),
      post('/newstore/financial_instruments', {
        rawBody: JSON.stringify(createBody('token', tokens[2]!, 0)).replace('"amount":0', '"amount":1e1'),
      }),
      post('/newstore/financial_instruments', {
        body: {
          ...createBody('token', tokens[3]!, 10000),
          arguments: { instrument: { type: 'token', identifier: tokens[3] }, amount: 10000, currency: 'KRW' },
        },
      }),
    ]);
    // Assess: the answer in major units, the ledger in minor units
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(answers.map((a) => a.json[0].capture_amount)).toEqual([12.99, 12.99, 10, 10000]);
    expect(answers[0]!.text).toContain('"capture_amount":12.99,');
    const stored = await Promise.all(answers.map((a) => readV1(a.json[0].instrument_id as string)));
    expect(stored.map((s) => [s.json.amount, s.json.currency])).toEqual([
      [1299, 'USD'],
      [1299, 'USD'],
      [1000, 'USD'],
      [10000, 'KRW'],
    ]);
  });

  it('refuses more decimals than the currency has, zero, negative and string amounts with 400 failed_command, before any PSP call', async () => {
    // Prepare
    const token = await tokenizeTestCard(psp.url, CARD_OK);
    const bodies = [
      JSON.stringify(createBody('token', token, 0)).replace('"amount":0', '"amount":12.999'),
      JSON.stringify({
        ...createBody('token', token, 0),
        arguments: { instrument: { type: 'token', identifier: token }, amount: 1.5, currency: 'KRW' },
      }),
      JSON.stringify(createBody('token', token, 0)),
      JSON.stringify(createBody('token', token, -5)),
      JSON.stringify(createBody('token', token, '50')),
      JSON.stringify(createBody('token', token, 0)).replace('"amount":0', '"amount":0.0000000000000000001'),
    ];
    const authorizations = async () => (await fetchLedger(psp.url)).filter((row) => row.type === 'authorize').length;
    const before = await authorizations();
    // Act
    const answers = await Promise.all(bodies.map((rawBody) => post('/newstore/financial_instruments', { rawBody })));
    // Assess
    expect(answers.map((a) => [a.status, a.json.error_code])).toEqual(Array(6).fill([400, 'failed_command']));
    expect(Object.keys(answers[0]!.json).sort()).toEqual(['error_code', 'message']);
    expect(answers[0]!.json.message).toMatch(/more decimals than USD/);
    expect(answers[1]!.json.message).toMatch(/more decimals than KRW/);
    expect(await authorizations()).toBe(before);
  });

  it('refuses an amount above the per-currency maximum (99,999,999 major units) with 422 failed_command before any PSP call', async () => {
    // Prepare
    const token = await tokenizeTestCard(psp.url, CARD_OK);
    const authorizations = async () => (await fetchLedger(psp.url)).filter((row) => row.type === 'authorize').length;
    const before = await authorizations();
    // Act
    const answer = await post('/newstore/financial_instruments', {
      rawBody: JSON.stringify(createBody('token', token, 100_000_000)),
    });
    // Assess
    expect([answer.status, answer.json.error_code]).toEqual([422, 'failed_command']);
    expect(answer.json.message).toMatch(/at most 99999999.99 USD/);
    expect(await authorizations()).toBe(before);
  });
});

describe('Authorization', () => {
  it('accepts the api_key as is or with Bearer, and answers 401 failed_command without a valid key', async () => {
    // Prepare
    const [first, second] = await Promise.all([tokenizeTestCard(psp.url, CARD_OK), tokenizeTestCard(psp.url, CARD_OK)]);
    // Act
    const raw = await post('/newstore/financial_instruments', { body: createBody('token', first!, 5) });
    const bearer = await post('/newstore/financial_instruments', {
      body: createBody('token', second!, 5),
      authorization: `Bearer ${secretKey}`,
    });
    const wrong = await post('/newstore/financial_instruments', {
      body: createBody('token', first!, 5),
      authorization: 'sk_test_not_a_key',
    });
    const missing = await post('/newstore/financial_instruments', { body: createBody('token', first!, 5), authorization: null });
    // Assess
    expect([raw.status, bearer.status]).toEqual([200, 200]);
    expect([wrong.status, wrong.json.error_code, missing.status, missing.json.error_code]).toEqual([
      401,
      'failed_command',
      401,
      'failed_command',
    ]);
  });
});

describe('idempotency_key in the body', () => {
  it('answers the first response to the same key with a changed body, and moves money once', async () => {
    // Prepare
    const { answer: created, ledgerReference } = await createInstrument('authorized', 10000);
    const id = created.json[0].instrument_id as string;
    const key = newKey();
    // Act: NewStore's retries, the later ones with another amount and another history
    const first = await post(`/newstore/financial_instruments/${id}/_capture`, {
      body: operationBody(created.json, { amount: 50, currency: 'USD' }, key),
    });
    const changed = await post(`/newstore/financial_instruments/${id}/_capture`, {
      body: operationBody([], { amount: 70, currency: 'USD' }, key),
    });
    const again = await post(`/newstore/financial_instruments/${id}/_capture`, {
      body: operationBody(created.json, { amount: 50, currency: 'USD' }, key),
    });
    // Assess
    expect(first.status, first.text).toBe(200);
    expect([changed.text, again.text]).toEqual([first.text, first.text]);
    expect(changed.headers.get('idempotent-replayed')).toBe('true');
    const captures = (await fetchLedger(psp.url, ledgerReference(id))).filter(
      (row) => row.type === 'capture' && !row.idempotency_key.includes(':setup-'),
    );
    expect(captures.map((row) => [row.amount, row.status])).toEqual([[5000, 'succeeded']]);
    expect((await readV1(id)).json).toMatchObject({ capturable_amount: 5000, refundable_amount: 5000 });
  });

  it('gives 6 concurrent duplicates (different bodies) one answer and one PSP capture', async () => {
    // Prepare
    const { answer: created, ledgerReference } = await createInstrument('token', 10000);
    const id = created.json[0].instrument_id as string;
    const key = newKey();
    // Act
    const answers = await Promise.all(
      [10, 20, 30, 40, 50, 60].map((amount) =>
        post(`/newstore/financial_instruments/${id}/_capture`, {
          body: operationBody(created.json, { amount, currency: 'USD' }, key),
        }),
      ),
    );
    // Assess
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    const captures = (await fetchLedger(psp.url, ledgerReference(id))).filter((row) => row.type === 'capture');
    expect(captures).toHaveLength(1);
    expect((await readV1(id)).json.refundable_amount).toBe(captures[0]!.amount);
  });

  it('answers retry_error to a duplicate still running after the wait, then the first answer once it finished', async () => {
    // Prepare: captures on this card are answered only after PSP_HANG_MS (> DUPLICATE_WAIT_MS)
    const { answer: created } = await createInstrument('token', 700, CARD_SLOW_CAPTURE);
    const id = created.json[0].instrument_id as string;
    const key = newKey();
    const body = operationBody(created.json, { amount: 7, currency: 'USD' }, key);
    // Act
    const slow = post(`/newstore/financial_instruments/${id}/_capture`, { body });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const duplicate = await post(`/newstore/financial_instruments/${id}/_capture`, { body });
    const first = await slow;
    const later = await post(`/newstore/financial_instruments/${id}/_capture`, { body });
    // Assess
    expect([duplicate.status, duplicate.json.error_code, duplicate.headers.get('retry-after')]).toEqual([
      503,
      'retry_error',
      '1',
    ]);
    expect(first.status, first.text).toBe(200);
    expect(later.text).toBe(first.text);
  });
});

describe('error mapping', () => {
  it('declined token -> 402 instrument_error, and the same key keeps answering it', async () => {
    // Prepare
    const token = await tokenizeTestCard(psp.url, CARD_DECLINED);
    const body = createBody('token', token, 100);
    // Act
    const declined = await post('/newstore/financial_instruments', { body });
    const retried = await post('/newstore/financial_instruments', { body });
    // Assess
    expect([declined.status, declined.json.error_code]).toEqual([402, 'instrument_error']);
    expect(retried.text).toBe(declined.text);
  });

  it('more than capturable, refund before capture, wrong currency, unknown or malformed instrument, no key -> failed_command; the ledger is untouched', async () => {
    // Prepare
    const { answer: created } = await createInstrument('authorized', 1000);
    const id = created.json[0].instrument_id as string;
    // Act
    const over = await post(`/newstore/financial_instruments/${id}/_capture`, {
      body: operationBody(created.json, { amount: 10.01, currency: 'USD' }),
    });
    const refund = await post(`/newstore/financial_instruments/${id}/_refund`, {
      body: operationBody(created.json, { amount: 1, currency: 'USD' }),
    });
    const wrongCurrency = await post(`/newstore/financial_instruments/${id}/_capture`, {
      body: operationBody(created.json, { amount: 1, currency: 'EUR' }),
    });
    const unknown = await post('/newstore/financial_instruments/fi_unknown/_capture', {
      body: operationBody([], { amount: 1, currency: 'USD' }),
    });
    const overLong = await post(`/newstore/financial_instruments/fi_${'x'.repeat(3000)}/_refund`, {
      body: operationBody([], { amount: 1, currency: 'USD' }),
    });
    const noKey = await post(`/newstore/financial_instruments/${id}/_capture`, {
      body: { arguments: { amount: 1, currency: 'USD' } },
    });
    // Assess
    expect([over, refund, wrongCurrency, unknown, overLong, noKey].map((a) => [a.status, a.json.error_code])).toEqual([
      [422, 'failed_command'],
      [422, 'failed_command'],
      [422, 'failed_command'],
      [404, 'failed_command'],
      [404, 'failed_command'],
      [400, 'failed_command'],
    ]);
    expect((await readV1(id)).json).toMatchObject({ capturable_amount: 1000, refundable_amount: 0 });
  });

  it('unknown or already claimed PSP reference at create -> instrument_error', async () => {
    // Prepare
    const payment = await pspPayment(500, false);
    expect(
      (await post('/newstore/financial_instruments', { body: createBody('authorized', payment.pspReference, 5) })).status,
    ).toBe(200);
    // Act
    const unknown = await post('/newstore/financial_instruments', { body: createBody('authorized', 'auth_unknown', 5) });
    const claimed = await post('/newstore/financial_instruments', { body: createBody('authorized', payment.pspReference, 5) });
    // Assess
    expect([unknown.status, unknown.json.error_code, claimed.status, claimed.json.error_code]).toEqual([
      422,
      'instrument_error',
      422,
      'instrument_error',
    ]);
  });

  it('passes any PSP-issued identifier to the PSP (no tok_ format check): identifiers the PSP does not know are its instrument_error', async () => {
    // Act: a Stripe-shaped and a PayPal-shaped identifier, unknown to the sandbox PSP
    const answers = await Promise.all(
      ['pm_1NqXyzAbCdEfGhIjKlMnOpQr', 'EC-8AB12345CD6789012'].map((identifier) =>
        post('/newstore/financial_instruments', { body: createBody('token', identifier, 5) }),
      ),
    );
    // Assess: refused by the PSP itself, not by Paystep's validation (which would be 400 failed_command)
    expect(answers.map((a) => [a.status, a.json.error_code])).toEqual([
      [422, 'instrument_error'],
      [422, 'instrument_error'],
    ]);
    for (const answer of answers) expect(answer.json.message).toMatch(/token_not_found/);
  });

  it('PSP outage -> 503 retry_error; the retry with the same idempotency_key resumes the same operation, authorizing and capturing once', async () => {
    // Prepare: every first attempt per PSP key answers 503
    const token = await tokenizeTestCard(psp.url, CARD_5XX_ONCE);
    const body = createBody('token', token, 5);
    // Act: create, outage, retry
    const outage = await post('/newstore/financial_instruments', { body });
    const resumed = await post('/newstore/financial_instruments', {
      body: { ...body, arguments: { ...body.arguments, amount: 99 } },
    });
    // Assess
    expect([outage.status, outage.json.error_code, outage.headers.get('retry-after')]).toEqual([503, 'retry_error', '1']);
    expect(resumed.status, resumed.text).toBe(200);
    expect(pairs(resumed.json)).toEqual([[5, 0]]);
    const id = resumed.json[0].instrument_id as string;
    // Act: a capture with the same pattern
    const captureBody = operationBody(resumed.json, { amount: 5, currency: 'USD' });
    const captureOutage = await post(`/newstore/financial_instruments/${id}/_capture`, { body: captureBody });
    const captureResumed = await post(`/newstore/financial_instruments/${id}/_capture`, { body: captureBody });
    // Assess
    expect([captureOutage.status, captureOutage.json.error_code]).toEqual([503, 'retry_error']);
    expect(pairs(captureResumed.json)).toEqual([
      [-5, 0],
      [0, 5],
    ]);
    const ledger = await fetchLedger(psp.url, id);
    expect(ledger.filter((row) => row.status === 'succeeded').map((row) => [row.type, row.amount])).toEqual([
      ['authorize', 500],
      ['capture', 500],
    ]);
  });
});

describe("NewStore's transaction history", () => {
  it('is cross-checked, never trusted: a mismatch is reported in the metadata and the ledger decides', async () => {
    // Prepare
    const { answer: created } = await createInstrument('authorized', 10000);
    const id = created.json[0].instrument_id as string;
    const invented = { ...created.json[0], transaction_id: 'txn_invented', capture_amount: 500, refund_amount: 0 };
    const altered = { ...created.json[0], capture_amount: 1000 };
    // Act
    const consistent = await post(`/newstore/financial_instruments/${id}/_capture`, {
      body: operationBody(created.json, { amount: 10, currency: 'USD' }),
    });
    const withInvented = await post(`/newstore/financial_instruments/${id}/_capture`, {
      body: operationBody([...created.json, ...consistent.json, invented], { amount: 10, currency: 'USD' }),
    });
    const withAltered = await post(`/newstore/financial_instruments/${id}/_refund`, {
      body: operationBody([altered], { amount: 5, currency: 'USD' }),
    });
    const withoutHistory = await post(`/newstore/financial_instruments/${id}/_refund`, {
      body: { idempotency_key: newKey(), arguments: { amount: 5, currency: 'USD' } },
    });
    // Assess
    expect([consistent, withInvented, withAltered, withoutHistory].map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(consistent.json[0].metadata.history_check).toEqual({ status: 'consistent' });
    expect(withInvented.json[0].metadata.history_check).toMatchObject({
      status: 'mismatch',
      newstore: { capture_amount: 590, refund_amount: 10 },
      paystep: { capture_amount: 90, refund_amount: 10 },
      unknown_transaction_ids: ['txn_invented'],
    });
    expect(withAltered.json[0].metadata.history_check).toMatchObject({
      status: 'mismatch',
      differing_transaction_ids: [created.json[0].transaction_id],
      missing_transaction_ids: consistent.json.concat(withInvented.json).map((t: NewStoreTransaction) => t.transaction_id),
    });
    expect(withoutHistory.json[0].metadata.history_check).toEqual({ status: 'not_sent' });
    // The ledger followed Paystep's own balances: 100 - 10 - 10 captured, 20 - 5 - 5 refundable.
    expect((await readV1(id)).json).toMatchObject({ capturable_amount: 8000, refundable_amount: 1000 });
  });

  it('ignores fields it does not know, in the envelope and in arguments', async () => {
    // Prepare
    const token = await tokenizeTestCard(psp.url, CARD_OK);
    const body = createBody('token', token, 20, { correlation_id: 'x', version: 3 });
    // Act
    const answer = await post('/newstore/financial_instruments', {
      body: { ...body, arguments: { ...body.arguments, three_ds: { flow: 'frictionless' } } },
    });
    // Assess
    expect(answer.status, answer.text).toBe(200);
    expect(pairs(answer.json)).toEqual([[20, 0]]);
  });
});

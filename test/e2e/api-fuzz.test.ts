/**
 * Property tests (fast-check) over HTTP against the running local stack: every route in
 * lib/api-routes.ts gets random and malformed bodies, headers, tokens and path ids. Whatever comes
 * in, the API never answers 5xx, and every non-2xx JSON answer has the error shape of docs/design.md
 * `{"error":{"code":"snake_case","message":"...","param"?}}` (on NewStore's `/newstore` routes,
 * NewStore's `{"error_code","message"}` with one of its codes).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, type ApiRoute } from '../../lib/api-routes';
import { PaystepClient } from '../../local/paystep-client';
import { startStackProcess, type StackProcess } from './harness';

const RUNS = Number(process.env.FUZZ_RUNS ?? '25');

let stack: StackProcess;
let api: PaystepClient;
/** Real ids and credentials, so generated requests also reach code behind auth and lookups. */
const real = { checkoutId: '', clientSecret: '', instrumentId: '', endpointId: '', eventId: '' };

/** Field names the API knows, so random objects hit validation rather than `unknown_parameter` only. */
const KNOWN_FIELDS = [
  'name',
  'settings',
  'merchant_order_ref',
  'amount',
  'currency',
  'items',
  'customer',
  'success_url',
  'failure_url',
  'expires_in_seconds',
  'payment_token',
  'type',
  'psp_reference',
  'metadata',
  'url',
  'enabled_events',
  'inventory_confirmation_url',
  'inventory_confirmation_enabled',
  'default_success_url',
  'default_failure_url',
  'endpoint_id',
  'capture_method',
  'sku',
  'quantity',
  'unit_amount',
  // NewStore's envelope (/newstore routes)
  'idempotency_key',
  'arguments',
  'transactions',
  'account_id',
];

/** NewStore's error codes (docs/design.md, "NewStore adapter"). */
const NEWSTORE_ERROR_CODES = ['internal_error', 'retry_error', 'instrument_error', 'fraud_error', 'rate_limit', 'failed_command'];

const weirdNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e308, -0),
);
const weirdString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    'USD',
    'usd',
    'XXX',
    'KRW',
    'tok_',
    'tok_x',
    'http://127.0.0.1:1/x',
    'https://10.0.0.1/',
    'https://169.254.169.254/',
    'javascript:alert(1)',
    '%00',
    '\u0000',
    'a'.repeat(5000),
  ),
);
const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  weirdNumber,
  weirdString,
  fc.boolean(),
  fc.constant(null),
  fc.array(
    fc.oneof(
      weirdString,
      weirdNumber,
      fc.dictionary(fc.constantFrom('sku', 'quantity', 'name', 'unit_amount'), fc.oneof(weirdString, weirdNumber)),
    ),
    { maxLength: 4 },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);
const bodyArbitrary: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.dictionary(fc.constantFrom(...KNOWN_FIELDS), weirdValue, { maxKeys: 8 }).map((o) => JSON.stringify(o)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string(),
  fc.constantFrom('{', '{"amount":', 'null', '[]', '"text"', '{"a":1}{"b":2}', '\u0000\u0001', '{"__proto__":{"x":1}}'),
);
/** HTTP header values must be printable latin-1, or fetch refuses to send them. */
const headerValue = fc.string({ unit: fc.constantFrom(...'abcXYZ019 -_:/.;,=+*%$#@!~<>{}[]"\''.split('')), maxLength: 300 });

function tokenArbitrary(): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(stack.secretKey, stack.adminToken, real.clientSecret, 'sk_test_nope', 'cs_nope', ''),
    headerValue,
  );
}

function idArbitrary(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(real.checkoutId, real.instrumentId, real.endpointId, real.eventId, 'chk_missing', 'fi_missing'),
    // '.' and '..' are dot segments: the URL parser removes them (`/x/./_revoke` is sent as
    // `/x/_revoke`), so the request would go to another path than the route under test.
    fc
      .string({ minLength: 1, maxLength: 80 })
      .map((s) => encodeURIComponent(s))
      .filter((id) => id !== '.' && id !== '..'),
  );
}

function pathFor(route: ApiRoute, id: string): string {
  return route.path.replace('{id}', id).replace('{instrument_id}', id);
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

async function send(
  route: ApiRoute,
  id: string,
  body: string | undefined,
  token: string | undefined,
  headers: Record<string, string>,
): Promise<Answer> {
  const all: Record<string, string> = { ...headers };
  if (token !== undefined) all.authorization = `Bearer ${token}`;
  const response = await fetch(`${stack.apiUrl}${pathFor(route, id)}`, {
    method: route.method,
    headers: all,
    redirect: 'manual',
    ...(body !== undefined && route.method !== 'GET' ? { body } : {}),
  });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

function assertWellFormed(route: ApiRoute, answer: Answer): void {
  const where = `${route.method} ${route.path} -> ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, where).toBeLessThan(500);
  if (answer.status >= 400 && route.path.startsWith('/newstore/')) {
    const parsed = JSON.parse(answer.text) as { error_code?: unknown; message?: unknown };
    expect(NEWSTORE_ERROR_CODES, where).toContain(parsed.error_code);
    expect(typeof parsed.message, where).toBe('string');
  } else if (answer.status >= 400 && answer.contentType.includes('application/json')) {
    const parsed = JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown; param?: unknown } };
    expect(parsed.error, where).toBeDefined();
    expect(parsed.error!.code, where).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(typeof parsed.error!.message, where).toBe('string');
    if (parsed.error!.param !== undefined) expect(typeof parsed.error!.param, where).toBe('string');
  } else if (route.path.startsWith('/v1/')) {
    expect(answer.contentType, where).toContain('application/json');
  }
}

beforeAll(async () => {
  stack = await startStackProcess();
  api = new PaystepClient(stack.apiUrl);
  const created = await api.call<{ id: string; client_secret: string }>('POST', '/v1/checkouts', {
    token: stack.secretKey,
    body: {
      merchant_order_ref: 'fuzz-seed',
      amount: 1000,
      currency: 'USD',
      items: [{ sku: 'mug', quantity: 1 }],
      success_url: 'https://shop.example/ok',
      failure_url: 'https://shop.example/ko',
    },
  });
  expect(created.status).toBe(201);
  real.checkoutId = created.body.id;
  real.clientSecret = created.body.client_secret;
  const endpoints = await api.call<{ data: { id: string }[] }>('GET', '/v1/webhook_endpoints', { token: stack.secretKey });
  real.endpointId = endpoints.body.data[0]?.id ?? 'we_missing';
  real.instrumentId = 'fi_missing';
  real.eventId = 'evt_missing';
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('API fuzzing: no 5xx, always the error shape', () => {
  for (const route of API_ROUTES) {
    it(`${route.method} ${route.path}`, async () => {
      await fc.assert(
        fc.asyncProperty(
          idArbitrary(),
          bodyArbitrary,
          tokenArbitrary(),
          fc.dictionary(fc.constantFrom('idempotency-key', 'content-type', 'x-forwarded-for', 'accept'), headerValue, {
            maxKeys: 3,
          }),
          async (id, body, token, headers) => {
            assertWellFormed(route, await send(route, id, body, token, headers));
          },
        ),
        { numRuns: RUNS },
      );
    }, 120_000);
  }
});

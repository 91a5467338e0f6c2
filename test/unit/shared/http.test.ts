import { describe, expect, it, vi } from 'vitest';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import {
  createApiHandler,
  errorResponse,
  MAX_BODY_BYTES,
  parseJsonBody,
  type ApiLogger,
  type RouteTable,
  TIMEOUT_EARLY_MS,
} from '../../../lambdas/shared/http';
import type { Authenticator } from '../../../lambdas/shared/auth';
import { AuthenticationError, ConcurrentModificationError, NotFoundError, ValidationError } from '../../../lambdas/errors';
import { parseInput, createCheckoutInputSchema } from '../../../lambdas/shared/validation';
import { MemoryIdempotencyStore, markerCipher } from './fakes';

function event(routeKey: string, overrides: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  const [method, path] = routeKey.split(' ');
  return {
    version: '2.0',
    routeKey,
    rawPath: path!,
    rawQueryString: '',
    headers: { authorization: 'Bearer sk_test_x' },
    requestContext: { http: { method: method!, path: path! } } as APIGatewayProxyEventV2['requestContext'],
    isBase64Encoded: false,
    ...overrides,
  };
}

const merchantAuth: Authenticator = async () => ({
  kind: 'merchant',
  merchant: {
    id: 'mer_1',
    name: 'Shop',
    merchantKey: 'mk_1',
    secretKeyHash: 'h',
    signingSecretCiphertext: 'c',
    settings: { inventoryConfirmationEnabled: false },
    createdAt: '2030-01-01T00:00:00.000Z',
    version: 1,
  },
});

function setup(routes: RouteTable, authenticate: Authenticator = merchantAuth) {
  const logger: ApiLogger = { error: vi.fn(), warn: vi.fn() };
  const store = new MemoryIdempotencyStore();
  const handler = createApiHandler(routes, { authenticate, idempotency: { store, cipher: markerCipher }, logger });
  const invoke = (e: APIGatewayProxyEventV2) => handler(e, {} as Context);
  return { handler, invoke, logger, store };
}

const checkoutSchema = createCheckoutInputSchema({ allowHttpUrls: false });
const echoRoutes: RouteTable = {
  'POST /v1/checkouts': {
    auth: ['merchant'],
    handle: async (request) => ({ statusCode: 201, body: parseInput(checkoutSchema, request.body) }),
  },
  'POST /v1/echo': { auth: ['merchant'], handle: async (request) => ({ statusCode: 200, body: request.body }) },
  'GET /v1/things/{id}': {
    auth: ['merchant'],
    handle: async (request) => ({ statusCode: 200, body: { id: request.pathParameters['id'], q: request.query['q'] ?? null } }),
  },
};

function parse(result: { body?: string }) {
  return JSON.parse(result.body ?? 'null');
}

describe('createApiHandler: routing and responses', () => {
  it('routes by routeKey and answers JSON', async () => {
    // Prepare
    const { invoke } = setup(echoRoutes);
    // Act
    const result = await invoke(
      event('GET /v1/things/{id}', { pathParameters: { id: 'abc' }, queryStringParameters: { q: '1' } }),
    );
    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toBe('application/json');
    expect(parse(result)).toEqual({ id: 'abc', q: '1' });
  });

  it('falls back to matching method and path when the route key is $default', async () => {
    // Prepare
    const { invoke } = setup(echoRoutes);
    // Act
    const result = await invoke(event('GET /v1/things/x%20y', { routeKey: '$default' }));
    // Assess
    expect(parse(result)).toEqual({ id: 'x y', q: null });
  });

  it('answers an unknown route with 404 route_not_found', async () => {
    // Prepare
    const { invoke } = setup(echoRoutes);
    // Act
    const result = await invoke(event('DELETE /v1/nothing'));
    // Assess
    expect(result.statusCode).toBe(404);
    expect(parse(result)).toEqual({ error: { code: 'route_not_found', message: 'No route for DELETE /v1/nothing' } });
  });

  it('answers 401 when authentication fails, with the error shape', async () => {
    // Prepare
    const { invoke } = setup(echoRoutes, async () => {
      throw new AuthenticationError('Invalid API key');
    });
    // Act
    const result = await invoke(event('POST /v1/echo', { body: '{}' }));
    // Assess
    expect(result.statusCode).toBe(401);
    expect(parse(result)).toEqual({ error: { code: 'unauthorized', message: 'Invalid API key' } });
  });
});

describe('createApiHandler: bad input is always 4xx', () => {
  it.each([
    ['malformed JSON', '{"amount":', 400, 'invalid_json'],
    ['a JSON array', '[]', 400, 'invalid_request'],
    ['JSON null', 'null', 400, 'invalid_request'],
    ['wrong types', JSON.stringify({ merchant_order_ref: 1 }), 400, 'invalid_request'],
    [
      'a negative amount',
      JSON.stringify({ merchant_order_ref: 'r', amount: -5, currency: 'USD', items: [{ sku: 'a', quantity: 1 }] }),
      422,
      'invalid_amount',
    ],
    [
      'a fractional amount',
      JSON.stringify({ merchant_order_ref: 'r', amount: 1.25, currency: 'USD', items: [{ sku: 'a', quantity: 1 }] }),
      422,
      'invalid_amount',
    ],
    [
      'an unknown currency',
      JSON.stringify({ merchant_order_ref: 'r', amount: 5, currency: 'ZZZ', items: [{ sku: 'a', quantity: 1 }] }),
      422,
      'invalid_currency',
    ],
    ['an oversized body', JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) }), 413, 'body_too_large'],
  ])('maps %s', async (_name, body, status, code) => {
    // Prepare
    const { invoke } = setup(echoRoutes);
    // Act
    const result = await invoke(event('POST /v1/checkouts', { body }));
    // Assess
    expect(result.statusCode).toBe(status);
    expect(result.headers?.['content-type']).toBe('application/json');
    const payload = parse(result);
    expect(payload.error.code).toBe(code);
    expect(typeof payload.error.message).toBe('string');
  });

  it('decodes base64 bodies', async () => {
    // Prepare
    const { invoke } = setup(echoRoutes);
    // Act
    const result = await invoke(
      event('POST /v1/echo', { body: Buffer.from('{"héllo":"wörld"}').toString('base64'), isBase64Encoded: true }),
    );
    // Assess
    expect(parse(result)).toEqual({ héllo: 'wörld' });
  });
});

describe('createApiHandler: unexpected errors', () => {
  it('answers 500 internal_error without a stack, and logs without the request', async () => {
    // Prepare
    const { invoke, logger } = setup({
      'POST /v1/boom': {
        auth: ['merchant'],
        handle: async () => {
          throw new TypeError('cannot read x of undefined');
        },
      },
    });
    // Act
    const result = await invoke(event('POST /v1/boom', { body: '{"secret":"sk_test_leak"}' }));
    // Assess
    expect(result.statusCode).toBe(500);
    expect(parse(result)).toEqual({
      error: { code: 'internal_error', message: 'An unexpected error occurred. Please retry later.' },
    });
    expect(result.body).not.toContain('cannot read');
    expect(result.body).not.toContain('at ');
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(vi.mocked(logger.error).mock.calls)).not.toContain('sk_test_leak');
  });

  it('answers 500 internal_error just before the function would time out, and clears its timer otherwise', async () => {
    // Prepare: 40 ms left in the invocation, a route that takes a second, and one that answers at once.
    vi.useFakeTimers();
    try {
      const { handler, logger } = setup({
        'POST /v1/slow': {
          auth: ['merchant'],
          handle: () => new Promise((resolveLater) => setTimeout(() => resolveLater({ statusCode: 200, body: {} }), 1000)),
        },
        'POST /v1/fast': { auth: ['merchant'], handle: async () => ({ statusCode: 200, body: { ok: true } }) },
      });
      const context = { getRemainingTimeInMillis: () => 40 } as Context;
      // Act
      const slow = handler(event('POST /v1/slow', { body: '{}' }), context);
      await vi.advanceTimersByTimeAsync(40 - TIMEOUT_EARLY_MS);
      const slowResult = await slow;
      const fastResult = await handler(event('POST /v1/fast', { body: '{}' }), context);
      // Assess
      expect(slowResult.statusCode).toBe(500);
      expect(parse(slowResult)).toEqual({
        error: { code: 'internal_error', message: 'An unexpected error occurred. Please retry later.' },
      });
      expect(logger.error).toHaveBeenCalledTimes(1);
      expect(fastResult.statusCode).toBe(200);
      expect(vi.getTimerCount()).toBe(1); // the slow route's own timer; the fast call's deadline was cleared
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps param in mapped Paystep errors', () => {
    const response = errorResponse(new NotFoundError('No such checkout', { param: 'id' }));
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'resource_not_found', message: 'No such checkout', param: 'id' },
    });
  });
});

describe('createApiHandler: Idempotency-Key', () => {
  it('replays the first response byte for byte even when the body changes, and encrypts what it stores', async () => {
    // Prepare
    let counter = 0;
    const { invoke, store } = setup({
      'POST /v1/count': { auth: ['merchant'], handle: async () => ({ statusCode: 201, body: { n: (counter += 1) } }) },
    });
    const headers = { authorization: 'Bearer sk_test_x', 'Idempotency-Key': 'k1' };
    // Act
    const first = await invoke(event('POST /v1/count', { headers, body: '{"a":1}' }));
    const second = await invoke(event('POST /v1/count', { headers, body: '{"a":2}' }));
    // Assess
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.body).toBe(first.body);
    expect(second.headers?.['idempotent-replayed']).toBe('true');
    expect(first.headers?.['idempotent-replayed']).toBeUndefined();
    expect(counter).toBe(1);
    expect(store.records.get('merchant:mer_1#k1')?.response?.body).toBe(`enc(${first.body})`);
  });

  it('does not store 5xx or lost-race answers, so a retry runs again', async () => {
    // Prepare
    let calls = 0;
    const { invoke } = setup({
      'POST /v1/flaky': {
        auth: ['merchant'],
        handle: async () => {
          calls += 1;
          if (calls === 1) throw new Error('db down');
          if (calls === 2) throw new ConcurrentModificationError('raced');
          return { statusCode: 200, body: { ok: true } };
        },
      },
    });
    const headers = { authorization: 'Bearer sk_test_x', 'idempotency-key': 'k2' };
    // Act
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await invoke(event('POST /v1/flaky', { headers }))).statusCode);
    // Assess
    expect(statuses).toEqual([500, 409, 200, 200]);
    expect(calls).toBe(3);
  });

  it('stores 4xx answers and replays them', async () => {
    // Prepare
    let calls = 0;
    const { invoke } = setup({
      'POST /v1/bad': {
        auth: ['merchant'],
        handle: async () => {
          calls += 1;
          throw new ValidationError('nope', { param: 'x', status: 422 });
        },
      },
    });
    const headers = { authorization: 'Bearer sk_test_x', 'idempotency-key': 'k3' };
    // Act
    const first = await invoke(event('POST /v1/bad', { headers }));
    const second = await invoke(event('POST /v1/bad', { headers }));
    // Assess
    expect([first.statusCode, second.statusCode]).toEqual([422, 422]);
    expect(second.body).toBe(first.body);
    expect(calls).toBe(1);
  });

  it('answers 409 idempotency_key_in_use while the first request is in flight', async () => {
    // Prepare
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { invoke } = setup({
      'POST /v1/slow': {
        auth: ['merchant'],
        handle: async () => {
          await gate;
          return { statusCode: 201, body: { done: true } };
        },
      },
    });
    const headers = { authorization: 'Bearer sk_test_x', 'idempotency-key': 'k4' };
    // Act
    const first = invoke(event('POST /v1/slow', { headers }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await invoke(event('POST /v1/slow', { headers }));
    release();
    const firstResult = await first;
    // Assess
    expect(second.statusCode).toBe(409);
    expect(parse(second).error).toMatchObject({ code: 'idempotency_key_in_use', param: 'Idempotency-Key' });
    expect(firstResult.statusCode).toBe(201);
  });

  it('ignores Idempotency-Key on GET', async () => {
    // Prepare
    const { invoke, store } = setup(echoRoutes);
    // Act
    await invoke(
      event('GET /v1/things/{id}', {
        pathParameters: { id: 'a' },
        headers: { authorization: 'Bearer x', 'idempotency-key': 'g' },
      }),
    );
    // Assess
    expect(store.records.size).toBe(0);
  });
});

describe('parseJsonBody', () => {
  it('treats an empty body as an empty object', () => {
    expect(parseJsonBody({ body: undefined, isBase64Encoded: false })).toEqual({});
    expect(parseJsonBody({ body: '  ', isBase64Encoded: false })).toEqual({});
  });

  it('rejects invalid UTF-8 as invalid_json', () => {
    const body = Buffer.from([0x7b, 0xff, 0x7d]).toString('base64');
    expect(() => parseJsonBody({ body, isBase64Encoded: true })).toThrow(expect.objectContaining({ code: 'invalid_json' }));
  });

  it('accepts a body of exactly 64 KiB and refuses one byte more', () => {
    const exact = JSON.stringify({ p: 'x'.repeat(MAX_BODY_BYTES - 8) });
    expect(Buffer.byteLength(exact)).toBe(MAX_BODY_BYTES);
    expect(parseJsonBody({ body: exact, isBase64Encoded: false })).toHaveProperty('p');
    const over = JSON.stringify({ p: 'x'.repeat(MAX_BODY_BYTES - 7) });
    expect(() => parseJsonBody({ body: Buffer.from(over).toString('base64'), isBase64Encoded: true })).toThrow(
      expect.objectContaining({ status: 413, code: 'body_too_large' }),
    );
  });
});

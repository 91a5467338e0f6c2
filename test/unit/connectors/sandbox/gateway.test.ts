/**
 * SandboxPspGateway against a mocked global fetch: the request it sends (path, body,
 * Idempotency-Key, no redirect following, a timeout signal) and how every kind of PSP answer
 * becomes a Paystep error the saga can Retry or Catch.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SandboxPspGateway } from '../../../../lambdas/connectors/sandbox/gateway';
import { PaymentDeclinedError, PspRejectedError, PspTimeoutError, PspUnavailableError } from '../../../../lambdas/errors';

const fetchMock = vi.fn<typeof fetch>();

const okOperation = (overrides: Record<string, unknown> = {}): Response =>
  new Response(
    JSON.stringify({
      id: 'op_1',
      type: 'capture',
      amount: 500,
      currency: 'USD',
      status: 'succeeded',
      authorization_id: 'auth_1',
      ...overrides,
    }),
    {
      status: 200,
      headers: { 'content-type': 'application/json' },
    },
  );

const errorResponse = (status: number, code: string, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify({ error: { code, message: 'x' } }), { status, headers });

const captureInput = {
  reference: 'chk_1',
  pspReference: 'auth_1',
  amount: 500,
  currency: 'USD',
  idempotencyKey: 'chk_1:capture',
};

beforeEach(() => {
  vi.stubGlobal('fetch', fetchMock);
});

afterEach(() => {
  vi.unstubAllGlobals();
  fetchMock.mockReset();
});

describe('SandboxPspGateway requests', () => {
  it('authorizes with the token, the Idempotency-Key, no redirects and a timeout signal', async () => {
    // Prepare
    fetchMock.mockResolvedValueOnce(okOperation({ id: 'op_a', type: 'authorize', amount: 10050, authorization_id: 'auth_9' }));
    const gateway = new SandboxPspGateway({ baseUrl: 'http://127.0.0.1:4001/' });
    // Act
    const result = await gateway.authorize({
      reference: 'chk_1',
      source: { type: 'token', token: 'tok_1' },
      amount: 10050,
      currency: 'USD',
      idempotencyKey: 'chk_1:authorize',
    });
    // Assess
    expect(result).toEqual({ pspReference: 'auth_9', authorizedAmount: 10050 });
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(url).toBe('http://127.0.0.1:4001/v1/authorizations');
    expect(init.method).toBe('POST');
    expect(init.redirect).toBe('manual');
    expect(init.signal).toBeInstanceOf(AbortSignal);
    expect((init.headers as Record<string, string>)['idempotency-key']).toBe('chk_1:authorize');
    expect(JSON.parse(init.body as string)).toEqual({ token: 'tok_1', amount: 10050, currency: 'USD', reference: 'chk_1' });
    expect(gateway.connector).toBe('sandbox');
  });

  it.each([
    ['capture', '/v1/authorizations/auth_1/capture', { amount: 500, currency: 'USD', reference: 'chk_1' }],
    ['refund', '/v1/authorizations/auth_1/refund', { amount: 500, currency: 'USD', reference: 'chk_1' }],
    ['voidAuthorization', '/v1/authorizations/auth_1/void', { reference: 'chk_1' }],
  ] as const)('%s posts to %s and returns the operation id and amount', async (method, path, body) => {
    // Prepare
    fetchMock.mockResolvedValueOnce(okOperation());
    const gateway = new SandboxPspGateway({ baseUrl: 'http://psp' });
    // Act
    const result = await gateway[method](captureInput);
    // Assess
    expect(result).toEqual({ pspOperationId: 'op_1', amount: 500 });
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(url).toBe(`http://psp${path}`);
    expect(JSON.parse(init.body as string)).toEqual(body);
  });
});

describe('SandboxPspGateway error translation', () => {
  it.each([
    ['402 card_declined', () => errorResponse(402, 'card_declined'), PaymentDeclinedError, 'card_declined'],
    ['402 insufficient_funds', () => errorResponse(402, 'insufficient_funds'), PaymentDeclinedError, 'insufficient_funds'],
    ['503', () => errorResponse(503, 'psp_unavailable'), PspUnavailableError, 'HTTP 503'],
    ['500 with a text body', () => new Response('boom', { status: 500 }), PspUnavailableError, 'HTTP 500'],
    ['429', () => errorResponse(429, 'rate_limited'), PspUnavailableError, 'HTTP 429'],
    ['422 rule violation', () => errorResponse(422, 'amount_exceeds_capturable'), PspRejectedError, 'amount_exceeds_capturable'],
    ['404 unknown authorization', () => errorResponse(404, 'authorization_not_found'), PspRejectedError, 'HTTP 404'],
    [
      '302 redirect',
      () => new Response(null, { status: 302, headers: { location: 'http://elsewhere' } }),
      PspRejectedError,
      'redirect',
    ],
    ['200 with a malformed body', () => new Response('not json', { status: 200 }), PspUnavailableError, 'unexpected'],
  ] as const)('%s', async (_label, answer, errorClass, message) => {
    // Prepare
    fetchMock.mockResolvedValueOnce(answer());
    const gateway = new SandboxPspGateway({ baseUrl: 'http://psp' });
    // Act
    const error = await gateway.capture(captureInput).catch((caught: unknown) => caught);
    // Assess
    expect(error).toBeInstanceOf(errorClass);
    expect((error as Error).message).toContain(message);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET'])('%s becomes PspUnavailableError naming the code', async (code) => {
    // Prepare
    fetchMock.mockRejectedValueOnce(new TypeError('fetch failed', { cause: Object.assign(new Error('socket'), { code }) }));
    const gateway = new SandboxPspGateway({ baseUrl: 'http://psp' });
    // Act
    const error = await gateway.capture(captureInput).catch((caught: unknown) => caught);
    // Assess
    expect(error).toBeInstanceOf(PspUnavailableError);
    expect((error as Error).message).toContain(code);
  });

  it('an aborted-by-timeout fetch becomes PspTimeoutError', async () => {
    // Prepare: a fetch that only settles when the gateway's timeout signal fires
    fetchMock.mockImplementationOnce(
      (_url, init) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    );
    const gateway = new SandboxPspGateway({ baseUrl: 'http://psp', timeoutMs: 20 });
    // Act
    const error = await gateway
      .authorize({
        reference: 'chk_1',
        source: { type: 'token', token: 'tok_1' },
        amount: 1,
        currency: 'USD',
        idempotencyKey: 'k',
      })
      .catch((caught: unknown) => caught);
    // Assess
    expect(error).toBeInstanceOf(PspTimeoutError);
    expect((error as Error).message).toContain('20 ms');
  });

  it('uses an 8 s timeout by default', async () => {
    // Prepare
    const timeoutSpy = vi.spyOn(AbortSignal, 'timeout');
    fetchMock.mockResolvedValueOnce(okOperation());
    // Act
    await new SandboxPspGateway({ baseUrl: 'http://psp' }).capture(captureInput);
    // Assess
    expect(timeoutSpy).toHaveBeenCalledWith(8000);
    timeoutSpy.mockRestore();
  });
});

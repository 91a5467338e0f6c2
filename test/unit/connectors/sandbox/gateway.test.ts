/**
 * SandboxPspGateway against a loopback HTTP server scripted per test: the request it sends (path,
 * body, Idempotency-Key), that it follows no redirect and gives up after its timeout, and how every
 * kind of PSP answer becomes a Paystep error the saga can Retry or Catch.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SandboxPspGateway } from '../../../../lambdas/connectors/sandbox/gateway';
import { PaymentDeclinedError, PspRejectedError, PspTimeoutError, PspUnavailableError } from '../../../../lambdas/errors';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** What the server does with the next request (each test sets it); every request is recorded. */
let respond: (res: ServerResponse, req: IncomingMessage) => void;
const received: Received[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      respond(res, req);
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolveClose) => server.close(resolveClose));
});

afterEach(() => {
  received.length = 0;
  vi.restoreAllMocks();
});

const answer =
  (status: number, body: string, headers: Record<string, string> = {}) =>
  (res: ServerResponse): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
  };

const okOperation = (overrides: Record<string, unknown> = {}) =>
  answer(
    200,
    JSON.stringify({
      id: 'op_1',
      type: 'capture',
      amount: 500,
      currency: 'USD',
      status: 'succeeded',
      authorization_id: 'auth_1',
      ...overrides,
    }),
  );

const errorAnswer = (status: number, code: string) => answer(status, JSON.stringify({ error: { code, message: 'x' } }));

const captureInput = {
  reference: 'chk_1',
  pspReference: 'auth_1',
  amount: 500,
  currency: 'USD',
  idempotencyKey: 'chk_1:capture',
};

describe('SandboxPspGateway requests', () => {
  it('authorizes with the token and the Idempotency-Key', async () => {
    // Prepare
    respond = okOperation({ id: 'op_a', type: 'authorize', amount: 10050, authorization_id: 'auth_9' });
    const gateway = new SandboxPspGateway({ baseUrl: `${baseUrl}/` });
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
    expect(received).toHaveLength(1);
    expect(received[0]!.method).toBe('POST');
    expect(received[0]!.url).toBe('/v1/authorizations');
    expect(received[0]!.headers['idempotency-key']).toBe('chk_1:authorize');
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(received[0]!.body)).toEqual({ token: 'tok_1', amount: 10050, currency: 'USD', reference: 'chk_1' });
    expect(gateway.connector).toBe('sandbox');
  });

  it.each([
    ['capture', '/v1/authorizations/auth_1/capture', { amount: 500, currency: 'USD', reference: 'chk_1' }],
    ['refund', '/v1/authorizations/auth_1/refund', { amount: 500, currency: 'USD', reference: 'chk_1' }],
    ['voidAuthorization', '/v1/authorizations/auth_1/void', { reference: 'chk_1' }],
  ] as const)('%s posts to %s and returns the operation id and amount', async (method, path, body) => {
    // Prepare
    respond = okOperation();
    const gateway = new SandboxPspGateway({ baseUrl });
    // Act
    const result = await gateway[method](captureInput);
    // Assess
    expect(result).toEqual({ pspOperationId: 'op_1', amount: 500 });
    expect(received[0]!.url).toBe(path);
    expect(JSON.parse(received[0]!.body)).toEqual(body);
  });

  it('keeps one connection for calls in sequence', async () => {
    // Prepare
    respond = okOperation();
    const gateway = new SandboxPspGateway({ baseUrl });
    const sockets = new Set<unknown>();
    const record = (req: IncomingMessage): void => void sockets.add(req.socket);
    server.on('request', record);
    // Act
    try {
      for (let call = 0; call < 3; call += 1) await gateway.capture(captureInput);
    } finally {
      server.off('request', record);
    }
    // Assess
    expect(received).toHaveLength(3);
    expect(sockets.size).toBe(1);
  });
});

describe('SandboxPspGateway error translation', () => {
  it.each([
    ['402 card_declined', errorAnswer(402, 'card_declined'), PaymentDeclinedError, 'card_declined'],
    ['402 insufficient_funds', errorAnswer(402, 'insufficient_funds'), PaymentDeclinedError, 'insufficient_funds'],
    ['503', errorAnswer(503, 'psp_unavailable'), PspUnavailableError, 'HTTP 503'],
    ['500 with a text body', answer(500, 'boom', { 'content-type': 'text/plain' }), PspUnavailableError, 'HTTP 500'],
    ['429', errorAnswer(429, 'rate_limited'), PspUnavailableError, 'HTTP 429'],
    ['422 rule violation', errorAnswer(422, 'amount_exceeds_capturable'), PspRejectedError, 'amount_exceeds_capturable'],
    ['404 unknown authorization', errorAnswer(404, 'authorization_not_found'), PspRejectedError, 'HTTP 404'],
    ['302 redirect (not followed)', answer(302, '', { location: '/v1/elsewhere' }), PspRejectedError, 'redirect'],
    ['200 with a malformed body', answer(200, 'not json'), PspUnavailableError, 'unexpected'],
  ] as const)('%s', async (_label, script, errorClass, message) => {
    // Prepare
    respond = script;
    const gateway = new SandboxPspGateway({ baseUrl });
    // Act
    const error = await gateway.capture(captureInput).catch((caught: unknown) => caught);
    // Assess
    expect(error).toBeInstanceOf(errorClass);
    expect((error as Error).message).toContain(message);
    expect(received).toHaveLength(1); // a redirect is not followed, nothing is retried here
  });

  it('a refused connection becomes PspUnavailableError naming ECONNREFUSED', async () => {
    // Prepare: a port nothing listens on
    const closed = createServer();
    await new Promise<void>((resolveListen) => closed.listen(0, '127.0.0.1', resolveListen));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolveClose) => closed.close(resolveClose));
    const gateway = new SandboxPspGateway({ baseUrl: `http://127.0.0.1:${port}` });
    // Act
    const error = await gateway.capture(captureInput).catch((caught: unknown) => caught);
    // Assess
    expect(error).toBeInstanceOf(PspUnavailableError);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });

  it('a connection the PSP resets becomes PspUnavailableError naming ECONNRESET', async () => {
    // Prepare
    respond = (_res, req) => req.socket.destroy();
    const gateway = new SandboxPspGateway({ baseUrl });
    // Act
    const error = await gateway.capture(captureInput).catch((caught: unknown) => caught);
    // Assess
    expect(error).toBeInstanceOf(PspUnavailableError);
    expect((error as Error).message).toContain('ECONNRESET');
  });

  it('no whole answer within the timeout becomes PspTimeoutError, even when the headers came', async () => {
    // Prepare: one PSP that never answers, one that sends its headers and then stalls
    const gateway = new SandboxPspGateway({ baseUrl, timeoutMs: 50 });
    const authorize = () =>
      gateway
        .authorize({
          reference: 'chk_1',
          source: { type: 'token', token: 'tok_1' },
          amount: 1,
          currency: 'USD',
          idempotencyKey: 'k',
        })
        .catch((caught: unknown) => caught);
    // Act
    respond = () => undefined;
    const silent = await authorize();
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":');
    };
    const stalled = await authorize();
    // Assess
    for (const error of [silent, stalled]) {
      expect(error).toBeInstanceOf(PspTimeoutError);
      expect((error as Error).message).toContain('50 ms');
    }
  });

  it('uses an 8 s timeout by default', async () => {
    // Prepare
    respond = okOperation();
    const timers = vi.spyOn(globalThis, 'setTimeout');
    // Act
    await new SandboxPspGateway({ baseUrl }).capture(captureInput);
    // Assess
    expect(timers.mock.calls.map((call) => call[1])).toContain(8000);
  });
});

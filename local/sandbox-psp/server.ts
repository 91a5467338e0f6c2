/**
 * The sandbox PSP: a separate loopback HTTP server that plays the payment service provider in
 * every local run and test. It tokenizes test cards for the browser (CORS), authorizes, captures,
 * voids and refunds against its own ledger (ledger.ts), enforces the money rules a real acquirer
 * enforces, replays answers per Idempotency-Key, and misbehaves on purpose for the test cards in
 * test-cards.ts (declines, 503 on first attempt, responses held past Paystep's timeout).
 * Its `GET /v1/ledger` is how tests prove Paystep never captured without confirmation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { code as findCurrency } from 'currency-codes';
import { validateCard } from './card-validation';
import { isRecord, listen, parseJson, readBody, sendJson, Timers } from './http-io';
import { SandboxLedger, type PspReply } from './ledger';
import { TEST_CARDS, type CardBehavior } from './test-cards';

export interface StartSandboxPspOptions {
  /** 0 or omitted: any free port. */
  port?: number;
  host?: string;
  /** How long the hang cards hold a response (default 35 000 ms, past the adapter's 8 s timeout). */
  hangMs?: number;
  /** JSON file the ledger is persisted to after each change and reloaded from on start. */
  dataFile?: string;
}

export interface SandboxPsp {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export const DEFAULT_HANG_MS = 35_000;

const CORS_HEADERS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'Content-Type, Idempotency-Key, Authorization',
  'access-control-expose-headers': 'Idempotent-Replayed',
  'access-control-max-age': '600',
};

const MAX_AMOUNT = 99_999_999_999;

class BadRequest extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly param?: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * Starts the sandbox PSP on loopback. Used by `npm start`, integration and e2e tests; each test
 * gets its own instance (and ledger) on a random port.
 */
export async function startSandboxPsp(options: StartSandboxPspOptions = {}): Promise<SandboxPsp> {
  const ledger = new SandboxLedger(options.dataFile);
  const hangMs = options.hangMs ?? DEFAULT_HANG_MS;
  const timers = new Timers();

  const reply = (response: ServerResponse, answer: PspReply, extra: Record<string, string> = {}): void => {
    sendJson(response, answer.status, answer.body, { ...CORS_HEADERS, ...extra });
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://sandbox-psp.local');
    const method = request.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';

    if (method === 'OPTIONS') {
      response.writeHead(204, CORS_HEADERS);
      response.end();
      return;
    }
    try {
      if (method === 'GET') {
        handleRead(path, url, response);
        return;
      }
      if (method !== 'POST') throw new BadRequest('method_not_allowed', `${method} is not supported`, undefined, 405);
      const raw = await readBody(request);

      if (path === '/v1/tokens') {
        handleTokenize(raw, request, response);
        return;
      }
      const route = matchMutation(path);
      if (route === undefined) throw new BadRequest('route_not_found', `No route for POST ${path}`, undefined, 404);

      const key = readIdempotencyKey(request, true) as string;
      const stored = ledger.findIdempotent(key);
      if (stored !== undefined) {
        if (stored.path !== path) {
          throw new BadRequest('idempotency_key_reused', 'This Idempotency-Key was used for a different operation', 'Idempotency-Key', 422);
        }
        reply(response, stored.reply, { 'idempotent-replayed': 'true' });
        return;
      }
      const body = parseBody(raw);
      let behavior: CardBehavior | undefined;
      let run: () => PspReply;
      if (route.operation === 'authorize') {
        const input = {
          token: requireString(body, 'token'),
          amount: requireAmount(body),
          currency: requireCurrency(body),
          reference: requireString(body, 'reference'),
        };
        behavior = ledger.getToken(input.token)?.behavior;
        run = () => ledger.authorize(input, key, path);
      } else {
        const authorizationId = route.authorizationId;
        behavior = ledger.getAuthorization(authorizationId)?.behavior;
        const reference = optionalString(body, 'reference');
        const ref = reference !== undefined ? { reference } : {};
        if (route.operation === 'void') {
          run = () => ledger.voidAuthorization(authorizationId, ref, key, path);
        } else {
          const input = { amount: requireAmount(body), currency: requireCurrency(body), ...ref };
          run = route.operation === 'capture'
            ? () => ledger.capture(authorizationId, input, key, path)
            : () => ledger.refund(authorizationId, input, key, path);
        }
      }

      if (behavior === 'unavailable_once' && ledger.claimFirstAttempt(key)) {
        reply(response, { status: 503, body: { error: { code: 'psp_unavailable', message: 'Temporarily unavailable; retry with the same Idempotency-Key' } } }, { 'retry-after': '1' });
        return;
      }
      // Processed now, answered later: the hang cards model "the PSP did it, the answer got lost".
      const answer = run();
      const hangs = (behavior === 'hang_authorize' && route.operation === 'authorize') || (behavior === 'hang_capture' && route.operation === 'capture');
      if (hangs && !(await timers.sleep(hangMs))) return;
      reply(response, answer);
    } catch (error) {
      if (error instanceof BadRequest) {
        reply(response, { status: error.status, body: { error: { code: error.code, message: error.message, ...(error.param ? { param: error.param } : {}) } } });
        return;
      }
      throw error;
    }
  };

  const handleRead = (path: string, url: URL, response: ServerResponse): void => {
    if (path === '/' || path === '/health') {
      reply(response, { status: 200, body: { ok: true, service: 'sandbox-psp' } });
      return;
    }
    if (path === '/v1/ledger') {
      const reference = url.searchParams.get('reference');
      reply(response, { status: 200, body: { operations: ledger.listOperations(reference ?? undefined) } });
      return;
    }
    if (path === '/v1/test-cards') {
      reply(response, { status: 200, body: { cards: TEST_CARDS } });
      return;
    }
    const authorizationMatch = /^\/v1\/authorizations\/([^/]+)$/.exec(path);
    if (authorizationMatch) {
      const view = ledger.viewAuthorization(decodeURIComponent(authorizationMatch[1] as string));
      if (view === undefined) throw new BadRequest('authorization_not_found', 'No such authorization', undefined, 404);
      reply(response, { status: 200, body: view });
      return;
    }
    const tokenMatch = /^\/v1\/tokens\/([^/]+)$/.exec(path);
    if (tokenMatch) {
      const token = ledger.getToken(decodeURIComponent(tokenMatch[1] as string));
      if (token === undefined) throw new BadRequest('token_not_found', 'No such token', undefined, 404);
      reply(response, { status: 200, body: publicToken(token) });
      return;
    }
    throw new BadRequest('route_not_found', `No route for GET ${path}`, undefined, 404);
  };

  /** Tokens need no Idempotency-Key (the browser calls this); with one, the answer is replayed. */
  const handleTokenize = (raw: string, request: IncomingMessage, response: ServerResponse): void => {
    const key = readIdempotencyKey(request, false);
    if (key !== undefined) {
      const stored = ledger.findIdempotent(key);
      if (stored !== undefined && stored.path === '/v1/tokens') {
        reply(response, stored.reply, { 'idempotent-replayed': 'true' });
        return;
      }
      if (stored !== undefined) throw new BadRequest('idempotency_key_reused', 'This Idempotency-Key was used for a different operation', 'Idempotency-Key', 422);
    }
    const body = parseBody(raw);
    const card = validateCard(body);
    if (!card.ok) throw new BadRequest(card.code, card.message, card.param);
    const token = ledger.createToken(card);
    reply(response, { status: 200, body: publicToken(token) });
  };

  const server = await listen(handle, {
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    onStop: () => timers.cancelAll(),
    onError: (response) => sendJson(response, 500, { error: { code: 'internal_error', message: 'Internal error' } }, CORS_HEADERS),
  });
  return server;
}

function publicToken(token: { id: string; last4: string; brand: string; exp_month: number; exp_year: number; created: string; used_by_authorization: string | null }): unknown {
  return {
    id: token.id,
    object: 'token',
    card: { brand: token.brand, last4: token.last4, exp_month: token.exp_month, exp_year: token.exp_year },
    used: token.used_by_authorization !== null,
    created: token.created,
  };
}

type MutationRoute =
  | { operation: 'authorize' }
  | { operation: 'capture' | 'void' | 'refund'; authorizationId: string };

function matchMutation(path: string): MutationRoute | undefined {
  if (path === '/v1/authorizations') return { operation: 'authorize' };
  const match = /^\/v1\/authorizations\/([^/]+)\/(capture|void|refund)$/.exec(path);
  if (!match) return undefined;
  return { operation: match[2] as 'capture' | 'void' | 'refund', authorizationId: decodeURIComponent(match[1] as string) };
}

function readIdempotencyKey(request: IncomingMessage, required: boolean): string | undefined {
  const header = request.headers['idempotency-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined || key.trim() === '') {
    if (required) throw new BadRequest('idempotency_key_required', 'Every mutating call needs an Idempotency-Key header', 'Idempotency-Key');
    return undefined;
  }
  if (key.length > 255) throw new BadRequest('invalid_idempotency_key', 'Idempotency-Key is longer than 255 characters', 'Idempotency-Key');
  return key;
}

function parseBody(raw: string): Record<string, unknown> {
  const body = raw.trim() === '' ? {} : parseJson(raw);
  if (!isRecord(body)) throw new BadRequest('invalid_json', 'The body must be a JSON object');
  return body;
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.trim() === '' || value.length > 255) {
    throw new BadRequest('parameter_invalid', `${field} is required and must be a non-empty string`, field);
  }
  return value;
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  return body[field] === undefined ? undefined : requireString(body, field);
}

function requireAmount(body: Record<string, unknown>): number {
  const value = body['amount'];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > MAX_AMOUNT) {
    throw new BadRequest('parameter_invalid', 'amount must be a positive integer in minor units', 'amount');
  }
  return value;
}

function requireCurrency(body: Record<string, unknown>): string {
  const value = body['currency'];
  if (typeof value !== 'string' || !/^[A-Z]{3}$/.test(value) || findCurrency(value) === undefined) {
    throw new BadRequest('parameter_invalid', 'currency must be an uppercase ISO 4217 code', 'currency');
  }
  return value;
}

/**
 * The sandbox PSP: a separate loopback HTTP server that plays the payment service provider in
 * every local run and test. It tokenizes test cards for the browser (CORS), authorizes, captures,
 * voids and refunds against its own ledger (ledger.ts), enforces the money rules a real acquirer
 * enforces, replays answers per Idempotency-Key, and misbehaves on purpose for the test cards in
 * test-cards.ts (declines, 503 on first attempt, responses held past Paystep's timeout, results
 * delivered later by signed callback, duplicated or out of order: callback-sender.ts). Lookups by
 * reference (`GET /v1/authorizations?reference=`) let Paystep find an authorization whose id it
 * never learned; `POST /v1/authorizations/{id}/dispute` simulates a chargeback.
 * Its `GET /v1/ledger` is how tests prove Paystep never captured without confirmation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { code as findCurrency } from 'currency-codes';
import { validateCard } from './card-validation';
import { isRecord, listen, parseJson, readBody, sendJson, Timers } from './http-io';
import { ASYNC_BEHAVIORS, SandboxLedger, type Authorization, type CardOnFileFlags, type PspReply } from './ledger';
import { CallbackSender, newCallback, type CallbackTarget } from './callback-sender';
import type { PspCallbackType } from '../../lambdas/connectors/sandbox/callbacks';
import { TEST_CARDS, type CardBehavior } from './test-cards';
import { parseChallengeOutcome, redirectAfterChallenge, renderChallengePage, sendChallengeHtml } from './challenge-page';

export interface StartSandboxPspOptions {
  /** 0 or omitted: any free port. */
  port?: number;
  host?: string;
  /** How long the hang cards hold a response (default 35 000 ms, past the adapter's 8 s timeout). */
  hangMs?: number;
  /** JSON file the ledger is persisted to after each change and reloaded from on start. */
  dataFile?: string;
  /** Where signed callbacks go (Paystep's POST /v1/psp/sandbox/callbacks) and the shared secret. */
  callbacks?: CallbackTarget;
  /** How long an async card's authorization stays pending before its result is sent (default 30 000 ms). */
  callbackDelayMs?: number;
  log?: (line: string) => void;
}

export interface SandboxPsp {
  url: string;
  port: number;
  /** Sets (or changes) where callbacks go. */
  configureCallbacks(target: CallbackTarget): void;
  stop(): Promise<void>;
}

export const DEFAULT_HANG_MS = 35_000;
/** "The PSP reports the result 30 s later" (the example); local runs compress it. */
export const DEFAULT_CALLBACK_DELAY_MS = 30_000;

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
  const callbackDelayMs = options.callbackDelayMs ?? DEFAULT_CALLBACK_DELAY_MS;
  const timers = new Timers();
  const sender = new CallbackSender(options.callbacks, timers, options.log);
  const inFlight = new Set<Promise<void>>();
  /**
   * `PUT /v1/test/outage` (DESIGN Part 2, as on the Stripe sandbox): `unavailable` answers every new
   * authorization 503, `timeout` holds it past Paystep's PSP timeout (then 503); neither records
   * anything, so the PSP's truth for that attempt is "not authorized". Captures, voids and refunds
   * of existing authorizations still work.
   */
  let outage: 'none' | 'unavailable' | 'timeout' = 'none';

  /** Runs callback work in the background; stop() waits for none of it (timers are cancelled). */
  const background = (work: () => Promise<void>): void => {
    const running = work().catch((error: unknown) => options.log?.(`Sandbox PSP callback failed: ${String(error)}`));
    inFlight.add(running);
    void running.finally(() => inFlight.delete(running));
  };

  const callbackFor = (
    authorization: Authorization,
    type: PspCallbackType,
    extra: { amount?: number; dispute_id?: string; reason?: string } = {},
  ) => {
    const view = ledger.viewAuthorization(authorization.id);
    return newCallback(type, ledger.nextSequence(authorization.id), {
      authorization_id: authorization.id,
      reference: authorization.reference,
      amount: extra.amount ?? authorization.amount,
      currency: authorization.currency,
      status: view?.status ?? 'unknown',
      ...(extra.dispute_id !== undefined ? { dispute_id: extra.dispute_id } : {}),
      ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
    });
  };
  const timesFor = (authorization: Authorization): number => (authorization.behavior === 'duplicate_callbacks' ? 2 : 1);

  /**
   * An async card's life: `authorization.pending` now, the result after callbackDelayMs. The
   * out-of-order card sends the pending report only after the result (a stale report arriving late).
   */
  const armPending = (authorization: Authorization): void => {
    const outOfOrder = authorization.behavior === 'out_of_order_callbacks';
    const pendingReport = callbackFor(authorization, 'authorization.pending');
    background(async () => {
      if (!outOfOrder) await sender.deliver(pendingReport, timesFor(authorization));
      const wait = Math.max(0, Date.parse(authorization.settle_at ?? '') - Date.now()) || 0;
      if (!(await timers.sleep(wait))) return;
      const settled = ledger.settlePending(authorization.id);
      if (settled === undefined) return; // voided while pending: no result to report
      await sender.deliver(callbackFor(settled, 'authorization.succeeded'), timesFor(settled));
      if (outOfOrder) await sender.deliver(pendingReport, 1);
    });
  };
  for (const pending of ledger.listPending()) armPending(pending);

  /** After a capture/void of an async card: report it; the out-of-order card then re-reports "authorized" late. */
  const reportMovement = (authorizationId: string, type: 'capture.succeeded' | 'void.succeeded', amount: number): void => {
    const authorization = ledger.getAuthorization(authorizationId);
    if (authorization === undefined || !ASYNC_BEHAVIORS.includes(authorization.behavior)) return;
    const report = callbackFor(authorization, type, { amount });
    const late =
      authorization.behavior === 'out_of_order_callbacks'
        ? { ...callbackFor(authorization, 'authorization.succeeded'), sequence: 2 }
        : undefined;
    background(async () => {
      await sender.deliver(report, timesFor(authorization));
      if (late !== undefined) await sender.deliver({ ...late, data: { ...late.data, status: 'authorized' } }, 1);
    });
  };

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
      const challengeMatch = /^\/v1\/challenges\/([^/]+)$/.exec(path);
      if (challengeMatch !== null && (method === 'GET' || method === 'POST')) {
        const raw = method === 'POST' ? await readBody(request) : '';
        handleChallenge(decodeURIComponent(challengeMatch[1] as string), method, raw, response);
        return;
      }
      if (method === 'GET') {
        handleRead(path, url, response);
        return;
      }
      if (method === 'PUT' && path === '/v1/test/outage') {
        const mode = (parseBody(await readBody(request)) as { mode?: unknown }).mode;
        if (mode !== 'none' && mode !== 'unavailable' && mode !== 'timeout') {
          throw new BadRequest('parameter_invalid', 'mode must be none, unavailable or timeout', 'mode', 422);
        }
        outage = mode;
        reply(response, { status: 200, body: { mode } });
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
      if (route.operation === 'authorize' && outage !== 'none' && ledger.findIdempotent(key) === undefined) {
        if (outage === 'timeout' && !(await timers.sleep(hangMs))) return;
        reply(response, { status: 503, body: { error: { code: 'psp_unavailable', message: `Sandbox outage (${outage})` } } });
        return;
      }
      const stored = ledger.findIdempotent(key);
      if (stored !== undefined) {
        if (stored.path !== path) {
          throw new BadRequest(
            'idempotency_key_reused',
            'This Idempotency-Key was used for a different operation',
            'Idempotency-Key',
            422,
          );
        }
        reply(response, stored.reply, { 'idempotent-replayed': 'true' });
        return;
      }
      const body = parseBody(raw);
      let behavior: CardBehavior | undefined;
      let run: () => PspReply;
      if (route.operation === 'authorize' && body['card'] !== undefined) {
        const cardOnFile = requireCardOnFile(body);
        const card = validateCard(requireRecord(body, 'card'), new Date(), { cvc: cardOnFile.stored ? 'optional' : 'required' });
        if (!card.ok) throw new BadRequest(card.code, card.message, `card[${card.param}]`);
        const input = {
          card,
          cardOnFile,
          amount: requireAmount(body),
          currency: requireCurrency(body),
          reference: requireString(body, 'reference'),
          ...threeDSecureFields(body),
        };
        behavior = card.behavior;
        run = () =>
          ledger.authorizeCard(input, key, path, {
            settleAfterMs: callbackDelayMs,
            challengeUrl: (id) => `${publicUrl}/v1/challenges/${encodeURIComponent(id)}`,
          });
      } else if (route.operation === 'authorize') {
        const input = {
          token: requireString(body, 'token'),
          amount: requireAmount(body),
          currency: requireCurrency(body),
          reference: requireString(body, 'reference'),
          ...threeDSecureFields(body),
        };
        behavior = ledger.getToken(input.token)?.behavior;
        run = () =>
          ledger.authorize(input, key, path, {
            settleAfterMs: callbackDelayMs,
            challengeUrl: (id) => `${publicUrl}/v1/challenges/${encodeURIComponent(id)}`,
          });
      } else {
        const authorizationId = route.authorizationId;
        behavior = ledger.getAuthorization(authorizationId)?.behavior;
        const reference = optionalString(body, 'reference');
        const ref = reference !== undefined ? { reference } : {};
        if (route.operation === 'void') {
          run = () => ledger.voidAuthorization(authorizationId, ref, key, path);
        } else if (route.operation === 'dispute') {
          const input = { amount: requireAmount(body), currency: requireCurrency(body), ...ref };
          const reason = optionalString(body, 'reason') ?? 'fraudulent';
          run = () => {
            const answer = ledger.dispute(authorizationId, input, key, path);
            const authorization = ledger.getAuthorization(authorizationId);
            if (answer.status === 200 && authorization !== undefined) {
              const disputeId = (answer.body as { id?: string }).id ?? generateDisputeId();
              const report = callbackFor(authorization, 'dispute.created', {
                amount: input.amount,
                dispute_id: disputeId,
                reason,
              });
              background(() => sender.deliver(report, timesFor(authorization)));
            }
            return answer;
          };
        } else {
          const input = { amount: requireAmount(body), currency: requireCurrency(body), ...ref };
          run =
            route.operation === 'capture'
              ? () => ledger.capture(authorizationId, input, key, path)
              : () => ledger.refund(authorizationId, input, key, path);
        }
      }

      if (behavior === 'unavailable_once' && ledger.claimFirstAttempt(key)) {
        reply(
          response,
          {
            status: 503,
            body: { error: { code: 'psp_unavailable', message: 'Temporarily unavailable; retry with the same Idempotency-Key' } },
          },
          { 'retry-after': '1' },
        );
        return;
      }
      // Processed now, answered later: the hang cards model "the PSP did it, the answer got lost".
      const answer = run();
      if (route.operation === 'authorize' && answer.status === 202) {
        const authorizationId = (answer.body as { authorization_id?: string }).authorization_id;
        const created = authorizationId === undefined ? undefined : ledger.getAuthorization(authorizationId);
        if (created?.pending === true) armPending(created);
      }
      if ((route.operation === 'capture' || route.operation === 'void') && answer.status === 200) {
        reportMovement(
          route.authorizationId,
          route.operation === 'capture' ? 'capture.succeeded' : 'void.succeeded',
          (answer.body as { amount: number }).amount,
        );
      }
      const hangs =
        (behavior === 'hang_authorize' && route.operation === 'authorize') ||
        (behavior === 'hang_capture' && route.operation === 'capture');
      if (hangs && !(await timers.sleep(hangMs))) return;
      reply(response, answer);
    } catch (error) {
      if (error instanceof BadRequest) {
        reply(response, {
          status: error.status,
          body: { error: { code: error.code, message: error.message, ...(error.param ? { param: error.param } : {}) } },
        });
        return;
      }
      throw error;
    }
  };

  /**
   * The 3-D Secure challenge page: GET shows it, POST `outcome=complete|fail` decides it, reports
   * the result by signed callback (authorization.succeeded | authorization.failed) and answers
   * 302 to the return_url. A second or late answer (decided, canceled) only redirects.
   */
  const handleChallenge = (authorizationId: string, method: string, raw: string, response: ServerResponse): void => {
    const found = ledger.getChallenge(authorizationId) ?? ledger.getAuthorization(authorizationId);
    if (found === undefined || (found.requires_action !== true && found.three_d_secure === undefined && !found.voided)) {
      sendChallengeHtml(response, 404, renderChallengePage({ ...pageFacts(undefined), open: false, result: 'unknown' }));
      return;
    }
    if (method === 'GET') {
      const result = found.voided ? 'canceled' : found.failure_code !== undefined ? 'failed' : 'completed';
      sendChallengeHtml(
        response,
        200,
        renderChallengePage({ ...pageFacts(found), open: found.requires_action === true, result }),
      );
      return;
    }
    const outcome = parseChallengeOutcome(raw);
    if (outcome === undefined) {
      sendChallengeHtml(response, 400, renderChallengePage({ ...pageFacts(found), open: found.requires_action === true }));
      return;
    }
    const decided = ledger.decideChallenge(authorizationId, outcome);
    if (decided !== undefined) {
      const type = decided.failure_code === undefined ? 'authorization.succeeded' : 'authorization.failed';
      const report = callbackFor(decided, type, decided.failure_code !== undefined ? { reason: decided.failure_code } : {});
      background(() => sender.deliver(report, 1));
    }
    redirectAfterChallenge(response, found.return_url, outcome === 'complete' ? 'completed' : 'failed');
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
    if (path === '/v1/authorizations') {
      const reference = url.searchParams.get('reference');
      if (reference === null || reference === '') throw new BadRequest('parameter_missing', 'reference is required', 'reference');
      reply(response, { status: 200, body: { data: ledger.findByReference(reference) } });
      return;
    }
    if (path === '/v1/callbacks') {
      const reference = url.searchParams.get('reference');
      reply(response, {
        status: 200,
        body: { data: sender.sent.filter((row) => reference === null || row.reference === reference) },
      });
      return;
    }
    if (path === '/v1/test/outage') {
      reply(response, { status: 200, body: { mode: outage } });
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
      if (stored !== undefined)
        throw new BadRequest(
          'idempotency_key_reused',
          'This Idempotency-Key was used for a different operation',
          'Idempotency-Key',
          422,
        );
    }
    const body = parseBody(raw);
    const card = validateCard(body);
    if (!card.ok) throw new BadRequest(card.code, card.message, card.param);
    const token = ledger.createToken(card);
    reply(response, { status: 200, body: publicToken(token) });
  };

  let publicUrl = '';
  const server = await listen(handle, {
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    onStop: () => timers.cancelAll(),
    onError: (response) =>
      sendJson(response, 500, { error: { code: 'internal_error', message: 'Internal error' } }, CORS_HEADERS),
  });
  publicUrl = server.url.replace(/\/+$/, '');
  return { ...server, configureCallbacks: (target: CallbackTarget) => sender.configure(target) };
}

/** What the challenge page shows about the payment: amount and card brand/last 4, never the number. */
function pageFacts(authorization: Authorization | undefined) {
  return {
    issuer: 'Sandbox PSP',
    amount: authorization?.amount ?? 0,
    currency: authorization?.currency ?? 'EUR',
    card: authorization?.card ?? { brand: 'card', last4: '----' },
  };
}

/** The authorization's 3-D Secure inputs: `return_url` (http/https), `off_session`, `three_ds: "required"`. */
function threeDSecureFields(body: Record<string, unknown>): {
  return_url?: string;
  off_session?: boolean;
  three_ds?: 'required';
} {
  const returnUrl = optionalString(body, 'return_url');
  if (returnUrl !== undefined && !/^https?:\/\//.test(returnUrl)) {
    throw new BadRequest('parameter_invalid', 'return_url must be an http(s) URL', 'return_url');
  }
  const offSession = body['off_session'];
  if (offSession !== undefined && typeof offSession !== 'boolean') {
    throw new BadRequest('parameter_invalid', 'off_session must be a boolean', 'off_session');
  }
  const threeDs = body['three_ds'];
  if (threeDs !== undefined && threeDs !== 'required' && threeDs !== 'automatic') {
    throw new BadRequest('parameter_invalid', 'three_ds must be "required" or "automatic"', 'three_ds');
  }
  return {
    ...(returnUrl !== undefined ? { return_url: returnUrl } : {}),
    ...(offSession === true ? { off_session: true } : {}),
    ...(threeDs === 'required' ? { three_ds: 'required' as const } : {}),
  };
}

function publicToken(token: {
  id: string;
  last4: string;
  brand: string;
  exp_month: number;
  exp_year: number;
  created: string;
  used_by_authorization: string | null;
}): unknown {
  return {
    id: token.id,
    object: 'token',
    card: { brand: token.brand, last4: token.last4, exp_month: token.exp_month, exp_year: token.exp_year },
    used: token.used_by_authorization !== null,
    created: token.created,
  };
}

type MutationRoute =
  { operation: 'authorize' } | { operation: 'capture' | 'void' | 'refund' | 'dispute'; authorizationId: string };

function matchMutation(path: string): MutationRoute | undefined {
  if (path === '/v1/authorizations') return { operation: 'authorize' };
  const match = /^\/v1\/authorizations\/([^/]+)\/(capture|void|refund|dispute)$/.exec(path);
  if (!match) return undefined;
  return {
    operation: match[2] as 'capture' | 'void' | 'refund' | 'dispute',
    authorizationId: decodeURIComponent(match[1] as string),
  };
}

function generateDisputeId(): string {
  return `dp_${Date.now().toString(36)}`;
}

function readIdempotencyKey(request: IncomingMessage, required: boolean): string | undefined {
  const header = request.headers['idempotency-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined || key.trim() === '') {
    if (required)
      throw new BadRequest('idempotency_key_required', 'Every mutating call needs an Idempotency-Key header', 'Idempotency-Key');
    return undefined;
  }
  if (key.length > 255)
    throw new BadRequest('invalid_idempotency_key', 'Idempotency-Key is longer than 255 characters', 'Idempotency-Key');
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

function requireRecord(body: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = body[field];
  if (!isRecord(value)) throw new BadRequest('parameter_invalid', `${field} must be an object`, field);
  return value;
}

/**
 * `card_on_file` of a card authorization: `initiator` (`customer` or `merchant`), `stored` (the
 * card is kept for later payments) and, for merchant-initiated ones, `network_transaction_id`.
 * Absent: a one-off customer-initiated payment.
 */
function requireCardOnFile(body: Record<string, unknown>): CardOnFileFlags {
  if (body['card_on_file'] === undefined) return { initiator: 'customer', stored: false };
  const flags = requireRecord(body, 'card_on_file');
  const initiator = flags['initiator'];
  if (initiator !== 'customer' && initiator !== 'merchant')
    throw new BadRequest('parameter_invalid', 'card_on_file[initiator] must be customer or merchant', 'card_on_file[initiator]');
  if (typeof flags['stored'] !== 'boolean')
    throw new BadRequest('parameter_invalid', 'card_on_file[stored] must be a boolean', 'card_on_file[stored]');
  const nti = optionalString(flags, 'network_transaction_id');
  return { initiator, stored: flags['stored'], ...(nti !== undefined ? { network_transaction_id: nti } : {}) };
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

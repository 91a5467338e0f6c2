/**
 * The Stripe-protocol sandbox: a loopback HTTP server that speaks Stripe's API for exactly the
 * calls the `stripe` connector (lambdas/connectors/stripe/) makes, so the connector runs the
 * official SDK unchanged against it locally and against api.stripe.com on AWS. Form-encoded
 * bodies in bracket notation, `Authorization: Bearer sk_test_...`, `Idempotency-Key` replays
 * (same key + other parameters: `idempotency_error`), Stripe's error object and status codes,
 * PaymentIntents with manual capture (create+confirm, retrieve, search by
 * `metadata['reference']`, capture with `amount_to_capture`, cancel), Refunds, PaymentMethods
 * from card data, card-on-file (`setup_future_usage=off_session`, then `off_session=true`, with
 * the network transaction id recorded), 3-D Secure (`requires_action` with a redirect to the
 * challenge page, challenges.ts), and signed webhooks (webhook-sender.ts). Same test cards
 * as the sandbox PSP (local/sandbox-psp/test-cards.ts). Test-only routes under `/v1/test/`:
 * `PUT outage`, `GET ledger?reference=` (the sandbox PSP's ledger shape), `GET events`,
 * `POST payment_intents/{id}/dispute`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { code as findCurrency } from 'currency-codes';
import { validateCard } from '../sandbox-psp/card-validation';
import { isRecord, listen, parseJson, readBody, sendJson, Timers } from '../sandbox-psp/http-io';
import { TEST_CARDS, type CardBehavior } from '../sandbox-psp/test-cards';
import {
  authenticationFor,
  challengeIntentId,
  handleChallengePage,
  renderNextAction,
  returnUrlOf,
  threeDSecureBlock,
  threeDSecureRequested,
  type ChallengeDependencies,
} from './challenges';
import { parseStripeForm, type FormObject, type FormValue } from './form';
import { newId, StripeSandboxLedger, unixNow, type StoredAnswer, type StoredIntent, type StoredPaymentMethod } from './ledger';
import { newEvent, WebhookSender, type WebhookTarget } from './webhook-sender';

export type OutageMode = 'none' | 'unavailable' | 'timeout';

export interface StartStripeSandboxOptions {
  port?: number;
  host?: string;
  /** The secret key callers must present (default `sk_test_paystep_sandbox`). */
  apiKey?: string;
  /** How long hang cards and the `timeout` outage hold a response (default 35 000 ms). */
  hangMs?: number;
  /** How long an async card's authorization stays `processing` (default 30 000 ms). */
  asyncDelayMs?: number;
  /** Where webhooks go (Paystep's Stripe webhook route) and the `whsec_` secret. */
  webhooks?: WebhookTarget;
  /** JSON file the ledger is persisted to and reloaded from. */
  dataFile?: string;
  log?: (line: string) => void;
}

export interface StripeSandbox {
  url: string;
  port: number;
  apiKey: string;
  configureWebhooks(target: WebhookTarget): void;
  stop(): Promise<void>;
}

export const DEFAULT_STRIPE_SANDBOX_API_KEY = 'sk_test_paystep_sandbox';
export const DEFAULT_HANG_MS = 35_000;
export const DEFAULT_ASYNC_DELAY_MS = 30_000;
const MAX_AMOUNT = 99_999_999;
const ASYNC_BEHAVIORS: readonly CardBehavior[] = ['async_callback', 'duplicate_callbacks', 'out_of_order_callbacks'];

/** A Stripe error answer: `{"error":{"type","code","decline_code","message","param"}}`. */
class StripeFailure extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: { code?: string; decline_code?: string; param?: string; payment_intent?: unknown } = {},
  ) {
    super(message);
  }

  answer(): StoredAnswer {
    return { status: this.status, body: { error: { type: this.type, message: this.message, ...this.extra } } };
  }
}

const invalid = (message: string, param?: string, code = 'parameter_invalid'): StripeFailure =>
  new StripeFailure(400, 'invalid_request_error', message, { code, ...(param !== undefined ? { param } : {}) });
const missing = (what: string, id: string, param?: string): StripeFailure =>
  new StripeFailure(404, 'invalid_request_error', `No such ${what}: '${id}'`, {
    code: 'resource_missing',
    ...(param !== undefined ? { param } : {}),
  });

/** Starts the sandbox on loopback (`npm start`, integration and e2e tests: each its own instance and ledger). */
export async function startStripeSandbox(options: StartStripeSandboxOptions = {}): Promise<StripeSandbox> {
  const apiKey = options.apiKey ?? DEFAULT_STRIPE_SANDBOX_API_KEY;
  const hangMs = options.hangMs ?? DEFAULT_HANG_MS;
  const asyncDelayMs = options.asyncDelayMs ?? DEFAULT_ASYNC_DELAY_MS;
  const ledger = new StripeSandboxLedger(options.dataFile);
  // Which key made each call: every ledger row written while serving it (or by work it started) records it.
  const caller = new AsyncLocalStorage<string>();
  ledger.callerKey = () => caller.getStore();
  const timers = new Timers();
  const webhooks = new WebhookSender(options.webhooks, timers, options.log);
  let outage: OutageMode = 'none';
  /** The sandbox's own URL (known once it listens): challenge pages are served under it. */
  let publicUrl = '';

  const background = (work: () => Promise<void>): void => {
    void work().catch((error: unknown) => options.log?.(`Stripe sandbox background work failed: ${String(error)}`));
  };
  const copies = (intent: StoredIntent): number => (paymentMethodOf(intent)?.behavior === 'duplicate_callbacks' ? 2 : 1);
  const paymentMethodOf = (intent: StoredIntent): StoredPaymentMethod | undefined =>
    ledger.getPaymentMethod(intent.payment_method);
  const emit = (
    type: string,
    intent: StoredIntent,
    object: Record<string, unknown> = renderIntent(intent),
    key: string | null = null,
  ): void => {
    const event = newEvent(type, object, key);
    background(() => webhooks.deliver(event, { reference: intent.reference, paymentIntent: intent.id }, copies(intent)));
  };

  /** An async card's authorization: `processing` now, `requires_capture` (and its webhook) after asyncDelayMs. */
  const armSettlement = (intent: StoredIntent): void => {
    const outOfOrder = paymentMethodOf(intent)?.behavior === 'out_of_order_callbacks';
    const processingReport = newEvent('payment_intent.processing', renderIntent(intent));
    const meta = { reference: intent.reference, paymentIntent: intent.id };
    background(async () => {
      if (!outOfOrder) await webhooks.deliver(processingReport, meta, copies(intent));
      if (!(await timers.sleep(Math.max(0, Date.parse(intent.settle_at ?? '') - Date.now()) || 0))) return;
      const current = ledger.getIntent(intent.id);
      if (current === undefined || current.status !== 'processing') return; // canceled meanwhile
      const settled = ledger.putIntent({
        ...current,
        status: 'requires_capture',
        amount_capturable: current.amount,
        settle_at: null,
      });
      recordAuthorization(settled, 'succeeded', null, settled.creation_key);
      await webhooks.deliver(newEvent('payment_intent.amount_capturable_updated', renderIntent(settled)), meta, copies(settled));
      if (outOfOrder) await webhooks.deliver(processingReport, meta, 1);
    });
  };
  for (const intent of ledger.listProcessing()) armSettlement(intent);

  const recordAuthorization = (
    intent: StoredIntent,
    status: 'succeeded' | 'failed',
    failureCode: string | null,
    key: string,
  ): void => {
    const method = paymentMethodOf(intent);
    ledger.record({
      type: 'authorize',
      amount: intent.amount,
      currency: intent.currency.toUpperCase(),
      status,
      reference: intent.reference,
      idempotency_key: key,
      payment_intent: intent.id,
      failure_code: failureCode,
      network_transaction_id: status === 'succeeded' ? intent.network_transaction_id : null,
      initial_network_transaction_id: intent.off_session ? (method?.network_transaction_id ?? null) : null,
      off_session: intent.off_session,
    });
  };

  // ---- the Stripe API routes ---------------------------------------------------------------------

  const createPaymentMethod = (params: FormObject): StoredPaymentMethod => {
    if (str(params, 'type') !== 'card') throw invalid('type must be card', 'type');
    const card = obj(params, 'card');
    // As at Stripe, the CVC is optional (a stored card's was destroyed after its first payment); one given is checked.
    const checked = validateCard(card ?? {}, new Date(), { cvc: 'optional' });
    if (!checked.ok) {
      const code = checked.code === 'invalid_number' ? 'incorrect_number' : checked.code;
      throw new StripeFailure(402, 'card_error', checked.message, { code, param: `card[${checked.param}]` });
    }
    return ledger.createPaymentMethod({
      number: String(card?.['number']).replace(/[\s-]/g, ''),
      expMonth: checked.expMonth,
      expYear: checked.expYear,
    });
  };

  const createIntent = async (params: FormObject, key: string): Promise<{ answer: StoredAnswer; hang: boolean }> => {
    const amount = positiveInteger(params, 'amount');
    const currency = (str(params, 'currency') ?? '').toLowerCase();
    if (findCurrency(currency.toUpperCase()) === undefined) throw invalid('Invalid currency', 'currency');
    if (str(params, 'capture_method') !== 'manual')
      throw invalid('This sandbox supports capture_method=manual only', 'capture_method');
    if (str(params, 'confirm') !== 'true') throw invalid('This sandbox supports confirm=true only', 'confirm');
    const metadata = stringRecord(obj(params, 'metadata'));
    const reference = metadata['reference'];
    if (reference === undefined || reference === '')
      throw invalid('metadata[reference] is required (the checkout id)', 'metadata[reference]', 'parameter_missing');
    const offSession = str(params, 'off_session') === 'true';
    const setupFutureUsage = str(params, 'setup_future_usage') ?? null;
    if (setupFutureUsage !== null && setupFutureUsage !== 'off_session' && setupFutureUsage !== 'on_session')
      throw invalid('Invalid setup_future_usage', 'setup_future_usage');
    const returnUrl = returnUrlOf(params);
    if (typeof returnUrl === 'object') throw invalid('Not a valid URL', 'return_url', 'url_invalid');
    if (returnUrl !== undefined && offSession)
      throw invalid('You cannot pass return_url with off_session=true.', 'return_url', 'parameter_invalid');

    let method: StoredPaymentMethod;
    const methodData = obj(params, 'payment_method_data');
    const methodId = str(params, 'payment_method');
    if (methodData !== undefined) method = createPaymentMethod(methodData);
    else if (methodId !== undefined)
      method = ledger.getPaymentMethod(methodId) ?? raise(missing('PaymentMethod', methodId, 'payment_method'));
    else throw invalid('payment_method or payment_method_data is required', 'payment_method', 'parameter_missing');

    const multicapture = str(obj(obj(params, 'payment_method_options'), 'card'), 'request_multicapture') === 'if_available';
    const base: StoredIntent = {
      multicapture,
      id: newId('pi'),
      amount,
      currency,
      status: 'requires_payment_method',
      amount_capturable: 0,
      amount_received: 0,
      amount_refunded: 0,
      reference,
      metadata,
      payment_method: method.id,
      setup_future_usage: setupFutureUsage,
      off_session: offSession,
      charge_id: null,
      network_transaction_id: null,
      last_payment_error: null,
      cancellation_reason: null,
      created: unixNow(),
      settle_at: null,
      creation_key: key,
    };
    const decline = (code: string, declineCode: string | undefined, message: string): StoredAnswer => {
      const failed = ledger.putIntent({
        ...base,
        charge_id: newId('ch'),
        last_payment_error: { code, ...(declineCode ? { decline_code: declineCode } : {}), message },
      });
      recordAuthorization(
        failed,
        'failed',
        declineCode !== undefined && declineCode !== 'generic_decline' ? declineCode : code,
        key,
      );
      emit('payment_intent.payment_failed', failed, renderIntent(failed), key);
      return new StripeFailure(402, 'card_error', message, {
        code,
        ...(declineCode ? { decline_code: declineCode } : {}),
        payment_intent: renderIntent(failed),
      }).answer();
    };
    const authentication = authenticationFor(method.behavior, threeDSecureRequested(params));
    if (offSession && authentication === 'challenge') {
      return {
        answer: decline(
          'authentication_required',
          'authentication_required',
          'This payment required an authentication action to complete, but `off_session` was set to true.',
        ),
        hang: false,
      };
    }
    if (authentication === 'challenge') {
      // No money moves and no ledger row until the buyer decides at the challenge page.
      const challenged = ledger.putIntent({ ...base, status: 'requires_action', return_url: returnUrl ?? null });
      emit('payment_intent.requires_action', challenged, renderIntent(challenged), key);
      return { answer: { status: 200, body: renderIntent(challenged, expands(params).includes('latest_charge')) }, hang: false };
    }
    if (offSession && method.network_transaction_id === null) {
      return {
        answer: decline(
          'authentication_required',
          'authentication_required',
          'This payment method was never set up for off-session use.',
        ),
        hang: false,
      };
    }
    if (method.behavior === 'decline')
      return { answer: decline('card_declined', 'generic_decline', 'Your card was declined.'), hang: false };
    if (method.behavior === 'insufficient_funds')
      return { answer: decline('card_declined', 'insufficient_funds', 'Your card has insufficient funds.'), hang: false };
    if (method.behavior === 'do_not_honor')
      return { answer: decline('card_declined', 'do_not_honor', 'Your card was declined.'), hang: false };

    const networkTransactionId = `ntid_${newId('x').slice(2, 17)}`;
    if (ASYNC_BEHAVIORS.includes(method.behavior)) {
      const pending = ledger.putIntent({
        ...base,
        status: 'processing',
        charge_id: newId('ch'),
        network_transaction_id: networkTransactionId,
        settle_at: new Date(Date.now() + asyncDelayMs).toISOString(),
      });
      armSettlement(pending);
      return { answer: { status: 200, body: renderIntent(pending, expands(params).includes('latest_charge')) }, hang: false };
    }
    const authorized = ledger.putIntent({
      ...base,
      status: 'requires_capture',
      amount_capturable: amount,
      charge_id: newId('ch'),
      network_transaction_id: networkTransactionId,
      ...(authentication === 'frictionless' ? { three_d_secure: threeDSecureBlock('frictionless', 'authenticated') } : {}),
    });
    if (setupFutureUsage === 'off_session') ledger.saveForOffSession(method.id, networkTransactionId);
    recordAuthorization(authorized, 'succeeded', null, key);
    emit('payment_intent.amount_capturable_updated', authorized, renderIntent(authorized), key);
    return {
      answer: { status: 200, body: renderIntent(authorized, expands(params).includes('latest_charge')) },
      hang: method.behavior === 'hang_authorize',
    };
  };

  const captureIntent = (intent: StoredIntent, params: FormObject, key: string): StoredAnswer => {
    if (intent.status !== 'requires_capture') {
      throw invalid(
        `This PaymentIntent could not be captured because it has a status of ${intent.status}.`,
        undefined,
        'payment_intent_unexpected_state',
      );
    }
    const amount =
      str(params, 'amount_to_capture') === undefined ? intent.amount_capturable : positiveInteger(params, 'amount_to_capture');
    if (amount > intent.amount_capturable)
      throw invalid(`amount_to_capture cannot exceed ${intent.amount_capturable}`, 'amount_to_capture', 'amount_too_large');
    // Multicapture: a non-final capture keeps the rest capturable (the PaymentIntent stays
    // requires_capture until nothing is left); a final one releases it.
    const final = str(params, 'final_capture') !== 'false';
    if (!final && intent.multicapture !== true)
      throw invalid('Multicapture is not available for this PaymentIntent: final_capture=false is not allowed.', 'final_capture');
    const left = final ? 0 : intent.amount_capturable - amount;
    const captured = ledger.putIntent({
      ...intent,
      status: left > 0 ? 'requires_capture' : 'succeeded',
      amount_received: intent.amount_received + amount,
      amount_capturable: left,
    });
    ledger.record({
      type: 'capture',
      amount,
      currency: intent.currency.toUpperCase(),
      status: 'succeeded',
      reference: intent.reference,
      idempotency_key: key,
      payment_intent: intent.id,
      failure_code: null,
    });
    emit(
      left > 0 ? 'payment_intent.amount_capturable_updated' : 'payment_intent.succeeded',
      captured,
      renderIntent(captured),
      key,
    );
    return { status: 200, body: renderIntent(captured, expands(params).includes('latest_charge')) };
  };

  const cancelIntent = (intent: StoredIntent, params: FormObject, key: string): StoredAnswer => {
    if (!['requires_payment_method', 'requires_action', 'requires_capture', 'processing'].includes(intent.status)) {
      throw invalid(
        `You cannot cancel this PaymentIntent because it has a status of ${intent.status}.`,
        undefined,
        'payment_intent_unexpected_state',
      );
    }
    const released = intent.status === 'requires_capture' ? intent.amount_capturable : 0;
    const canceled = ledger.putIntent({
      ...intent,
      status: 'canceled',
      amount_capturable: 0,
      settle_at: null,
      cancellation_reason: str(params, 'cancellation_reason') ?? 'requested_by_customer',
    });
    if (intent.status === 'requires_capture') {
      ledger.record({
        type: 'void',
        amount: released,
        currency: intent.currency.toUpperCase(),
        status: 'succeeded',
        reference: intent.reference,
        idempotency_key: key,
        payment_intent: intent.id,
        failure_code: null,
      });
    }
    emit('payment_intent.canceled', canceled, renderIntent(canceled), key);
    return { status: 200, body: renderIntent(canceled, expands(params).includes('latest_charge')) };
  };

  const createRefund = (intent: StoredIntent, params: FormObject, key: string): StoredAnswer => {
    // Captured money is refundable whatever follows: a multicapture PaymentIntent still
    // requires_capture, or canceled after partial captures (the rest released).
    if (intent.amount_received === 0)
      throw invalid(
        `This PaymentIntent (${intent.id}) does not have a successful charge to refund.`,
        'payment_intent',
        'charge_not_captured',
      );
    const refundable = intent.amount_received - intent.amount_refunded;
    if (refundable <= 0)
      throw invalid(`Charge ${intent.charge_id} has already been refunded.`, undefined, 'charge_already_refunded');
    const amount = str(params, 'amount') === undefined ? refundable : positiveInteger(params, 'amount');
    if (amount > refundable)
      throw invalid(
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${refundable})`,
        'amount',
        'amount_too_large',
      );
    const updated = ledger.putIntent({ ...intent, amount_refunded: intent.amount_refunded + amount });
    const refund = ledger.putRefund({
      id: newId('re'),
      amount,
      currency: intent.currency,
      payment_intent: intent.id,
      charge: intent.charge_id ?? '',
      status: 'succeeded',
      metadata: stringRecord(obj(params, 'metadata')),
      created: unixNow(),
    });
    ledger.record({
      type: 'refund',
      amount,
      currency: intent.currency.toUpperCase(),
      status: 'succeeded',
      reference: intent.reference,
      idempotency_key: key,
      payment_intent: intent.id,
      failure_code: null,
    });
    emit('charge.refunded', updated, renderCharge(updated), key);
    return { status: 200, body: { object: 'refund', ...refund } };
  };

  const openDispute = (intent: StoredIntent, body: Record<string, unknown>): StoredAnswer => {
    if (intent.status !== 'succeeded')
      throw invalid('Only a captured PaymentIntent can be disputed', 'payment_intent', 'charge_not_captured');
    const amount = typeof body['amount'] === 'number' ? body['amount'] : intent.amount_received;
    const reason = typeof body['reason'] === 'string' ? body['reason'] : 'fraudulent';
    const dispute = {
      id: newId('dp'),
      object: 'dispute',
      amount,
      currency: intent.currency,
      charge: intent.charge_id,
      payment_intent: intent.id,
      reason,
      status: 'needs_response',
      created: unixNow(),
      livemode: false,
      metadata: {},
    };
    emit('charge.dispute.created', intent, dispute);
    return { status: 200, body: dispute };
  };

  // ---- dispatch ------------------------------------------------------------------------------------

  /** Serves one request with its caller's masked key in context ('' when the key is not accepted). */
  const handle = (request: IncomingMessage, response: ServerResponse): Promise<void> =>
    caller.run(callerKeyOf(request.headers.authorization, apiKey) ?? '', () => serve(request, response));

  const serve = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://stripe-sandbox.local');
    const method = request.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const reply = (answer: StoredAnswer, headers: Record<string, string> = {}): void =>
      sendJson(response, answer.status, answer.body, {
        'request-id': newId('req'),
        'stripe-version': request.headers['stripe-version']?.toString() ?? '',
        ...headers,
      });
    try {
      const raw = method === 'GET' ? '' : await readBody(request);
      if (path === '/' || path === '/health') return reply({ status: 200, body: { ok: true, service: 'stripe-sandbox' } });
      const challenged = challengeIntentId(path);
      if (challenged !== undefined) return handleChallengePage(challengeDeps, challenged, method, raw, response);
      if (path.startsWith('/v1/test/')) return reply(await handleTest(method, path, url, raw));
      if (caller.getStore() === '') {
        return reply(
          new StripeFailure(
            401,
            'invalid_request_error',
            'Invalid API Key provided. Use the sandbox secret key as a Bearer token.',
          ).answer(),
        );
      }
      if (method === 'GET') return reply(handleRead(path, url));
      if (method !== 'POST') throw invalid(`Unrecognized request URL (${method}: ${path}).`, undefined, 'route_not_found');
      const form = parseStripeForm(raw);
      const key = idempotencyKey(request);
      if (key !== undefined) {
        const stored = ledger.findIdempotent(key);
        if (stored !== undefined) {
          if (stored.path !== path || stored.method !== method || stored.fingerprint !== fingerprint(raw)) {
            throw new StripeFailure(
              400,
              'idempotency_error',
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            );
          }
          return reply(stored.answer, { 'idempotent-replayed': 'true', 'original-request': newId('req') });
        }
      }
      const route = matchPost(path);
      if (route === undefined) throw invalid(`Unrecognized request URL (POST: ${path}).`, undefined, 'route_not_found');
      const opKey = key ?? newId('auto');

      if (route.kind === 'payment_methods') {
        const created = createPaymentMethod(form);
        return reply(remember(key, method, path, raw, { status: 200, body: renderPaymentMethod(created) }));
      }
      if (route.kind === 'create_intent') {
        if (outage === 'unavailable') return reply(unavailable(), { 'retry-after': '1' });
        if (outage === 'timeout') {
          if (await timers.sleep(hangMs)) reply(unavailable());
          return;
        }
        const behavior = behaviorOfNewIntent(form);
        if (behavior === 'unavailable_once' && ledger.claimFirstAttempt(opKey))
          return reply(unavailable(), { 'retry-after': '1' });
        const { answer, hang } = await createIntent(form, opKey);
        remember(key, method, path, raw, answer);
        if (hang && !(await timers.sleep(hangMs))) return;
        return reply(answer);
      }
      const intentId =
        route.kind === 'refund'
          ? (str(form, 'payment_intent') ?? raise(invalid('payment_intent is required', 'payment_intent', 'parameter_missing')))
          : route.intentId;
      const intent =
        ledger.getIntent(intentId) ??
        raise(missing('payment_intent', intentId, route.kind === 'refund' ? 'payment_intent' : undefined));
      const behavior = paymentMethodOf(intent)?.behavior;
      if (behavior === 'unavailable_once' && ledger.claimFirstAttempt(opKey)) return reply(unavailable(), { 'retry-after': '1' });
      const answer = remember(
        key,
        method,
        path,
        raw,
        route.kind === 'capture'
          ? captureIntent(intent, form, opKey)
          : route.kind === 'cancel'
            ? cancelIntent(intent, form, opKey)
            : createRefund(intent, form, opKey),
      );
      if (route.kind === 'capture' && behavior === 'hang_capture' && !(await timers.sleep(hangMs))) return;
      return reply(answer);
    } catch (error) {
      if (error instanceof StripeFailure) return reply(error.answer());
      throw error;
    }
  };

  /** Stripe stores the answer of a request that began executing, errors included (not a refused 503). */
  const remember = (key: string | undefined, method: string, path: string, raw: string, answer: StoredAnswer): StoredAnswer =>
    key === undefined ? answer : ledger.remember(key, method, path, fingerprint(raw), answer);

  const behaviorOfNewIntent = (form: FormObject): CardBehavior | undefined => {
    const methodId = str(form, 'payment_method');
    if (methodId !== undefined) return ledger.getPaymentMethod(methodId)?.behavior;
    const number = obj(obj(form, 'payment_method_data'), 'card')?.['number'];
    return typeof number === 'string'
      ? TEST_CARDS.find((card) => card.number === number.replace(/[\s-]/g, ''))?.behavior
      : undefined;
  };

  const handleRead = (path: string, url: URL): StoredAnswer => {
    if (path === '/v1/payment_intents/search') {
      const query = url.searchParams.get('query') ?? '';
      const match = /^metadata\[['"]reference['"]\]:['"]([^'"]+)['"]$/.exec(query.trim());
      if (match === null) throw invalid(`This sandbox searches by metadata['reference'] only: ${query}`, 'query');
      const data = ledger
        .searchIntentsByReference(match[1] as string)
        .map((intent) => renderIntent(intent, url.searchParams.getAll('expand[]').includes('data.latest_charge')));
      return {
        status: 200,
        body: { object: 'search_result', url: '/v1/payment_intents/search', has_more: false, next_page: null, data },
      };
    }
    const intentMatch = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
    if (intentMatch !== null) {
      const id = decodeURIComponent(intentMatch[1] as string);
      const intent = ledger.getIntent(id) ?? raise(missing('payment_intent', id));
      const expand = [...url.searchParams.entries()]
        .filter(([name]) => /^expand(\[\d*\])?$/.test(name))
        .map(([, value]) => value);
      return { status: 200, body: renderIntent(intent, expand.includes('latest_charge')) };
    }
    const methodMatch = /^\/v1\/payment_methods\/([^/]+)$/.exec(path);
    if (methodMatch !== null) {
      const id = decodeURIComponent(methodMatch[1] as string);
      return { status: 200, body: renderPaymentMethod(ledger.getPaymentMethod(id) ?? raise(missing('payment_method', id))) };
    }
    throw new StripeFailure(404, 'invalid_request_error', `Unrecognized request URL (GET: ${path}).`);
  };

  const handleTest = async (method: string, path: string, url: URL, raw: string): Promise<StoredAnswer> => {
    if (method === 'PUT' && path === '/v1/test/outage') {
      const body = parseJson(raw);
      const mode = isRecord(body) ? body['mode'] : undefined;
      if (mode !== 'none' && mode !== 'unavailable' && mode !== 'timeout')
        throw invalid('mode must be none, unavailable or timeout', 'mode');
      outage = mode;
      return { status: 200, body: { mode } };
    }
    if (method === 'GET' && path === '/v1/test/outage') return { status: 200, body: { mode: outage } };
    if (method === 'GET' && path === '/v1/test/ledger') {
      const reference = url.searchParams.get('reference');
      return { status: 200, body: { operations: ledger.listOperations(reference ?? undefined) } };
    }
    if (method === 'GET' && path === '/v1/test/events') {
      const reference = url.searchParams.get('reference');
      return { status: 200, body: { data: webhooks.sent.filter((row) => reference === null || row.reference === reference) } };
    }
    const dispute = /^\/v1\/test\/payment_intents\/([^/]+)\/dispute$/.exec(path);
    if (method === 'POST' && dispute !== null) {
      const id = decodeURIComponent(dispute[1] as string);
      const body = parseJson(raw);
      return openDispute(ledger.getIntent(id) ?? raise(missing('payment_intent', id)), isRecord(body) ? body : {});
    }
    throw new StripeFailure(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
  };

  const renderCharge = (intent: StoredIntent): Record<string, unknown> => {
    const method = paymentMethodOf(intent);
    return {
      id: intent.charge_id,
      object: 'charge',
      amount: intent.amount,
      amount_captured: intent.amount_received,
      amount_refunded: intent.amount_refunded,
      captured: intent.amount_received > 0,
      refunded: intent.amount_refunded > 0 && intent.amount_refunded === intent.amount_received,
      currency: intent.currency,
      payment_intent: intent.id,
      payment_method: intent.payment_method,
      metadata: intent.metadata,
      status: intent.last_payment_error === null ? (intent.status === 'processing' ? 'pending' : 'succeeded') : 'failed',
      payment_method_details: {
        type: 'card',
        card: {
          brand: method?.brand ?? 'unknown',
          last4: method?.last4 ?? '',
          exp_month: method?.exp_month,
          exp_year: method?.exp_year,
          network_transaction_id: intent.network_transaction_id,
          three_d_secure: intent.three_d_secure ?? null,
          multicapture: { status: intent.multicapture === true ? 'available' : 'unavailable' },
        },
      },
      created: intent.created,
      livemode: false,
    };
  };

  const renderIntent = (intent: StoredIntent, expandCharge = false): Record<string, unknown> => ({
    id: intent.id,
    object: 'payment_intent',
    amount: intent.amount,
    amount_capturable: intent.amount_capturable,
    amount_received: intent.amount_received,
    capture_method: 'manual',
    confirmation_method: 'automatic',
    currency: intent.currency,
    status: intent.status,
    metadata: intent.metadata,
    payment_method: intent.payment_method,
    payment_method_types: ['card'],
    setup_future_usage: intent.setup_future_usage,
    latest_charge: intent.charge_id === null ? null : expandCharge ? renderCharge(intent) : intent.charge_id,
    last_payment_error: intent.last_payment_error === null ? null : { type: 'card_error', ...intent.last_payment_error },
    cancellation_reason: intent.status === 'canceled' ? intent.cancellation_reason : null,
    canceled_at: null,
    client_secret: `${intent.id}_secret_sandbox`,
    created: intent.created,
    livemode: false,
    next_action: renderNextAction(intent, publicUrl),
  });

  const challengeDeps: ChallengeDependencies = {
    ledger,
    paymentMethodOf,
    recordAuthorization,
    emit: (type, intent) => emit(type, intent, renderIntent(intent)),
  };

  const server = await listen(handle, {
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    onStop: () => timers.cancelAll(),
    onError: (response) =>
      sendJson(response, 500, { error: { type: 'api_error', message: 'An unknown error occurred in the Stripe sandbox.' } }),
  });
  publicUrl = server.url.replace(/\/+$/, '');
  return { ...server, apiKey, configureWebhooks: (target: WebhookTarget) => webhooks.configure(target) };
}

function renderPaymentMethod(method: StoredPaymentMethod): Record<string, unknown> {
  return {
    id: method.id,
    object: 'payment_method',
    type: 'card',
    customer: null,
    livemode: false,
    created: method.created,
    metadata: {},
    card: {
      brand: method.brand,
      last4: method.last4,
      exp_month: method.exp_month,
      exp_year: method.exp_year,
      fingerprint: method.fingerprint,
      funding: 'credit',
      country: 'US',
    },
  };
}

function unavailable(): StoredAnswer {
  return new StripeFailure(
    503,
    'api_error',
    'The Stripe sandbox is temporarily unavailable; retry with the same Idempotency-Key.',
  ).answer();
}

function raise(failure: StripeFailure): never {
  throw failure;
}

/**
 * The caller's key, masked (`sk_test_...` and its last 8 characters), or undefined when it is not
 * accepted. Accepted: the sandbox's own key (the platform's), and any test key shaped like
 * Stripe's (`sk_test_` / `rk_test_` and at least 24 letters or digits): a merchant's own key.
 * Live keys never. Which key made each call is on every ledger row, so tests prove whose key paid.
 */
function callerKeyOf(header: string | undefined, apiKey: string): string | undefined {
  const match = /^Bearer (\S+)$/.exec(header ?? '');
  if (match === null) return undefined;
  const given = match[1] as string;
  const own = timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(apiKey).digest());
  if (!own && !/^(sk|rk)_test_[A-Za-z0-9]{24,200}$/.test(given)) return undefined;
  return maskApiKey(given);
}

/** A key as Stripe's dashboard shows it: its prefix and last 8 characters. */
export function maskApiKey(key: string): string {
  const prefix = /^(sk|rk)_(test|live)_/.exec(key)?.[0] ?? '';
  return `${prefix}...${key.slice(-8)}`;
}

function idempotencyKey(request: IncomingMessage): string | undefined {
  const header = request.headers['idempotency-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined || key.trim() === '') return undefined;
  if (key.length > 255) throw invalid('Idempotency-Key must be at most 255 characters', 'Idempotency-Key');
  return key;
}

/** The parameters, order-insensitive: Stripe compares parameters, not bytes. */
function fingerprint(raw: string): string {
  const pairs = [...new URLSearchParams(raw)].map(([name, value]) => `${name}=${value}`).sort();
  return createHash('sha256').update(pairs.join('&')).digest('hex');
}

type PostRoute =
  { kind: 'payment_methods' } | { kind: 'create_intent' } | { kind: 'refund' } | { kind: 'capture' | 'cancel'; intentId: string };

function matchPost(path: string): PostRoute | undefined {
  if (path === '/v1/payment_methods') return { kind: 'payment_methods' };
  if (path === '/v1/payment_intents') return { kind: 'create_intent' };
  if (path === '/v1/refunds') return { kind: 'refund' };
  const match = /^\/v1\/payment_intents\/([^/]+)\/(capture|cancel)$/.exec(path);
  return match === null
    ? undefined
    : { kind: match[2] as 'capture' | 'cancel', intentId: decodeURIComponent(match[1] as string) };
}

function str(params: FormObject | undefined, name: string): string | undefined {
  const value = params?.[name];
  return typeof value === 'string' ? value : undefined;
}

function obj(params: FormObject | undefined, name: string): FormObject | undefined {
  const value: FormValue | undefined = params?.[name];
  return typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

function stringRecord(value: FormObject | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value ?? {})) if (typeof item === 'string') out[key] = item;
  return out;
}

function expands(params: FormObject): string[] {
  const value = params['expand'];
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : typeof value === 'string'
      ? [value]
      : [];
}

function positiveInteger(params: FormObject, name: string): number {
  const value = str(params, name);
  if (value === undefined || !/^\d{1,12}$/.test(value) || Number(value) <= 0 || Number(value) > MAX_AMOUNT) {
    throw invalid(
      `${name} must be a positive integer in the currency's smallest unit`,
      name,
      value === undefined ? 'parameter_missing' : 'parameter_invalid',
    );
  }
  return Number(value);
}

/**
 * NewStore's payment-provider contract (docs/design.md, "NewStore adapter"; ../shared/NEWSTORE.md)
 * served under `/newstore`, so NewStore's `fat_psp` provider config can point `callback_url` at
 * `<API>/newstore` and call Paystep unchanged:
 *   POST /newstore/financial_instruments
 *   POST /newstore/financial_instruments/{instrument_id}/_capture | _refund | _revoke
 *
 * A translation layer only: the money moves through the same use cases, instrument ledger and
 * Idempotency-Key records as /v1/financial_instruments (lambdas/use-cases/financial-instruments.ts,
 * OperationKeyStore). What it translates:
 * - auth: `Authorization: <secret key>`, with or without `Bearer `;
 * - the body's `idempotency_key` (same key, any body: the first answer, kept for the instrument's
 *   life like the /v1 records); a duplicate still running is waited for briefly, then retry_error;
 * - NewStore's envelope (`account_id`, `transactions`, `arguments`, `metadata`; unknown fields
 *   ignored) and major-unit JSON numbers, converted exactly from their text (lossless-json) with the
 *   currency's exponent; a digit below the minor unit is 400;
 * - answers: 200 and a bare array of the real balance changes, amounts signed in major units;
 * - errors: `{"error_code","message"}` (see toNewStoreError);
 * - NewStore's transaction history: compared with our ledger, never trusted; a mismatch is logged
 *   and reported in each answered transaction's `metadata.history_check`.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { isLosslessNumber, LosslessNumber, parse as parseLossless, stringify as stringifyLossless } from 'lossless-json';
import * as z from 'zod/mini';
import { merchantGatewaysFromEnv } from '../connectors/merchant-gateways';
import { gatewaysFromEnv } from '../connectors/registry';
import { DEFAULT_PSP_TIMEOUT_MS } from '../connectors/sandbox/timeout';
import type { OperationRequest } from '../domain/instrument-ledger';
import type { FinancialInstrument, InstrumentOperation } from '../domain/instrument-model';
import { majorUnitsText, maxAmountMinor, parseMajorUnits } from '../domain/money';
import {
  checkNewStoreHistory,
  NEWSTORE_METADATA_KEY,
  newStoreTransactions,
  type HistoryCheck,
  type NewStoreInstrumentContext,
  type NewStoreTransaction,
} from '../domain/newstore-ledger';
import { IdempotencyInFlightError, NotFoundError, ValidationError } from '../errors';
import type { StoredResponse } from '../ports/idempotency';
import { apiDependencies } from '../shared/api-wiring';
import { requireMerchant } from '../shared/auth';
import { optionalEnv } from '../shared/env';
import { JSON_HEADERS, MAX_BODY_BYTES, resolveRoute, type RouteTable } from '../shared/http';
import { executeIdempotently } from '../shared/idempotency';
import { observability, observeInvocation } from '../shared/observability';
import { currencyField, parseInput } from '../shared/validation';
import { eventPublisher } from '../shared/event-publisher-wiring';
import { merchantRepository, secretCipher } from '../shared/wiring';
import { instrumentRepository } from '../shared/instrument-wiring';
import { operationKeyStore } from '../shared/operation-key-wiring';
import {
  createInstrument,
  operateInstrument,
  type InstrumentDependencies,
  type InstrumentRequestContext,
} from '../use-cases/financial-instruments';
import { toNewStoreError as mapError, type NewStoreError } from './newstore-errors';

const PSP_TIMEOUT_MS = Number(optionalEnv('PSP_TIMEOUT_MS', String(DEFAULT_PSP_TIMEOUT_MS)));

const instrumentDependencies: InstrumentDependencies = {
  instruments: instrumentRepository,
  events: eventPublisher,
  // A new instrument goes to the connector the merchant's routing picks.
  merchants: merchantRepository,
  // An instrument's operations go to its own connector (a checkout's may be on any of them).
  ...merchantGatewaysFromEnv(await gatewaysFromEnv(), { merchants: merchantRepository, cipher: secretCipher }),
};

/** How long a request waits for a duplicate (same idempotency_key) that is still running before answering retry_error. */
const DUPLICATE_WAIT_MS = Number(optionalEnv('NEWSTORE_DUPLICATE_WAIT_MS', '2000'));
const DUPLICATE_POLL_MS = 100;
/** Kept free at the end of an invocation for the store writes after the PSP call. */
const INVOCATION_MARGIN_MS = 1000;

const { logger } = observability;
const toNewStoreError = (error: unknown, phase: 'create' | 'operate'): NewStoreError => mapError(error, phase, logger);

/** Only definitive answers are kept for the key; retry_error, rate_limit and internal_error let the retry run again (and resume). */
function isFinal(response: StoredResponse): boolean {
  return response.statusCode < 500 && response.statusCode !== 429;
}

function errorResponse(error: NewStoreError): StoredResponse {
  return {
    statusCode: error.status,
    headers: { ...JSON_HEADERS, ...(error.retryAfter !== undefined ? { 'retry-after': String(error.retryAfter) } : {}) },
    body: JSON.stringify({ error_code: error.errorCode, message: error.message }),
  };
}

// ---- Request parsing ----------------------------------------------------------------------------

/** The text of a JSON number as lossless-json kept it (or a JS number's, for callers that built the value themselves). */
function numberText(value: unknown): string | undefined {
  if (isLosslessNumber(value)) return value.toString();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * The body as a JSON object whose numbers keep their exact text (LosslessNumber): `12.99` is never a
 * float here. Same limits and errors as the /v1 parser (64 KiB, UTF-8, an object).
 */
function parseBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): Record<string, unknown> {
  const raw = event.body;
  if (raw === undefined || raw === null || raw === '') return {};
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES)
    throw new ValidationError(`The request body must not exceed ${MAX_BODY_BYTES} bytes`, {
      status: 413,
      code: 'body_too_large',
    });
  let parsed: unknown;
  try {
    parsed = parseLossless(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new ValidationError('The request body is not valid JSON', { code: 'invalid_json' });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ValidationError('The request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** `Authorization: sk_...` (NewStore sends its `api_key` as is) or `Bearer sk_...`: both reach the /v1 authenticator as Bearer. */
function withBearerScheme(headers: Record<string, string>): Record<string, string> {
  const value = headers['authorization']?.trim();
  if (value === undefined || value === '' || /^Bearer\s/i.test(value)) return headers;
  return { ...headers, authorization: `Bearer ${value}` };
}

function lowerCaseHeaders(headers: APIGatewayProxyEventV2['headers'] | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) if (value !== undefined) result[name.toLowerCase()] = value;
  return result;
}

const idempotencyKeyField = z
  .string({ error: (issue) => (issue.input === undefined ? 'idempotency_key is required' : 'idempotency_key must be a string') })
  .check(z.regex(/^[\x20-\x7e]{1,255}$/, { error: 'idempotency_key must be 1 to 255 printable ASCII characters' }));

const decimalField = z.custom<LosslessNumber>((value) => isLosslessNumber(value), {
  error: '{param} must be a JSON number in major units',
  params: { status: 400, code: 'invalid_request' },
});
const optionalText = (max: number) => z.nullish(z.string().check(z.maxLength(max)));

const createSchema = z.object({
  account_id: optionalText(255),
  arguments: z.object({
    instrument: z.object({
      type: z.enum(['token', 'authorized', 'captured']),
      identifier: z.string().check(
        z.regex(/^[\x21-\x7e]{1,255}$/, {
          error: '{param} must be the PSP token or reference (1 to 255 printable characters, no spaces)',
        }),
      ),
    }),
    amount: decimalField,
    currency: currencyField,
    payment_method: optionalText(64),
    payment_wallet: optionalText(64),
  }),
});

const moneyArguments = z.object({ amount: decimalField, currency: currencyField });
const operationSchema = z.object({ arguments: moneyArguments });
/** Revoke releases whatever is left: an `arguments.amount` (sent on the wire) is ignored; a currency must match. */
const revokeSchema = z.object({ arguments: z.nullish(z.object({ currency: z.optional(currencyField) })) });

/** Exact minor units of a positive major-unit amount; 400 for anything finer than the currency's minor unit. */
function toMinorUnits(amount: LosslessNumber, currency: string, param: string): number {
  const parsed = parseMajorUnits(amount.toString(), currency);
  if (!parsed.ok) {
    const reason =
      parsed.problem === 'too_precise'
        ? `has more decimals than ${currency} has (${amount.toString()})`
        : parsed.problem === 'too_large'
          ? 'is too large'
          : 'is not a decimal number';
    throw new ValidationError(`${param} ${reason}`, { code: 'invalid_amount', param });
  }
  if (parsed.minor <= 0) throw new ValidationError(`${param} must be greater than 0`, { code: 'invalid_amount', param });
  // The per-currency maximum (hardening rule, domain/money.ts): 99,999,999 major units.
  if (parsed.minor > maxAmountMinor(currency)) {
    throw new ValidationError(`${param} must be at most ${majorUnitsText(maxAmountMinor(currency), currency)} ${currency}`, {
      status: 422,
      code: 'amount_too_large',
      param,
    });
  }
  return parsed.minor;
}

// ---- Answers --------------------------------------------------------------------------------------

function renderTransaction(row: NewStoreTransaction, history: HistoryCheck) {
  return {
    transaction_id: row.transactionId,
    instrument_id: row.instrumentId,
    capture_amount: new LosslessNumber(majorUnitsText(row.captureAmount, row.currency)),
    refund_amount: new LosslessNumber(majorUnitsText(row.refundAmount, row.currency)),
    currency: row.currency,
    reason: row.reason,
    created_at: row.createdAt,
    processed_at: row.processedAt,
    payment_method: row.paymentMethod,
    payment_wallet: row.paymentWallet,
    metadata: {
      paystep_operation_id: row.operationId,
      psp_reference: row.pspReference,
      history_check: renderHistoryCheck(history, row.currency),
    },
  };
}

function renderHistoryCheck(check: HistoryCheck, currency: string) {
  const major = (minor: number) => new LosslessNumber(majorUnitsText(minor, currency));
  if (check.status !== 'mismatch') return { status: check.status };
  return {
    status: check.status,
    newstore: { capture_amount: major(check.newstore.capturable), refund_amount: major(check.newstore.refundable) },
    paystep: { capture_amount: major(check.paystep.capturable), refund_amount: major(check.paystep.refundable) },
    unknown_transaction_ids: check.unknownTransactionIds.slice(0, 20),
    missing_transaction_ids: check.missingTransactionIds.slice(0, 20),
    differing_transaction_ids: check.differingTransactionIds.slice(0, 20),
    unreadable: check.unreadable,
  };
}

/**
 * The 200 answer for one operation: its real balance changes, after cross-checking NewStore's
 * history against the ledger as it stood before the operation.
 */
function answer(instrument: FinancialInstrument, operation: InstrumentOperation, sentHistory: unknown): StoredResponse {
  const history = checkNewStoreHistory(sentHistory, instrument, operation.id, numberText);
  if (history.status === 'mismatch') {
    logger.warn("NewStore's transaction history disagrees with the instrument ledger", {
      instrumentId: instrument.id,
      operationId: operation.id,
      newstore: history.newstore,
      paystep: history.paystep,
      unknownTransactions: history.unknownTransactionIds.length,
      missingTransactions: history.missingTransactionIds.length,
      differingTransactions: history.differingTransactionIds.length,
      unreadable: history.unreadable,
    });
  }
  const rows = newStoreTransactions(instrument, operation).map((row) => renderTransaction(row, history));
  return { statusCode: 200, headers: { ...JSON_HEADERS }, body: stringifyLossless(rows) ?? '[]' };
}

// ---- Routes ---------------------------------------------------------------------------------------

interface NewStoreRequest {
  merchantId: string;
  instrumentId: string;
  body: Record<string, unknown>;
  context: InstrumentRequestContext;
}

/** POST /newstore/financial_instruments: token -> authorize now; authorized / captured -> validate and claim the PSP reference. */
async function create(request: NewStoreRequest): Promise<StoredResponse> {
  const parsed = parseInput(createSchema, request.body);
  const input = parsed.arguments;
  const amount = toMinorUnits(input.amount, input.currency, 'arguments.amount');
  const newstore: NewStoreInstrumentContext = {
    ...(typeof parsed.account_id === 'string' ? { account_id: parsed.account_id } : {}),
    ...(typeof input.payment_method === 'string' ? { payment_method: input.payment_method } : {}),
    ...(typeof input.payment_wallet === 'string' ? { payment_wallet: input.payment_wallet } : {}),
  };
  const common = { amount, currency: input.currency, metadata: { [NEWSTORE_METADATA_KEY]: newstore } };
  const instrument = await createInstrument(
    instrumentDependencies,
    request.merchantId,
    input.instrument.type === 'token'
      ? { type: 'token', paymentToken: input.instrument.identifier, ...common }
      : { type: input.instrument.type, pspReference: input.instrument.identifier, ...common },
    request.context,
  );
  const creation = Object.values(instrument.operations).find((operation) => operation.kind === 'create');
  if (creation === undefined) throw new Error(`Instrument ${instrument.id} has no create operation`);
  return answer(instrument, creation, request.body['transactions']);
}

/** POST .../_capture | _refund | _revoke (revoke on a `captured` instrument refunds: the ledger's seed rule). */
function operation(kind: OperationRequest['kind']) {
  return async (request: NewStoreRequest): Promise<StoredResponse> => {
    // A malformed or over-long id can name no instrument (and would exceed DynamoDB's key size).
    if (!INSTRUMENT_ID_PATTERN.test(request.instrumentId)) throw new NotFoundError('No such financial instrument');
    let operationRequest: OperationRequest;
    if (kind === 'revoke') {
      const currency = parseInput(revokeSchema, request.body).arguments?.currency;
      operationRequest = { kind, ...(currency !== undefined ? { currency } : {}) };
    } else {
      const input = parseInput(operationSchema, request.body).arguments;
      operationRequest = {
        kind,
        amount: toMinorUnits(input.amount, input.currency, 'arguments.amount'),
        currency: input.currency,
      };
    }
    const result = await operateInstrument(
      instrumentDependencies,
      request.merchantId,
      request.instrumentId,
      operationRequest,
      request.context,
    );
    return answer(result.instrument, result.operation, request.body['transactions']);
  };
}

const INSTRUMENT_ID_PATTERN = /^fi_[A-Za-z0-9_-]{1,128}$/;

type RouteHandler = (request: NewStoreRequest) => Promise<StoredResponse>;

const ROUTES: Record<string, { phase: 'create' | 'operate'; handle: RouteHandler }> = {
  'POST /newstore/financial_instruments': { phase: 'create', handle: create },
  'POST /newstore/financial_instruments/{instrument_id}/_capture': { phase: 'operate', handle: operation('capture') },
  'POST /newstore/financial_instruments/{instrument_id}/_refund': { phase: 'operate', handle: operation('refund') },
  'POST /newstore/financial_instruments/{instrument_id}/_revoke': { phase: 'operate', handle: operation('revoke') },
};

/**
 * ROUTES in the shape the shared resolveRoute matches (by API Gateway's routeKey, or by path for hosts
 * that forward raw requests). Only the match is used: this handler authenticates and dispatches itself.
 */
const ROUTE_TABLE: RouteTable = Object.fromEntries(
  Object.keys(ROUTES).map((key) => [
    key,
    { auth: ['merchant'], handle: () => Promise.reject(new Error(`${key} is dispatched by ROUTES`)) },
  ]),
);

// ---- The idempotency_key ----------------------------------------------------------------------------

/**
 * The body's idempotency_key through the one protocol (executeIdempotently) on the /v1 instrument
 * routes' store (no TTL; the pinned operation is resumed after a transient failure), in NewStore's
 * own scope per merchant. A duplicate still running is polled for up to DUPLICATE_WAIT_MS so
 * concurrent duplicates usually all get the first answer; after that, retry_error.
 */
async function withIdempotencyKey(
  merchantId: string,
  key: string,
  phase: 'create' | 'operate',
  waitMs: number,
  run: (context: InstrumentRequestContext) => Promise<StoredResponse>,
): Promise<StoredResponse> {
  return await executeIdempotently(
    {
      store: operationKeyStore,
      // The work is done and NewStore deserves its answer; the claim times out and the retry resumes the pinned operation.
      onStoreError: (error) =>
        logger.warn('Storing the idempotency_key outcome failed', { errorName: error instanceof Error ? error.name : 'unknown' }),
    },
    `newstore:merchant:${merchantId}`,
    key,
    async (context) => {
      let response: StoredResponse;
      try {
        response = await run(context);
      } catch (error) {
        response = errorResponse(toNewStoreError(error, phase));
      }
      return { response, storable: isFinal(response) };
    },
    // No binding for NewStore keys (their own scope).
    undefined,
    {
      inFlightWaitMs: waitMs,
      inFlightPollMs: DUPLICATE_POLL_MS,
      inFlightError: () =>
        new IdempotencyInFlightError('A request with this idempotency_key is still being processed; retry shortly'),
    },
  );
}

// ---- Handler ----------------------------------------------------------------------------------------

/**
 * How long this invocation may wait for a running duplicate: DUPLICATE_WAIT_MS, but never so long
 * that a PSP call started afterwards could outlive the Lambda (its answer would then be lost).
 */
function duplicateWaitMs(context: Context | undefined): number {
  if (typeof context?.getRemainingTimeInMillis !== 'function') return DUPLICATE_WAIT_MS;
  return Math.max(0, Math.min(DUPLICATE_WAIT_MS, context.getRemainingTimeInMillis() - PSP_TIMEOUT_MS - INVOCATION_MARGIN_MS));
}

async function serve(event: APIGatewayProxyEventV2, invocation: Context | undefined): Promise<StoredResponse> {
  let phase: 'create' | 'operate' = 'operate';
  try {
    const { routeKey, pathParameters } = resolveRoute(ROUTE_TABLE, event);
    const route = ROUTES[routeKey]!;
    phase = route.phase;
    const principal = await apiDependencies.authenticate(
      withBearerScheme(lowerCaseHeaders(event.headers)),
      ['merchant'],
      pathParameters,
    );
    const merchant = requireMerchant(principal);
    const body = parseBody(event);
    const key = parseInput(z.object({ idempotency_key: idempotencyKeyField }), body).idempotency_key;
    const instrumentId = pathParameters['instrument_id'] ?? '';
    return await withIdempotencyKey(merchant.id, key, phase, duplicateWaitMs(invocation), (context) =>
      route.handle({ merchantId: merchant.id, instrumentId, body, context }),
    );
  } catch (error) {
    return errorResponse(toNewStoreError(error, phase));
  }
}

export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyStructuredResultV2> =>
  await observeInvocation(
    { context, correlationId: event.pathParameters?.['instrument_id'] },
    async () => await serve(event, context),
  );

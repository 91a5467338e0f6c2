/**
 * The merchant's financial-instrument API (NewStore style): create (token, authorized, captured),
 * read with balances and transactions, and _capture / _refund / _revoke, each answering with the
 * transactions it made.
 *
 * Idempotency-Key: these routes do not use the generic 24 h layer (lambdas/shared/idempotency.ts);
 * they use the same protocol (executeIdempotently) over records kept without TTL (retention `forever`), because NewStore retries an operation for about
 * 45 days and a replay must never become a second refund. Same key (per merchant) = same response,
 * byte for byte, even if the body changed (seed rule), with `Idempotent-Replayed: true`; in flight
 * = 409; the same key on another route or instrument = 422 `idempotency_key_reused`. A transient PSP failure is not stored: the key is released with the operation pinned, so
 * the retry with the same key resumes that very operation (same PSP idempotency key).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { merchantGatewaysFromEnv } from '../connectors/merchant-gateways';
import { gatewaysFromEnv } from '../connectors/registry';
import type { OperationRequest } from '../domain/instrument-ledger';
import {
  ConcurrentModificationError,
  IdempotencyInFlightError,
  isPaystepError,
  PspRejectedError,
  ValidationError,
} from '../errors';
import type { StoredResponse } from '../ports/idempotency';
import { apiDependencies } from '../shared/api-wiring';
import { requireMerchant } from '../shared/auth';
import { createApiHandler, errorResponse, jsonResponse, requestIdOf, type ApiRequest, type ApiResult } from '../shared/http';
import { executeIdempotently, readIdempotencyKey, requestBinding } from '../shared/idempotency';
import { parseInput } from '../shared/validation';
import {
  assertSafeMetadata,
  createInstrumentInputSchema,
  instrumentMoneyInputSchema,
  revokeInstrumentInputSchema,
} from '../shared/request-schemas';
import { toInstrumentOperationView, toInstrumentView } from '../shared/views';
import { eventPublisher } from '../shared/event-publisher-wiring';
import { merchantRepository, secretCipher } from '../shared/wiring';
import { instrumentRepository } from '../shared/instrument-wiring';
import { operationKeyStore } from '../shared/operation-key-wiring';
import {
  createInstrument,
  getOwnedInstrument,
  operateInstrument,
  type InstrumentDependencies,
  type InstrumentRequestContext,
} from '../use-cases/financial-instruments';

const instrumentDependencies: InstrumentDependencies = {
  instruments: instrumentRepository,
  events: eventPublisher,
  // A new instrument goes to the connector the merchant's routing picks.
  merchants: merchantRepository,
  // An instrument's operations go to its own connector (a checkout's may be on any of them).
  ...merchantGatewaysFromEnv(await gatewaysFromEnv(), { merchants: merchantRepository, cipher: secretCipher }),
};

const logger = new Logger({ serviceName: 'paystep-api' });

/** Answers replayable unless the outcome is unknown or a retry could do better (transient, lost race, in flight). */
function isReplayable(error: unknown): boolean {
  if (error instanceof ConcurrentModificationError || error instanceof IdempotencyInFlightError) return false;
  if (error instanceof PspRejectedError) return true; // definitive refusal, already compensated
  return isPaystepError(error) && error.status < 500;
}

function toResult(response: StoredResponse): ApiResult {
  return { statusCode: response.statusCode, body: JSON.parse(response.body) as unknown, headers: response.headers };
}

/**
 * The durable Idempotency-Key layer around one instrument request (see the module header): the one
 * protocol (executeIdempotently) over the store kept for the instrument's life. Without a key the
 * request simply runs.
 */
async function withOperationKey(
  request: ApiRequest,
  run: (context: InstrumentRequestContext) => Promise<ApiResult>,
): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const key = readIdempotencyKey(request.headers);
  if (key === undefined) return await run({});
  const response = await executeIdempotently(
    {
      store: operationKeyStore,
      now: () => request.now,
      // The work is done and the client deserves its answer. The claim expires after its lock
      // timeout; the retry then resumes the pinned operation, which answers what it recorded.
      onStoreError: (error) =>
        logger.warn('Storing the Idempotency-Key outcome failed', {
          routeKey: request.routeKey,
          errorName: error instanceof Error ? error.name : 'unknown',
        }),
    },
    `merchant:${merchant.id}`,
    key,
    async (context) => {
      try {
        const result = await run(context);
        return { response: jsonResponse(result.statusCode, result.body, result.headers), storable: true };
      } catch (error) {
        const response = errorResponse(error, undefined, request.routeKey, requestIdOf(request.event));
        return { response, storable: isReplayable(error) };
      }
    },
    requestBinding(request.routeKey, request.pathParameters),
  );
  return toResult(response);
}

/** POST /v1/financial_instruments */
async function create(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  return await withOperationKey(request, async (context) => {
    assertSafeMetadata(request.body['metadata']);
    const input = parseInput(createInstrumentInputSchema(), request.body);
    const metadata = input.metadata !== undefined ? { metadata: input.metadata } : {};
    let instrument;
    if (input.type === 'token') {
      if (input.psp_reference !== undefined) throw onlyFor('psp_reference', 'authorized or captured');
      if (input.payment_token === undefined) throw missing('payment_token', 'token');
      instrument = await createInstrument(
        instrumentDependencies,
        merchant.id,
        { type: 'token', amount: input.amount, currency: input.currency, paymentToken: input.payment_token, ...metadata },
        context,
      );
    } else {
      if (input.payment_token !== undefined) throw onlyFor('payment_token', 'token');
      if (input.psp_reference === undefined) throw missing('psp_reference', input.type);
      instrument = await createInstrument(
        instrumentDependencies,
        merchant.id,
        { type: input.type, amount: input.amount, currency: input.currency, pspReference: input.psp_reference, ...metadata },
        context,
      );
    }
    return { statusCode: 201, body: toInstrumentView(instrument) };
  });
}

function missing(param: string, type: string): ValidationError {
  return new ValidationError(`${param} is required for type ${type}`, { status: 422, code: 'parameter_missing', param });
}

function onlyFor(param: string, types: string): ValidationError {
  return new ValidationError(`${param} is only accepted for type ${types}`, { status: 422, code: 'invalid_parameter', param });
}

/** GET /v1/financial_instruments/{id} */
async function read(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const instrument = await getOwnedInstrument(instrumentDependencies, merchant.id, request.pathParameters['id'] ?? '');
  return { statusCode: 200, body: toInstrumentView(instrument) };
}

/** POST .../_capture, _refund, _revoke */
function operation(kind: OperationRequest['kind']) {
  return async (request: ApiRequest): Promise<ApiResult> => {
    const merchant = requireMerchant(request.principal);
    return await withOperationKey(request, async (context) => {
      let operationRequest: OperationRequest;
      if (kind === 'revoke') {
        const input = parseInput(revokeInstrumentInputSchema(), request.body);
        operationRequest = { kind, ...(input.currency !== undefined ? { currency: input.currency } : {}) };
      } else {
        const input = parseInput(instrumentMoneyInputSchema(), request.body);
        operationRequest = { kind, amount: input.amount, currency: input.currency };
      }
      const result = await operateInstrument(
        instrumentDependencies,
        merchant.id,
        request.pathParameters['id'] ?? '',
        operationRequest,
        context,
      );
      return { statusCode: 200, body: toInstrumentOperationView(result.instrument, result.operation.id, result.transactions) };
    });
  };
}

export const handler = createApiHandler(
  {
    'POST /v1/financial_instruments': { auth: ['merchant'], idempotent: false, handle: create },
    'GET /v1/financial_instruments/{id}': { auth: ['merchant'], handle: read },
    'POST /v1/financial_instruments/{id}/_capture': { auth: ['merchant'], idempotent: false, handle: operation('capture') },
    'POST /v1/financial_instruments/{id}/_refund': { auth: ['merchant'], idempotent: false, handle: operation('refund') },
    'POST /v1/financial_instruments/{id}/_revoke': { auth: ['merchant'], idempotent: false, handle: operation('revoke') },
  },
  apiDependencies,
);

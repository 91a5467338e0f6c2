/**
 * Financial instruments (NewStore style) on top of the payment saga: merchants create instruments
 * (token, authorized, captured) and capture, refund or revoke them; the saga opens one instrument
 * per authorized checkout and records its capture or void on it.
 *
 * Every money move follows the same three steps, each safe to repeat:
 *   1. reserve: one conditional write debits the balance and adds the pending operation
 *      (the write fails if a concurrent operation took the balance first);
 *   2. call the PSP with an idempotency key derived from the operation (ledger row), never from
 *      the request, so a resumed operation replays at the PSP instead of moving money twice;
 *   3. settle: credit (capture -> refundable) and mark it succeeded, or, if the PSP refused
 *      definitively, undo the reservation and mark it failed. A transient or unknown PSP failure
 *      leaves it pending: the retry with the same Idempotency-Key (or the saga step's retry)
 *      resumes it at step 2.
 */
import {
  assertAuthorizationFits,
  generateInstrumentId,
  generateOperationId,
  instrumentIdForCheckout,
  newAuthorizedInstrument,
  newTokenInstrument,
  operationTransactions,
  planOperation,
  settlementChange,
  type OperationRequest,
} from '../domain/instrument-ledger';
import type { BalanceChange, FinancialInstrument, InstrumentOperation, InstrumentTransaction } from '../domain/instrument-model';
import {
  AuthorizationClaimedError,
  ConcurrentModificationError,
  ConflictError,
  NotFoundError,
  PaymentDeclinedError,
  PspClientError,
  InstrumentNotAuthorizedError,
  PspRejectedError,
  ValidationError,
} from '../errors';
import type { EventPublisher } from '../ports/events';
import type { OperationKeyTarget } from '../ports/idempotency';
import type { InstrumentRepository, SettleOperationInput } from '../ports/instruments';
import type { ConnectorGateways, PaymentGateway } from '../ports/payments';
import { gatewayFor } from './connector-gateways';
import { routeForInstrument } from './instrument-route';
import type { MerchantRepository } from '../ports/merchants';
import { toInstrumentOperationView } from '../shared/views';

export interface InstrumentDependencies {
  instruments: InstrumentRepository;
  gateway: PaymentGateway;
  /** Every connector's gateway: an instrument's PSP calls go to its own connector. */
  gateways: ConnectorGateways;
  /** The merchants' routing rules: a new instrument goes to the connector they pick (absent: the default gateway's). */
  merchants?: Pick<MerchantRepository, 'getMerchant'>;
  /** Publishes the merchant events of settled operations; omitted where nobody listens (tests). */
  events?: EventPublisher;
  now?: () => Date;
}

/** Per-request context: the Idempotency-Key layer's resume point and pin callback. */
export interface InstrumentRequestContext {
  idempotencyKey?: string;
  /** What an earlier attempt with the same key was working on: continue it instead of starting anew. */
  resume?: OperationKeyTarget;
  /** Records the instrument/operation on the key before any balance moves. */
  pin?: (target: OperationKeyTarget) => Promise<void>;
}

export type CreateInstrumentInput =
  | { type: 'token'; amount: number; currency: string; paymentToken: string; metadata?: Record<string, unknown> }
  | {
      type: 'authorized' | 'captured';
      amount: number;
      currency: string;
      pspReference: string;
      metadata?: Record<string, unknown>;
    };

export interface OperationResult {
  instrument: FinancialInstrument;
  operation: InstrumentOperation;
  /** The transactions this operation made (what the API answers). */
  transactions: InstrumentTransaction[];
}

const RESERVE_ATTEMPTS = 5;

function clock(deps: InstrumentDependencies): Date {
  return deps.now?.() ?? new Date();
}

/** The merchant's instrument, or 404 (also for another merchant's: ids are never confirmed to strangers). */
export async function getOwnedInstrument(
  deps: InstrumentDependencies,
  merchantId: string,
  instrumentId: string,
): Promise<FinancialInstrument> {
  const instrument = await deps.instruments.getInstrument(instrumentId);
  if (instrument === undefined || instrument.merchantId !== merchantId) {
    throw new NotFoundError('No such financial instrument', { param: 'id' });
  }
  return instrument;
}

// ---- Create -------------------------------------------------------------------------------------

/**
 * POST /v1/financial_instruments. `token`: authorize the amount now (the instrument is pending
 * until the PSP answers). `authorized` / `captured`: validate the PSP authorization (exists, same
 * currency, enough left to capture / captured and not refunded) and claim it, so one
 * authorization never backs two instruments.
 */
export async function createInstrument(
  deps: InstrumentDependencies,
  merchantId: string,
  input: CreateInstrumentInput,
  context: InstrumentRequestContext = {},
): Promise<FinancialInstrument> {
  const now = clock(deps);
  if (context.resume !== undefined) {
    const earlier = await deps.instruments.getInstrument(context.resume.instrumentId);
    if (earlier !== undefined && earlier.merchantId === merchantId) return await finishCreation(deps, earlier);
  }
  const id = context.resume?.instrumentId ?? generateInstrumentId();
  await context.pin?.({ instrumentId: id });
  const connector =
    deps.merchants !== undefined && deps.gateways !== undefined
      ? await routeForInstrument({ merchants: deps.merchants }, { merchantId, amount: input.amount, currency: input.currency })
      : deps.gateway.connector;
  const base = {
    id,
    merchantId,
    amount: input.amount,
    currency: input.currency,
    connector,
    now,
    ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
    ...(context.idempotencyKey !== undefined ? { idempotencyKey: context.idempotencyKey } : {}),
  };

  if (input.type === 'token') {
    const created = await deps.instruments.createInstrument(newTokenInstrument({ ...base, paymentToken: input.paymentToken }));
    if (created.kind === 'psp_reference_taken')
      throw new Error('unreachable: a token instrument claims no authorization at creation');
    return await finishCreation(deps, created.instrument);
  }

  const facts = await readAuthorization(gatewayFor(deps, connector, merchantId), input.pspReference);
  await assertClaimable(deps, merchantId, facts.reference);
  assertAuthorizationFits(input.type, input.amount, input.currency, facts);
  const created = await deps.instruments.createInstrument(
    newAuthorizedInstrument({ ...base, type: input.type, pspReference: facts.id, pspPaymentReference: facts.reference }),
  );
  if (created.kind === 'psp_reference_taken') {
    throw new ConflictError('Another financial instrument already stands for this PSP reference', {
      code: 'psp_reference_in_use',
      param: 'psp_reference',
    });
  }
  return created.instrument;
}

/**
 * The PSP's reference tells whose authorization it is. One filed under a Paystep checkout or
 * instrument belongs to Paystep's own flows (the saga's instrument claims it, or already did):
 * no merchant may claim it, and another merchant's is answered like an unknown reference (ids are
 * never confirmed to strangers). Only authorizations under the merchant's own references
 * (e.g. its order id) are claimable.
 */
async function assertClaimable(deps: InstrumentDependencies, merchantId: string, reference: string | undefined): Promise<void> {
  if (reference === undefined) return;
  const notFound = (): ValidationError =>
    new ValidationError('The PSP knows no authorization with this reference', {
      status: 422,
      code: 'psp_reference_not_found',
      param: 'psp_reference',
    });
  if (reference.startsWith('chk_')) throw notFound();
  const instrument = await deps.instruments.getInstrument(reference);
  if (instrument === undefined) return;
  if (instrument.merchantId !== merchantId) throw notFound();
  throw new ConflictError('This authorization belongs to another financial instrument', {
    code: 'psp_reference_in_use',
    param: 'psp_reference',
  });
}

async function readAuthorization(gateway: PaymentGateway, pspReference: string) {
  try {
    return await gateway.getAuthorization(pspReference);
  } catch (error) {
    if (error instanceof PspRejectedError) {
      throw new ValidationError('The PSP knows no authorization with this reference', {
        status: 422,
        code: 'psp_reference_not_found',
        param: 'psp_reference',
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Runs (or resumes) a token instrument's pending authorization; a decline fails the instrument and
 * is thrown. A PSP 4xx (unknown or used token) is the caller's error: 422 `invalid_payment_token`.
 */
async function finishCreation(deps: InstrumentDependencies, instrument: FinancialInstrument): Promise<FinancialInstrument> {
  const creation = Object.values(instrument.operations).find((operation) => operation.kind === 'create');
  if (creation === undefined) return instrument;
  if (creation.status === 'failed') throw asTokenError(failureOf(creation));
  if (creation.status === 'succeeded') return instrument;
  try {
    const settled = await executeOperation(deps, instrument, creation);
    return settled.instrument;
  } catch (error) {
    throw asTokenError(error);
  }
}

const INVALID_TOKEN_CODE = 'invalid_payment_token';

function asTokenError(error: unknown): unknown {
  if (error instanceof PspClientError || (error instanceof ValidationError && error.code === INVALID_TOKEN_CODE)) {
    const detail = error instanceof PspClientError ? `: ${error.message}` : '';
    return new ValidationError(`The PSP refused this payment_token (unknown, expired or already used)${detail}`, {
      status: 422,
      code: INVALID_TOKEN_CODE,
      param: 'payment_token',
      cause: error,
    });
  }
  return error;
}

// ---- Capture, refund, revoke --------------------------------------------------------------------

/**
 * POST /v1/financial_instruments/{id}/_capture | _refund | _revoke. Reserves the balance by a
 * conditional write, calls the PSP, settles. A request resumed with its Idempotency-Key continues
 * the operation it started (whatever its new body says: seed rule).
 */
export async function operateInstrument(
  deps: InstrumentDependencies,
  merchantId: string,
  instrumentId: string,
  request: OperationRequest,
  context: InstrumentRequestContext = {},
): Promise<OperationResult> {
  const instrument = await getOwnedInstrument(deps, merchantId, instrumentId);
  const resumed = context.resume?.instrumentId === instrumentId ? context.resume.operationId : undefined;
  if (resumed !== undefined && instrument.operations[resumed] !== undefined) {
    return await executeOperation(deps, instrument, instrument.operations[resumed]);
  }
  const now = clock(deps);
  const operationId = resumed ?? generateOperationId(now);
  if (resumed === undefined) await context.pin?.({ instrumentId, operationId });
  const planContext = {
    operationId,
    now,
    ...(context.idempotencyKey !== undefined ? { idempotencyKey: context.idempotencyKey } : {}),
  };
  return await reserveAndExecute(deps, instrument, (current) => planOperation(current, request, planContext), operationId);
}

/**
 * Reserve (re-planning on a lost race: the fresh balance either still allows it or yields the
 * precise 4xx), then execute. `exists` means an earlier attempt reserved it: continue that one.
 */
async function reserveAndExecute(
  deps: InstrumentDependencies,
  start: FinancialInstrument,
  plan: (instrument: FinancialInstrument) => ReturnType<typeof planOperation>,
  operationId: string,
): Promise<OperationResult> {
  let instrument = start;
  for (let attempt = 1; attempt <= RESERVE_ATTEMPTS; attempt += 1) {
    const existing = instrument.operations[operationId];
    if (existing !== undefined) return await executeOperation(deps, instrument, existing);
    const { operation, guard } = plan(instrument);
    const reserved = await deps.instruments.reserveOperation(instrument.id, operation, guard, clock(deps));
    if (reserved.kind === 'reserved') return await executeOperation(deps, reserved.instrument, operation);
    instrument = reserved.instrument;
  }
  throw new ConcurrentModificationError(
    'The instrument kept changing under concurrent operations; retry with the same Idempotency-Key',
  );
}

/** PSP call for a pending operation, then settlement. Settled operations are answered as recorded. */
async function executeOperation(
  deps: InstrumentDependencies,
  instrument: FinancialInstrument,
  operation: InstrumentOperation,
): Promise<OperationResult> {
  const result = await settleOperationAtPsp(deps, instrument, operation);
  await publishSettlement(deps, result.instrument, result.operation);
  if (result.operation.status === 'failed') throw result.error ?? failureOf(result.operation);
  return result;
}

/**
 * Tells the merchant about a settled operation: `financial_instrument.transaction.succeeded|failed`
 * and, for a succeeded refund (or a revoke that refunded), `payment.refunded`. Event ids derive
 * from the operation, so a replayed or resumed request publishes nothing new.
 */
async function publishSettlement(
  deps: InstrumentDependencies,
  instrument: FinancialInstrument,
  operation: InstrumentOperation,
): Promise<void> {
  if (!deps.events || operation.status === 'pending' || operation.kind === 'create') return;
  const view = toInstrumentOperationView(instrument, operation.id, operationTransactions(instrument, operation));
  const base = {
    merchantId: instrument.merchantId,
    objectId: instrument.id,
    ...(instrument.checkoutId ? { checkoutId: instrument.checkoutId } : {}),
  };
  const type = `financial_instrument.transaction.${operation.status}`;
  await deps.events.publishEvent({
    ...base,
    type,
    data: { object: view },
    sourceKey: `${instrument.id}:${operation.id}:${type}`,
  });
  if (operation.status === 'succeeded' && operation.pspAction === 'refund') {
    await deps.events.publishEvent({
      ...base,
      type: 'payment.refunded',
      data: { object: { ...view, amount: operation.pspAmount, currency: instrument.currency } },
      sourceKey: `${instrument.id}:${operation.id}:payment.refunded`,
    });
  }
}

interface SettledOperation extends OperationResult {
  /** The PSP's own error for a refusal settled by this call (a replay rebuilds it). */
  error?: Error;
}

async function settleOperationAtPsp(
  deps: InstrumentDependencies,
  instrument: FinancialInstrument,
  operation: InstrumentOperation,
): Promise<SettledOperation> {
  if (operation.status !== 'pending') return resultOf(instrument, operation);
  let confirmation: PspConfirmation;
  try {
    confirmation = await callPsp(gatewayFor(deps, instrument.connector, instrument.merchantId), instrument, operation);
  } catch (error) {
    // Refused (by the PSP, or before calling it): the reservation is undone and the operation fails.
    if (isRefusal(error)) {
      const failed = await deps.instruments.settleOperation(
        {
          instrumentId: instrument.id,
          operationId: operation.id,
          change: settlementChange(operation, 'failed'),
          patch: failedPatch(deps, operation, error),
        },
        clock(deps),
      );
      // A concurrent resumer may have settled it as succeeded meanwhile: report what is recorded.
      return { ...resultOf(failed, failed.operations[operation.id] ?? operation), error };
    }
    throw error; // transient or unknown: stays pending; the retry resumes it
  }
  const settledInstrument = await deps.instruments.settleOperation(
    {
      instrumentId: instrument.id,
      operationId: operation.id,
      change: settlementChange(operation, 'succeeded'),
      patch: {
        status: 'succeeded',
        settledAt: clock(deps).toISOString(),
        ...(confirmation.pspOperationId !== undefined ? { pspOperationId: confirmation.pspOperationId } : {}),
      },
      ...(confirmation.pspReference !== undefined ? { pspReference: confirmation.pspReference } : {}),
    },
    clock(deps),
  );
  return resultOf(settledInstrument, settledInstrument.operations[operation.id] ?? operation);
}

/** A definitive refusal (by the PSP, or before calling it): the operation fails, its reservation undone. */
function isRefusal(error: unknown): error is PaymentDeclinedError | PspRejectedError | InstrumentNotAuthorizedError {
  return (
    error instanceof PaymentDeclinedError || error instanceof PspRejectedError || error instanceof InstrumentNotAuthorizedError
  );
}

function failedPatch(
  deps: InstrumentDependencies,
  operation: InstrumentOperation,
  error: PaymentDeclinedError | PspRejectedError | InstrumentNotAuthorizedError,
): SettleOperationInput['patch'] {
  return {
    status: 'failed',
    settledAt: clock(deps).toISOString(),
    failureCode: error instanceof PspClientError && operation.pspAction === 'authorize' ? PSP_CLIENT_ERROR_CODE : error.code,
    failureMessage: error.message.slice(0, 300),
  };
}

interface PspConfirmation {
  pspOperationId?: string;
  /** Set by an authorization: the instrument's PSP reference from now on. */
  pspReference?: string;
}

/** The one PSP call of an operation, keyed by the operation's own idempotency key. */
async function callPsp(
  gateway: PaymentGateway,
  instrument: FinancialInstrument,
  operation: InstrumentOperation,
): Promise<PspConfirmation> {
  const common = { reference: instrument.pspPaymentReference, idempotencyKey: operation.pspIdempotencyKey };
  if (operation.pspAction === 'none') return {};
  if (operation.pspAction === 'authorize') {
    const authorization = await gateway.authorize({
      ...common,
      source: { type: 'token', token: operation.paymentToken ?? '' },
      amount: operation.pspAmount,
      currency: instrument.currency,
    });
    return { pspOperationId: authorization.pspReference, pspReference: authorization.pspReference };
  }
  const pspReference = instrument.pspReference;
  if (pspReference === undefined) throw new InstrumentNotAuthorizedError(`Instrument ${instrument.id} has no PSP authorization`);
  switch (operation.pspAction) {
    case 'capture': {
      const capture = await gateway.capture({
        ...common,
        pspReference,
        amount: operation.pspAmount,
        currency: instrument.currency,
        // The merchant's captures leave the rest capturable; the saga's and the expiry's take what they capture and end.
        final: operation.id === SAGA_CAPTURE_OPERATION_ID || operation.id === EXPIRY_CAPTURE_OPERATION_ID,
      });
      return { pspOperationId: capture.pspOperationId };
    }
    case 'refund': {
      const refund = await gateway.refund({
        ...common,
        pspReference,
        amount: operation.pspAmount,
        currency: instrument.currency,
      });
      return { pspOperationId: refund.pspOperationId };
    }
    case 'void': {
      const voided = await gateway.voidAuthorization({ ...common, pspReference });
      return { pspOperationId: voided.pspOperationId };
    }
  }
}

function resultOf(instrument: FinancialInstrument, operation: InstrumentOperation): OperationResult {
  return { instrument, operation, transactions: operationTransactions(instrument, operation) };
}

/** The error a failed operation answers with (a decline stays a decline, a PSP 4xx the caller's error). */
function failureOf(operation: InstrumentOperation): Error {
  const message = operation.failureMessage ?? 'The PSP refused the operation';
  if (operation.failureCode === 'payment_declined') return new PaymentDeclinedError(message);
  if (operation.failureCode === PSP_CLIENT_ERROR_CODE) return new PspClientError(message, 400);
  if (operation.failureCode === 'instrument_not_authorized') return new InstrumentNotAuthorizedError(message);
  return new PspRejectedError(message);
}

/** Stored as an operation's failureCode when the PSP refused the request with a 4xx. */
const PSP_CLIENT_ERROR_CODE = 'psp_client_error';

// ---- The checkout saga's instrument -------------------------------------------------------------

export interface CheckoutInstrumentInput {
  checkoutId: string;
  merchantId: string;
  pspReference: string;
  authorizedAmount: number;
  currency: string;
  /** The connector that authorized (the attempt's); the default gateway's when absent. */
  connector?: string;
}

/**
 * AuthorizePayment's second half: the authorization becomes an `authorized` instrument linked to
 * the checkout, pending (held by the saga) until CapturePayment or VoidAuthorization settles it.
 * Its id derives from the checkout id, so a re-run finds the one it made.
 */
export async function openCheckoutInstrument(
  deps: InstrumentDependencies,
  input: CheckoutInstrumentInput,
): Promise<FinancialInstrument> {
  const created = await deps.instruments.createInstrument(
    newAuthorizedInstrument({
      id: instrumentIdForCheckout(input.checkoutId),
      merchantId: input.merchantId,
      type: 'authorized',
      status: 'pending',
      amount: input.authorizedAmount,
      currency: input.currency,
      connector: input.connector ?? deps.gateway.connector,
      pspReference: input.pspReference,
      pspPaymentReference: input.checkoutId,
      checkoutId: input.checkoutId,
      now: clock(deps),
    }),
  );
  if (created.kind === 'psp_reference_taken') {
    throw new AuthorizationClaimedError(
      `Authorization ${input.pspReference} is already claimed by instrument ${created.instrumentId}`,
    );
  }
  return created.instrument;
}

/** Operation ids of the saga's steps: one per step, so a re-run finds (and resumes) its own. */
export const SAGA_CAPTURE_OPERATION_ID = 'saga_capture';
export const SAGA_VOID_OPERATION_ID = 'saga_void';

/**
 * CapturePayment / VoidAuthorization through the checkout's instrument: the same reserve, PSP,
 * settle steps as the API, with the saga's PSP key (`<checkout id>:capture|void`) and only on the
 * pending instrument the saga holds. Afterwards the instrument is active (capturable 0,
 * refundable = captured) or voided (both 0).
 *
 * `oneWrite` (capture only): the full capture is one instrument write after the PSP call
 * (captureInOneWrite). Only for callers whose recovery records a capture the PSP made when no
 * operation was reserved (a process that died during the PSP call): every place that settles the
 * saga's operation from the PSP's status must use settleSagaOperationFromPspTruth.
 */
export async function runSagaOperation(
  deps: InstrumentDependencies,
  input:
    | { instrumentId: string; step: 'capture'; amount: number; pspIdempotencyKey: string; oneWrite?: boolean }
    | { instrumentId: string; step: 'void'; pspIdempotencyKey: string },
): Promise<OperationResult> {
  const instrument = await deps.instruments.getInstrument(input.instrumentId);
  if (instrument === undefined) throw new NotFoundError(`Instrument ${input.instrumentId} does not exist`);
  const operationId = input.step === 'capture' ? SAGA_CAPTURE_OPERATION_ID : SAGA_VOID_OPERATION_ID;
  const request: OperationRequest =
    input.step === 'capture' ? { kind: 'capture', amount: input.amount, currency: instrument.currency } : { kind: 'revoke' };
  const planContext = {
    operationId,
    pspIdempotencyKey: input.pspIdempotencyKey,
    now: clock(deps),
    allowedStatuses: ['pending'] as const,
  };
  const plan = (current: FinancialInstrument): ReturnType<typeof planOperation> => planOperation(current, request, planContext);
  let start = instrument;
  if (input.step === 'capture' && input.oneWrite === true && instrument.operations[operationId] === undefined) {
    const captured = await captureInOneWrite(deps, instrument, plan);
    if (captured.kind === 'done') return captured.result;
    start = captured.instrument;
  }
  return await reserveAndExecute(deps, start, plan, operationId);
}

/**
 * The saga's capture of the whole authorization in ONE instrument write: the PSP capture first
 * (keyed by the saga's PSP key, so a repeat replays at the PSP), then the operation added already
 * settled, with reserve and settle's net balances, on the condition a reservation makes plus
 * "nothing captured, nothing pending" (capturable still exactly the amount). Only when it can hold:
 * the repository writes in one step, the instrument is the pending one the saga holds, nothing is
 * pending on it and the capture takes all that is capturable. A lost condition (the operation
 * exists: answered as recorded; anything else moved: `fallback`, the caller reserves and settles as
 * before and the PSP replays the same key). An unknown PSP outcome (timeout, 5xx) leaves exactly
 * what the two-write path leaves: the reservation, pending, for the retry or the status query
 * (capture-payment.ts, resolveCaptureByStatus) to settle.
 */
async function captureInOneWrite(
  deps: InstrumentDependencies,
  instrument: FinancialInstrument,
  plan: (instrument: FinancialInstrument) => ReturnType<typeof planOperation>,
): Promise<{ kind: 'done'; result: OperationResult } | { kind: 'fallback'; instrument: FinancialInstrument }> {
  const write = deps.instruments.reserveAndSettleOperation?.bind(deps.instruments);
  const fallback = { kind: 'fallback' as const, instrument };
  if (write === undefined || instrument.status !== 'pending' || instrument.pendingCaptures !== 0) return fallback;
  const { operation, guard } = plan(instrument);
  if (operation.pspAction !== 'capture' || operation.pspAmount !== instrument.capturableAmount) return fallback;
  const oneWriteGuard = { ...guard, exactCapturable: operation.pspAmount, noPendingCaptures: true };
  let settled: InstrumentOperation;
  let refusal: Error | undefined;
  try {
    const confirmation = await callPsp(gatewayFor(deps, instrument.connector, instrument.merchantId), instrument, operation);
    settled = {
      ...operation,
      status: 'succeeded',
      settledAt: clock(deps).toISOString(),
      ...(confirmation.pspOperationId !== undefined ? { pspOperationId: confirmation.pspOperationId } : {}),
    };
  } catch (error) {
    if (!isRefusal(error)) {
      const reserved = await deps.instruments.reserveOperation(instrument.id, operation, guard, clock(deps));
      // Not reserved because the instrument moved meanwhile: no pending operation for a status query to settle.
      if (reserved.kind === 'refused')
        throw new ConcurrentModificationError(`Instrument ${instrument.id} changed during its capture`);
      throw error;
    }
    refusal = error;
    settled = { ...operation, ...failedPatch(deps, operation, error) };
  }
  const outcome = settled.status === 'succeeded' ? 'succeeded' : 'failed';
  const written = await write(
    instrument.id,
    settled,
    combinedChange(operation.reservation, settlementChange(operation, outcome)),
    oneWriteGuard,
    clock(deps),
  );
  if (written.kind === 'refused') return { kind: 'fallback', instrument: written.instrument };
  const stored = written.instrument.operations[operation.id];
  if (written.kind === 'exists' && stored !== undefined) {
    return { kind: 'done', result: await executeOperation(deps, written.instrument, stored) };
  }
  const result = resultOf(written.instrument, stored ?? settled);
  await publishSettlement(deps, result.instrument, result.operation);
  if (result.operation.status === 'failed') throw refusal ?? failureOf(result.operation);
  return { kind: 'done', result };
}

/** Reserve then settle as one change: the deltas added up, the settlement's status (else the reservation's). */
export function combinedChange(reservation: BalanceChange, settlement: BalanceChange): BalanceChange {
  const status = settlement.status ?? reservation.status;
  return {
    capturableDelta: reservation.capturableDelta + settlement.capturableDelta,
    refundableDelta: reservation.refundableDelta + settlement.refundableDelta,
    pendingCapturesDelta: reservation.pendingCapturesDelta + settlement.pendingCapturesDelta,
    ...(status !== undefined ? { status } : {}),
  };
}

// ---- Manual capture: the expiry of a held authorization -------------------------------------------

/** Operation ids of the expiry action: one per instrument, so a re-run resumes instead of acting twice. */
export const EXPIRY_VOID_OPERATION_ID = 'expiry_void';
export const EXPIRY_CAPTURE_OPERATION_ID = 'expiry_capture';

/**
 * Applies the merchant's expired_authorization_action to a held manual-capture authorization, by
 * the same reserve, PSP, settle steps as the API: `void` revokes (capturable -> 0, PSP void of the
 * remainder), `capture` captures whatever is still capturable at the moment the reservation lands
 * (re-planned on a lost race with a merchant capture). An expiry operation already started (even
 * with the other action: the setting may have changed meanwhile) is resumed, never doubled. The
 * PSP key derives from the instrument and operation ids.
 */
export async function runExpiryOperation(
  deps: InstrumentDependencies,
  input: { instrumentId: string; action: 'void' | 'capture' },
): Promise<OperationResult> {
  const instrument = await deps.instruments.getInstrument(input.instrumentId);
  if (instrument === undefined) throw new NotFoundError(`Instrument ${input.instrumentId} does not exist`);
  const started = instrument.operations[EXPIRY_CAPTURE_OPERATION_ID] ?? instrument.operations[EXPIRY_VOID_OPERATION_ID];
  if (started !== undefined) return await executeOperation(deps, instrument, started);
  const operationId = input.action === 'capture' ? EXPIRY_CAPTURE_OPERATION_ID : EXPIRY_VOID_OPERATION_ID;
  const plan = (current: FinancialInstrument): ReturnType<typeof planOperation> => {
    const request: OperationRequest =
      input.action === 'capture'
        ? { kind: 'capture', amount: current.capturableAmount, currency: current.currency }
        : { kind: 'revoke' };
    return planOperation(current, request, { operationId, now: clock(deps) });
  };
  return await reserveAndExecute(deps, instrument, plan, operationId);
}

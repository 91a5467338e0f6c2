/**
 * The financial-instrument ledger rules as pure code (no AWS import): which capture, refund or
 * revoke an instrument accepts, how each moves the capturable and refundable balances (debit by
 * a conditional reservation before the PSP call, credit after the PSP confirmed, undo when it
 * refused), and how operations become NewStore's `transactions[]`. The DynamoDB adapter applies
 * the changes computed here; the in-memory fake applies the same ones, so both agree.
 *
 * Seed rules encoded here (../shared/seeds/financial-instruments.txt):
 * - a capture that increases the refundable amount answers two transactions, (-X, 0) and (0, +X);
 * - revoke sets the capturable amount to 0; on a `captured` instrument the PSP cannot void, so the
 *   withheld (captured) funds are refunded instead;
 * - on a `captured` instrument, capture moves no money at the PSP (already captured) but still
 *   answers the transactions that confirm the change.
 */
import { randomBytes } from 'node:crypto';
import { ConflictError, ValidationError } from '../errors';
import type {
  BalanceChange,
  FinancialInstrument,
  InstrumentOperation,
  InstrumentStatus,
  InstrumentTransaction,
  InstrumentType,
} from './instrument-model';

/** Operations kept per instrument (they live in the instrument's item, which DynamoDB caps at 400 KB). */
export const MAX_OPERATIONS_PER_INSTRUMENT = 500;

export const NO_CHANGE: BalanceChange = { capturableDelta: 0, refundableDelta: 0, pendingCapturesDelta: 0 };

/** Instrument id (`fi_...`), random for instruments the merchant creates. */
export function generateInstrumentId(): string {
  return `fi_${randomBytes(16).toString('base64url')}`;
}

/** Orders ids made in the same millisecond by one process (two processes: random, both valid). */
let operationCounter = 0;

/**
 * Operation id (`iop_<time><counter><random>`): sorts by creation time, so `transactions[]` reads
 * in the order the operations were requested.
 */
export function generateOperationId(now: Date = new Date()): string {
  operationCounter = (operationCounter + 1) % 1296;
  return `iop_${now.getTime().toString(36).padStart(9, '0')}${operationCounter.toString(36).padStart(2, '0')}${randomBytes(8).toString('hex')}`;
}

/** The saga's instrument id is derived from the checkout id, so a re-run step finds it instead of making a second one. */
export function instrumentIdForCheckout(checkoutId: string): string {
  return `fi_${checkoutId.replace(/^chk_/, '')}`;
}

/** The PSP idempotency key of an API operation: derived from the ledger row, never from the request. */
export function operationPspKey(instrumentId: string, operationId: string): string {
  return `${instrumentId}:${operationId}`;
}

// ---- Creation -----------------------------------------------------------------------------------

export interface NewInstrumentBase {
  id: string;
  merchantId: string;
  amount: number;
  currency: string;
  connector: string;
  metadata?: Record<string, unknown>;
  idempotencyKey?: string;
  now: Date;
}

/**
 * A `token` instrument before its authorization: pending with nothing capturable; the create
 * operation authorizes at the PSP and, once confirmed, credits the whole amount as capturable.
 */
export function newTokenInstrument(input: NewInstrumentBase & { paymentToken: string }): FinancialInstrument {
  const at = input.now.toISOString();
  const operation: InstrumentOperation = {
    id: generateOperationId(input.now),
    kind: 'create',
    pspAction: 'authorize',
    pspAmount: input.amount,
    pspIdempotencyKey: `${input.id}:authorize`,
    paymentToken: input.paymentToken,
    status: 'pending',
    reservation: NO_CHANGE,
    onSuccess: { capturableDelta: input.amount, refundableDelta: 0, pendingCapturesDelta: 0, status: 'active' },
    statusOnFailure: 'failed',
    ...(input.idempotencyKey !== undefined ? { idempotencyKey: input.idempotencyKey } : {}),
    createdAt: at,
  };
  return {
    id: input.id,
    merchantId: input.merchantId,
    type: 'token',
    status: 'pending',
    currency: input.currency,
    amount: input.amount,
    connector: input.connector,
    pspPaymentReference: input.id,
    ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
    capturableAmount: 0,
    refundableAmount: 0,
    pendingCaptures: 0,
    operations: { [operation.id]: operation },
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
}

/** The PSP's view of an authorization, as far as instrument validation needs it. */
export interface AuthorizationFacts {
  currency: string;
  reference: string;
  capturableAmount: number;
  refundableAmount: number;
}

/**
 * Checks an existing PSP authorization can back an `authorized` (enough left to capture) or a
 * `captured` (enough captured and not refunded) instrument of `amount` in `currency`.
 */
export function assertAuthorizationFits(
  type: Exclude<InstrumentType, 'token'>,
  amount: number,
  currency: string,
  facts: AuthorizationFacts,
): void {
  if (facts.currency !== currency) {
    throw new ValidationError(`The PSP authorization is in ${facts.currency}, not ${currency}`, {
      status: 422,
      code: 'currency_mismatch',
      param: 'currency',
    });
  }
  if (type === 'authorized' && facts.capturableAmount < amount) {
    throw new ValidationError(`The PSP authorization has only ${facts.capturableAmount} ${currency} left to capture`, {
      status: 422,
      code: 'amount_exceeds_capturable',
      param: 'amount',
    });
  }
  if (type === 'captured' && facts.refundableAmount < amount) {
    throw new ValidationError(`The PSP payment has only ${facts.refundableAmount} ${currency} captured and not refunded`, {
      status: 422,
      code: 'amount_exceeds_refundable',
      param: 'amount',
    });
  }
}

/**
 * An instrument over an existing authorization (`authorized` / `captured`, or the saga's): the
 * whole amount is capturable at once (for `captured`, "capturable" is NewStore's view: funds the
 * order has not claimed yet, already captured at the PSP). `status` is `pending` for the saga's
 * instrument until the saga captured or voided.
 */
export function newAuthorizedInstrument(
  input: NewInstrumentBase & {
    type: Exclude<InstrumentType, 'token'>;
    pspReference: string;
    pspPaymentReference: string;
    checkoutId?: string;
    status?: InstrumentStatus;
  },
): FinancialInstrument {
  const at = input.now.toISOString();
  const operation: InstrumentOperation = {
    id: generateOperationId(input.now),
    kind: 'create',
    pspAction: 'none',
    pspAmount: 0,
    pspIdempotencyKey: `${input.id}:create`,
    status: 'succeeded',
    reservation: NO_CHANGE,
    onSuccess: { capturableDelta: input.amount, refundableDelta: 0, pendingCapturesDelta: 0 },
    pspOperationId: input.pspReference,
    ...(input.idempotencyKey !== undefined ? { idempotencyKey: input.idempotencyKey } : {}),
    createdAt: at,
    settledAt: at,
  };
  return {
    id: input.id,
    merchantId: input.merchantId,
    type: input.type,
    status: input.status ?? 'active',
    currency: input.currency,
    amount: input.amount,
    connector: input.connector,
    pspReference: input.pspReference,
    pspPaymentReference: input.pspPaymentReference,
    ...(input.checkoutId !== undefined ? { checkoutId: input.checkoutId } : {}),
    ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
    capturableAmount: input.amount,
    refundableAmount: 0,
    pendingCaptures: 0,
    operations: { [operation.id]: operation },
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
}

// ---- Capture, refund, revoke ----------------------------------------------------------------------

export type OperationRequest =
  { kind: 'capture' | 'refund'; amount: number; currency: string } | { kind: 'revoke'; currency?: string };

export interface PlanContext {
  operationId: string;
  /** Default: derived from the instrument and operation ids. The saga passes its `<checkout>:capture|void`. */
  pspIdempotencyKey?: string;
  idempotencyKey?: string;
  now: Date;
  /**
   * Statuses the operation may start from. Default: the API's (active; also voided for a refund).
   * The saga passes `['pending']`: it alone moves its instrument until it captured or voided.
   */
  allowedStatuses?: readonly InstrumentStatus[];
}

/** What the conditional reservation write must still find true when it lands. */
export interface ReservationGuard {
  allowedStatuses: readonly InstrumentStatus[];
  minCapturable: number;
  minRefundable: number;
  /** Revoke: the capturable amount must still be exactly what we release. */
  exactCapturable?: number;
  /** Revoke: no capture between reservation and settlement (its PSP call could race the void). */
  noPendingCaptures?: boolean;
  maxOperations: number;
}

export interface OperationPlan {
  operation: InstrumentOperation;
  guard: ReservationGuard;
}

function defaultAllowedStatuses(kind: OperationRequest['kind']): InstrumentStatus[] {
  return kind === 'refund' ? ['active', 'voided'] : ['active'];
}

/** The 409 for an instrument whose status does not allow the operation. */
function statusConflict(instrument: FinancialInstrument): ConflictError {
  switch (instrument.status) {
    case 'voided':
      return new ConflictError('The instrument was revoked: nothing is left to capture or revoke', { code: 'instrument_voided' });
    case 'pending':
      return new ConflictError(
        instrument.checkoutId !== undefined
          ? 'The checkout payment is still processing; retry once the checkout succeeded or failed'
          : 'The instrument is still being created; retry with the same Idempotency-Key',
        { code: 'instrument_pending' },
      );
    case 'failed':
      return new ConflictError('The instrument was never authorized (the PSP declined it)', { code: 'instrument_failed' });
    case 'active':
      return new ConflictError('The instrument does not accept this operation now', { code: 'instrument_not_operable' });
  }
}

/**
 * Decides an operation against the instrument as last read: throws the precise 4xx when it cannot
 * run, else returns the operation (pending) and the guard its reservation write must satisfy.
 * The same checks run again inside the conditional write, so a concurrent change can only make
 * the write fail, never overdraw a balance.
 */
export function planOperation(instrument: FinancialInstrument, request: OperationRequest, context: PlanContext): OperationPlan {
  const allowedStatuses = context.allowedStatuses ?? defaultAllowedStatuses(request.kind);
  if (!allowedStatuses.includes(instrument.status)) throw statusConflict(instrument);
  if (request.currency !== undefined && request.currency !== instrument.currency) {
    throw new ValidationError(`The instrument is in ${instrument.currency}, not ${request.currency}`, {
      status: 422,
      code: 'currency_mismatch',
      param: 'currency',
    });
  }
  if (Object.keys(instrument.operations).length >= MAX_OPERATIONS_PER_INSTRUMENT) {
    throw new ConflictError(`An instrument keeps at most ${MAX_OPERATIONS_PER_INSTRUMENT} operations`, {
      code: 'instrument_operation_limit',
    });
  }
  const base = {
    id: context.operationId,
    pspIdempotencyKey: context.pspIdempotencyKey ?? operationPspKey(instrument.id, context.operationId),
    status: 'pending' as const,
    ...(context.idempotencyKey !== undefined ? { idempotencyKey: context.idempotencyKey } : {}),
    createdAt: context.now.toISOString(),
  };
  const guard = { allowedStatuses, minCapturable: 0, minRefundable: 0, maxOperations: MAX_OPERATIONS_PER_INSTRUMENT };

  if (request.kind === 'capture' || request.kind === 'refund') assertPositiveAmount(request.amount);

  switch (request.kind) {
    case 'capture': {
      if (request.amount > instrument.capturableAmount) {
        throw new ValidationError(`Only ${instrument.capturableAmount} ${instrument.currency} can still be captured`, {
          status: 422,
          code: 'amount_exceeds_capturable',
          param: 'amount',
        });
      }
      return {
        operation: {
          ...base,
          kind: 'capture',
          // Pre-captured: the money is already ours at the PSP; the capture only confirms it.
          pspAction: instrument.type === 'captured' ? 'none' : 'capture',
          pspAmount: request.amount,
          reservation: { capturableDelta: -request.amount, refundableDelta: 0, pendingCapturesDelta: 1 },
          onSuccess: {
            capturableDelta: 0,
            refundableDelta: request.amount,
            pendingCapturesDelta: 0,
            ...successStatus(instrument, allowedStatuses),
          },
        },
        guard: { ...guard, minCapturable: request.amount },
      };
    }
    case 'refund': {
      if (request.amount > instrument.refundableAmount) {
        throw new ValidationError(`Only ${instrument.refundableAmount} ${instrument.currency} can be refunded`, {
          status: 422,
          code: 'amount_exceeds_refundable',
          param: 'amount',
        });
      }
      return {
        operation: {
          ...base,
          kind: 'refund',
          pspAction: 'refund',
          pspAmount: request.amount,
          reservation: { capturableDelta: 0, refundableDelta: -request.amount, pendingCapturesDelta: 0 },
          onSuccess: NO_CHANGE,
        },
        guard: { ...guard, minRefundable: request.amount },
      };
    }
    case 'revoke': {
      if (instrument.pendingCaptures > 0) {
        throw new ConflictError('A capture on this instrument is still in progress; retry the revoke once it finished', {
          code: 'operation_in_progress',
        });
      }
      const released = instrument.capturableAmount;
      let pspAction: InstrumentOperation['pspAction'] = 'void';
      if (released === 0) pspAction = 'none';
      else if (instrument.type === 'captured') pspAction = 'refund'; // seed: a captured instrument cannot be voided
      return {
        operation: {
          ...base,
          kind: 'revoke',
          pspAction,
          pspAmount: released,
          reservation: { capturableDelta: negate(released), refundableDelta: 0, pendingCapturesDelta: 0, status: 'voided' },
          onSuccess: NO_CHANGE,
          statusOnFailure: instrument.status,
        },
        guard: { ...guard, minCapturable: released, exactCapturable: released, noPendingCaptures: true },
      };
    }
  }
}

/** The saga's capture activates its (pending) instrument; API captures leave the status alone. */
function successStatus(
  instrument: FinancialInstrument,
  allowedStatuses: readonly InstrumentStatus[],
): { status?: InstrumentStatus } {
  return instrument.status === 'pending' && allowedStatuses.includes('pending') ? { status: 'active' } : {};
}

function assertPositiveAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw new ValidationError("amount must be a positive integer in the currency's minor unit", {
      status: 422,
      code: 'invalid_amount',
      param: 'amount',
    });
  }
}

/**
 * The balance change that settles a pending operation: its credits when the PSP confirmed, the
 * exact reverse of its reservation when the PSP refused (the transaction is then `failed`).
 */
export function settlementChange(operation: InstrumentOperation, outcome: 'succeeded' | 'failed'): BalanceChange {
  const pendingCapturesDelta = negate(operation.reservation.pendingCapturesDelta);
  if (outcome === 'succeeded') {
    return { ...operation.onSuccess, pendingCapturesDelta };
  }
  return {
    capturableDelta: negate(operation.reservation.capturableDelta),
    refundableDelta: negate(operation.reservation.refundableDelta),
    pendingCapturesDelta,
    ...(operation.statusOnFailure !== undefined ? { status: operation.statusOnFailure } : {}),
  };
}

/** -n without producing -0 (which would leak into stored numbers and deep-equality checks). */
function negate(amount: number): number {
  return amount === 0 ? 0 : -amount;
}

/** Applies a change to an in-memory copy (the fake repository, and expected values in tests). */
export function applyChange(instrument: FinancialInstrument, change: BalanceChange): FinancialInstrument {
  return {
    ...instrument,
    capturableAmount: instrument.capturableAmount + change.capturableDelta,
    refundableAmount: instrument.refundableAmount + change.refundableDelta,
    pendingCaptures: instrument.pendingCaptures + change.pendingCapturesDelta,
    ...(change.status !== undefined ? { status: change.status } : {}),
  };
}

/** Whether the reservation write may land on `instrument` (the same test the DynamoDB condition makes). */
export function guardHolds(instrument: FinancialInstrument, guard: ReservationGuard): boolean {
  return (
    guard.allowedStatuses.includes(instrument.status) &&
    instrument.capturableAmount >= guard.minCapturable &&
    instrument.refundableAmount >= guard.minRefundable &&
    (guard.exactCapturable === undefined || instrument.capturableAmount === guard.exactCapturable) &&
    (guard.noPendingCaptures !== true || instrument.pendingCaptures === 0) &&
    Object.keys(instrument.operations).length < guard.maxOperations
  );
}

// ---- Transactions -------------------------------------------------------------------------------

/** Operations in the order they were requested. */
export function sortedOperations(instrument: FinancialInstrument): InstrumentOperation[] {
  const rank = (operation: InstrumentOperation): number => (operation.kind === 'create' ? 0 : 1);
  return Object.values(instrument.operations).sort(
    (a, b) => rank(a) - rank(b) || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
  );
}

/**
 * The transactions one operation made, with the deltas it applies (pending: what it will apply;
 * failed: what it would have applied). A capture answers two (seed convention): the capturable
 * debit and the refundable credit.
 */
export function operationTransactions(instrument: FinancialInstrument, operation: InstrumentOperation): InstrumentTransaction[] {
  const confirmedId =
    operation.status === 'succeeded' && operation.pspOperationId !== undefined ? operation.pspOperationId : operation.id;
  const base = {
    operationId: operation.id,
    currency: instrument.currency,
    status: operation.status,
    createdAt: operation.createdAt,
    ...(operation.pspOperationId !== undefined ? { pspReference: operation.pspOperationId } : {}),
    ...(operation.failureCode !== undefined ? { failureCode: operation.failureCode } : {}),
  };
  const captureAmount = operation.reservation.capturableDelta + operation.onSuccess.capturableDelta;
  const refundAmount = operation.reservation.refundableDelta + operation.onSuccess.refundableDelta;
  switch (operation.kind) {
    case 'create':
      return [{ ...base, transactionId: confirmedId, type: 'authorization', captureAmount, refundAmount }];
    case 'capture': {
      const rows: InstrumentTransaction[] = [
        {
          ...base,
          transactionId: confirmedId,
          type: 'capture',
          captureAmount: operation.reservation.capturableDelta,
          refundAmount: 0,
        },
      ];
      if (operation.onSuccess.refundableDelta > 0) {
        rows.push({
          ...base,
          transactionId: `${confirmedId}:refundable`,
          type: 'capture',
          captureAmount: 0,
          refundAmount: operation.onSuccess.refundableDelta,
        });
      }
      return rows;
    }
    case 'refund':
      return [{ ...base, transactionId: confirmedId, type: 'refund', captureAmount, refundAmount }];
    case 'revoke':
      return [{ ...base, transactionId: confirmedId, type: 'revoke', captureAmount, refundAmount }];
    case 'dispute':
      return [{ ...base, transactionId: confirmedId, type: 'dispute', captureAmount, refundAmount }];
  }
}

/** Every transaction of the instrument, oldest first (`transactions[]` of GET). */
export function instrumentTransactions(instrument: FinancialInstrument): InstrumentTransaction[] {
  return sortedOperations(instrument).flatMap((operation) => operationTransactions(instrument, operation));
}

/**
 * The balances the succeeded transactions add up to, plus the reservations of pending ones: what
 * the stored balances must equal (tests check this invariant after every scenario).
 */
export function balancesFromTransactions(instrument: FinancialInstrument): { capturable: number; refundable: number } {
  let capturable = 0;
  let refundable = 0;
  for (const operation of Object.values(instrument.operations)) {
    if (operation.status === 'failed') continue;
    capturable += operation.reservation.capturableDelta;
    refundable += operation.reservation.refundableDelta;
    if (operation.status === 'succeeded') {
      capturable += operation.onSuccess.capturableDelta;
      refundable += operation.onSuccess.refundableDelta;
    }
  }
  return { capturable, refundable };
}

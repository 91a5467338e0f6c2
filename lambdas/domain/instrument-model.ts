/**
 * Financial instruments (NewStore style) as the domain sees them: one instrument per PSP
 * authorization, with its two balances (capturable, refundable) and the operations that moved
 * them. Pure types: no AWS import. Money is always an integer in the currency's minor unit.
 *
 * An operation is one request that may call the PSP once (create, capture, refund, revoke). Its
 * balance changes are split in two: the *reservation* (debits, applied by a conditional write
 * before the PSP call) and the *credit* (applied only when the PSP confirmed). A PSP refusal
 * undoes the reservation. The API's `transactions[]` are derived from the operations.
 */

export type InstrumentType = 'token' | 'authorized' | 'captured';

/**
 * pending: being created (token authorization running) or held by the checkout saga until it
 * captured or voided; active: operable; voided: revoked (nothing left to capture; refunds of
 * what was captured stay possible); failed: the token authorization was declined.
 */
export type InstrumentStatus = 'pending' | 'active' | 'voided' | 'failed';

/** `dispute`: a chargeback the PSP reported by callback (reduces what can be refunded; no PSP call). */
export type InstrumentOperationKind = 'create' | 'capture' | 'refund' | 'revoke' | 'dispute';

export type InstrumentOperationStatus = 'pending' | 'succeeded' | 'failed';

/** What the operation asks the PSP to do; `none` when the PSP has nothing to do (pre-captured capture, empty revoke). */
export type PspAction = 'authorize' | 'capture' | 'refund' | 'void' | 'none';

/** A balance change applied to the instrument in one conditional write. */
export interface BalanceChange {
  capturableDelta: number;
  refundableDelta: number;
  /** +1 while a capture is between reservation and settlement; a revoke waits for 0. */
  pendingCapturesDelta: number;
  /** Status to set in the same write, if it changes. */
  status?: InstrumentStatus;
}

export interface InstrumentOperation {
  /** `iop_...` for API operations, `saga_capture` / `saga_void` for the checkout saga's steps. */
  id: string;
  kind: InstrumentOperationKind;
  pspAction: PspAction;
  /** Sent to the PSP (the void releases whatever remains, so its amount is informational). */
  pspAmount: number;
  /** Derived from the ledger row, so a resumed operation replays at the PSP instead of paying twice. */
  pspIdempotencyKey: string;
  /** For `authorize` only: the PSP token (never card data). */
  paymentToken?: string;
  status: InstrumentOperationStatus;
  /** Applied at reservation (debits; <= 0), undone if the PSP refuses. */
  reservation: BalanceChange;
  /** Applied when the PSP confirmed (credits; >= 0), plus the status the instrument moves to. */
  onSuccess: BalanceChange;
  /** Status to restore when the PSP refused (only set when the reservation changed the status). */
  statusOnFailure?: InstrumentStatus;
  /** PSP id of the movement (`op_...`) or authorization (`auth_...`), once known. */
  pspOperationId?: string;
  failureCode?: string;
  failureMessage?: string;
  /** The Idempotency-Key of the request that made it, if any. */
  idempotencyKey?: string;
  createdAt: string;
  settledAt?: string;
}

export interface FinancialInstrument {
  id: string; // fi_...
  merchantId: string;
  type: InstrumentType;
  status: InstrumentStatus;
  currency: string;
  /** The amount the instrument was created for. */
  amount: number;
  connector: string;
  /** The PSP authorization (`auth_...`); unset until a token instrument is authorized. */
  pspReference?: string;
  /** The `reference` the PSP files the authorization under (checkout id or instrument id). */
  pspPaymentReference: string;
  /** Set when the checkout saga created the instrument. */
  checkoutId?: string;
  metadata?: Record<string, unknown>;
  capturableAmount: number;
  refundableAmount: number;
  pendingCaptures: number;
  /** By operation id. */
  operations: Record<string, InstrumentOperation>;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** One row of `transactions[]`, NewStore's unit of reporting: signed deltas of the two balances. */
export interface InstrumentTransaction {
  /** The PSP reference of the movement when there is one (seed advice), else the operation id. */
  transactionId: string;
  operationId: string;
  type: 'authorization' | 'capture' | 'refund' | 'revoke' | 'dispute';
  captureAmount: number;
  refundAmount: number;
  currency: string;
  status: InstrumentOperationStatus;
  pspReference?: string;
  failureCode?: string;
  createdAt: string;
}

/** Port: financial instruments and their operations (lambdas/adapters/dynamo-instrument-repository.ts). */
import type { ReservationGuard } from '../domain/instrument-ledger';
import type { BalanceChange, FinancialInstrument, InstrumentOperation } from '../domain/instrument-model';

export type CreateInstrumentResult =
  | { kind: 'created'; instrument: FinancialInstrument }
  /** The id exists already (a re-run): the stored instrument. */
  | { kind: 'exists'; instrument: FinancialInstrument }
  /** Another instrument already stands for this PSP authorization. */
  | { kind: 'psp_reference_taken'; instrumentId: string };

export type ReserveOperationResult =
  | { kind: 'reserved'; instrument: FinancialInstrument }
  /** The operation id was reserved before (a resumed request or saga step): nothing changed. */
  | { kind: 'exists'; instrument: FinancialInstrument }
  /** The guard no longer held when the write landed (a concurrent operation moved the balance). */
  | { kind: 'refused'; instrument: FinancialInstrument };

export interface SettleOperationInput {
  instrumentId: string;
  operationId: string;
  /** From settlementChange(): credits on success, the reservation's reverse on failure. */
  change: BalanceChange;
  patch: Pick<InstrumentOperation, 'status' | 'settledAt'> &
    Partial<Pick<InstrumentOperation, 'pspOperationId' | 'failureCode' | 'failureMessage'>>;
  /** Token instruments learn their authorization id here. */
  pspReference?: string;
}

/**
 * Instruments and their operations, one item per instrument. Every balance move is one
 * conditional write on that item, so concurrent operations serialize in DynamoDB and a balance
 * can never go below zero.
 */
export interface InstrumentRepository {
  /** Creates the instrument and claims its PSP authorization (one instrument per authorization). */
  createInstrument(instrument: FinancialInstrument): Promise<CreateInstrumentResult>;
  getInstrument(instrumentId: string): Promise<FinancialInstrument | undefined>;
  /** Adds the pending operation and applies its reservation if `guard` holds and the id is new. */
  reserveOperation(
    instrumentId: string,
    operation: InstrumentOperation,
    guard: ReservationGuard,
    now: Date,
  ): Promise<ReserveOperationResult>;
  /** Settles a pending operation (status + balance change); a no-op returning the instrument if it is already settled. */
  settleOperation(input: SettleOperationInput, now: Date): Promise<FinancialInstrument>;
  /**
   * Optional: an operation whose PSP call was already answered, added as settled in ONE conditional
   * write (the guard and a new operation id, like reserveOperation; `change` is the reservation
   * plus the settlement). `reserved` means written; `exists` / `refused` as for reserveOperation.
   * Without it, callers reserve and settle in two writes.
   */
  reserveAndSettleOperation?(
    instrumentId: string,
    settled: InstrumentOperation,
    change: BalanceChange,
    guard: ReservationGuard,
    now: Date,
  ): Promise<ReserveOperationResult>;
  /** Optional: the id of the instrument standing for a PSP authorization (`pspReference` at `connector`), if any. */
  findInstrumentIdByPspReference?(connector: string, pspReference: string): Promise<string | undefined>;
}

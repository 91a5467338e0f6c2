/**
 * NewStore's view of Paystep's instrument ledger (docs/design.md, "NewStore adapter"), as pure
 * code: which rows of an operation NewStore receives (only real balance changes: succeeded and
 * non-zero), with the fields NewStore reads (`instrument_id`, `reason`, signed amounts), and the
 * cross-check of the transaction history NewStore sends with every call against our own ledger.
 * Amounts stay integer minor units here; the handler writes them as major-unit JSON numbers.
 *
 * The history is never trusted: Paystep's ledger decides every balance. A disagreement is only
 * reported (logged, and in the answer's metadata), because it means NewStore lost or invented a
 * transaction, which a human must look at.
 */
import { parseMajorUnits } from './money';
import { operationTransactions, sortedOperations } from './instrument-ledger';
import type { FinancialInstrument, InstrumentOperation, InstrumentTransaction } from './instrument-model';

/** NewStore's `reason` vocabulary. A dispute (a chargeback callback) has none: NewStore never receives it. */
export type NewStoreReason = 'authorization' | 'capture' | 'refund' | 'revoke';

export interface NewStoreTransaction {
  transactionId: string;
  instrumentId: string;
  reason: NewStoreReason;
  /** Signed minor units. */
  captureAmount: number;
  refundAmount: number;
  currency: string;
  createdAt: string;
  processedAt: string | null;
  paymentMethod: string | null;
  paymentWallet: string | null;
  /** Paystep's ids for support: the ledger operation and the PSP movement. */
  operationId: string;
  pspReference: string | null;
}

/** What a NewStore-created instrument remembers of NewStore's create call (kept in the instrument's metadata). */
export interface NewStoreInstrumentContext {
  account_id?: string;
  payment_method?: string;
  payment_wallet?: string;
}

/** The metadata key under which a NewStore-created instrument keeps its NewStoreInstrumentContext. */
export const NEWSTORE_METADATA_KEY = 'newstore';

const REASONS: Record<InstrumentTransaction['type'], NewStoreReason | undefined> = {
  authorization: 'authorization',
  capture: 'capture',
  refund: 'refund',
  revoke: 'revoke',
  dispute: undefined,
};

function contextOf(instrument: FinancialInstrument): NewStoreInstrumentContext {
  const stored = instrument.metadata?.[NEWSTORE_METADATA_KEY];
  return stored !== null && typeof stored === 'object' ? (stored as NewStoreInstrumentContext) : {};
}

/**
 * The rows NewStore receives for one operation: succeeded only (a pending or failed row would
 * apply amounts that never moved), non-zero only (a revoke with nothing left to release changes
 * no balance), never a dispute. A capture yields NewStore's two rows, (-X, 0) and (0, +X).
 */
export function newStoreTransactions(instrument: FinancialInstrument, operation: InstrumentOperation): NewStoreTransaction[] {
  if (operation.status !== 'succeeded') return [];
  const context = contextOf(instrument);
  const rows: NewStoreTransaction[] = [];
  for (const transaction of operationTransactions(instrument, operation)) {
    const reason = REASONS[transaction.type];
    if (reason === undefined || (transaction.captureAmount === 0 && transaction.refundAmount === 0)) continue;
    rows.push({
      transactionId: transaction.transactionId,
      instrumentId: instrument.id,
      reason,
      captureAmount: transaction.captureAmount,
      refundAmount: transaction.refundAmount,
      currency: instrument.currency,
      createdAt: transaction.createdAt,
      processedAt: operation.settledAt ?? null,
      paymentMethod: context.payment_method ?? null,
      paymentWallet: context.payment_wallet ?? null,
      operationId: operation.id,
      pspReference: transaction.pspReference ?? null,
    });
  }
  return rows;
}

/** Every row NewStore should hold for the operations that came before `operationId` (the ledger NewStore's history must match). */
export function newStoreHistoryBefore(instrument: FinancialInstrument, operationId: string): NewStoreTransaction[] {
  const operations = sortedOperations(instrument);
  const index = operations.findIndex((operation) => operation.id === operationId);
  const earlier = index === -1 ? operations : operations.slice(0, index);
  return earlier.flatMap((operation) => newStoreTransactions(instrument, operation));
}

export interface HistoryCheck {
  /** `not_sent`: the request had no `transactions` array (tolerated, nothing to compare). */
  status: 'consistent' | 'mismatch' | 'not_sent';
  /** Sums in minor units: what NewStore's history adds up to, and what Paystep's ledger says. */
  newstore: { capturable: number; refundable: number };
  paystep: { capturable: number; refundable: number };
  /** NewStore rows Paystep never answered (or answered for another instrument). */
  unknownTransactionIds: string[];
  /** Paystep rows missing from NewStore's history. */
  missingTransactionIds: string[];
  /** Rows both know, with different amounts or currency. */
  differingTransactionIds: string[];
  /** NewStore rows that could not be read (no id, amounts that are not exact numbers in the currency). */
  unreadable: number;
}

interface ReadRow {
  id: string;
  captureAmount: number;
  refundAmount: number;
}

/** Reads a JSON number as exact minor units: `numberText` gives its text (lossless parsing keeps it). */
function readAmount(value: unknown, currency: string, numberText: (value: unknown) => string | undefined): number | undefined {
  const text = numberText(value);
  if (text === undefined) return undefined;
  const parsed = parseMajorUnits(text, currency);
  return parsed.ok ? parsed.minor : undefined;
}

function readRow(
  entry: unknown,
  instrument: FinancialInstrument,
  numberText: (value: unknown) => string | undefined,
): ReadRow | 'foreign' | undefined {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return undefined;
  const row = entry as Record<string, unknown>;
  const id = row['transaction_id'];
  if (typeof id !== 'string' || id === '') return undefined;
  const instrumentId = row['instrument_id'];
  if (instrumentId !== undefined && instrumentId !== null && instrumentId !== instrument.id) return 'foreign';
  const currency = row['currency'];
  if (
    currency !== undefined &&
    currency !== null &&
    (typeof currency !== 'string' || currency.toUpperCase() !== instrument.currency)
  )
    return undefined;
  const captureAmount =
    row['capture_amount'] === undefined || row['capture_amount'] === null
      ? 0
      : readAmount(row['capture_amount'], instrument.currency, numberText);
  const refundAmount =
    row['refund_amount'] === undefined || row['refund_amount'] === null
      ? 0
      : readAmount(row['refund_amount'], instrument.currency, numberText);
  if (captureAmount === undefined || refundAmount === undefined) return undefined;
  return { id, captureAmount, refundAmount };
}

/**
 * Compares the history NewStore sent (`transactions` of the request, as parsed) with Paystep's rows
 * for the operations before this one. Consistent when both hold the same transaction ids with the
 * same amounts (hence the same balances). `numberText` returns a JSON number's exact text.
 */
export function checkNewStoreHistory(
  sent: unknown,
  instrument: FinancialInstrument,
  operationId: string,
  numberText: (value: unknown) => string | undefined,
): HistoryCheck {
  const ours = newStoreHistoryBefore(instrument, operationId);
  const paystep = {
    capturable: ours.reduce((sum, row) => sum + row.captureAmount, 0),
    refundable: ours.reduce((sum, row) => sum + row.refundAmount, 0),
  };
  const empty = (): Pick<
    HistoryCheck,
    'unknownTransactionIds' | 'missingTransactionIds' | 'differingTransactionIds' | 'unreadable'
  > => ({
    unknownTransactionIds: [],
    missingTransactionIds: [],
    differingTransactionIds: [],
    unreadable: 0,
  });
  if (!Array.isArray(sent)) return { status: 'not_sent', newstore: { capturable: 0, refundable: 0 }, paystep, ...empty() };

  const byId = new Map(ours.map((row) => [row.transactionId, row]));
  const seen = new Set<string>();
  const check: HistoryCheck = { status: 'consistent', newstore: { capturable: 0, refundable: 0 }, paystep, ...empty() };
  for (const entry of sent) {
    const row = readRow(entry, instrument, numberText);
    if (row === undefined) {
      check.unreadable += 1;
      continue;
    }
    if (row === 'foreign') {
      check.unknownTransactionIds.push(String((entry as Record<string, unknown>)['transaction_id']));
      continue;
    }
    check.newstore.capturable += row.captureAmount;
    check.newstore.refundable += row.refundAmount;
    const known = byId.get(row.id);
    if (known === undefined || seen.has(row.id)) {
      check.unknownTransactionIds.push(row.id);
    } else if (known.captureAmount !== row.captureAmount || known.refundAmount !== row.refundAmount) {
      check.differingTransactionIds.push(row.id);
    }
    seen.add(row.id);
  }
  check.missingTransactionIds = ours.filter((row) => !seen.has(row.transactionId)).map((row) => row.transactionId);
  const agrees =
    check.unreadable === 0 &&
    check.unknownTransactionIds.length === 0 &&
    check.missingTransactionIds.length === 0 &&
    check.differingTransactionIds.length === 0 &&
    check.newstore.capturable === paystep.capturable &&
    check.newstore.refundable === paystep.refundable;
  check.status = agrees ? 'consistent' : 'mismatch';
  return check;
}

/**
 * NewStore's view of the instrument ledger: which rows an operation answers (only real balance
 * changes, with instrument_id and reason) and the cross-check of the history NewStore sends.
 */
import { describe, expect, it } from 'vitest';
import {
  applyChange,
  newAuthorizedInstrument,
  planOperation,
  settlementChange,
  type OperationRequest,
} from '../../../lambdas/domain/instrument-ledger';
import type { FinancialInstrument, InstrumentOperation } from '../../../lambdas/domain/instrument-model';
import { checkNewStoreHistory, newStoreTransactions, type NewStoreTransaction } from '../../../lambdas/domain/newstore-ledger';

const NOW = new Date('2026-03-01T10:00:00.000Z');
let sequence = 0;

function authorized(amount = 10000): FinancialInstrument {
  return newAuthorizedInstrument({
    id: 'fi_1',
    merchantId: 'mer_1',
    amount,
    currency: 'USD',
    connector: 'sandbox',
    now: NOW,
    type: 'authorized',
    pspReference: 'auth_1',
    pspPaymentReference: 'ord_1',
    metadata: { newstore: { payment_method: 'credit_card' } },
  });
}

/** Plans, reserves and settles (or leaves pending) one operation, as the use case does. */
function apply(
  instrument: FinancialInstrument,
  request: OperationRequest,
  outcome: 'succeeded' | 'failed' | 'pending' = 'succeeded',
): { instrument: FinancialInstrument; operation: InstrumentOperation } {
  sequence += 1;
  const id = `iop_${String(sequence).padStart(4, '0')}`;
  const { operation } = planOperation(instrument, request, { operationId: id, now: new Date(NOW.getTime() + sequence) });
  let next = { ...applyChange(instrument, operation.reservation), operations: { ...instrument.operations, [id]: operation } };
  if (outcome !== 'pending') {
    next = applyChange(next, settlementChange(operation, outcome));
    next.operations[id] = {
      ...operation,
      status: outcome,
      settledAt: NOW.toISOString(),
      ...(outcome === 'succeeded' ? { pspOperationId: `op_${id}` } : {}),
    };
  }
  return { instrument: next, operation: next.operations[id]! };
}

const text = (value: unknown): string | undefined => (typeof value === 'number' ? String(value) : undefined);

/** The rows as NewStore holds them (major-unit numbers). */
function asSent(rows: NewStoreTransaction[]): Record<string, unknown>[] {
  return rows.map((row) => ({
    transaction_id: row.transactionId,
    instrument_id: row.instrumentId,
    capture_amount: row.captureAmount / 100,
    refund_amount: row.refundAmount / 100,
    currency: row.currency,
    reason: row.reason,
  }));
}

describe('newStoreTransactions', () => {
  it('answers a capture as (-X, 0) and (0, +X) with instrument_id, reason and the payment method', () => {
    // Act
    const { instrument, operation } = apply(authorized(), { kind: 'capture', amount: 5000, currency: 'USD' });
    const rows = newStoreTransactions(instrument, operation);
    // Assess
    expect(rows.map((row) => [row.reason, row.captureAmount, row.refundAmount, row.instrumentId, row.paymentMethod])).toEqual([
      ['capture', -5000, 0, 'fi_1', 'credit_card'],
      ['capture', 0, 5000, 'fi_1', 'credit_card'],
    ]);
    expect(rows[0]!.processedAt).toBe(NOW.toISOString());
  });

  it('answers nothing for a pending or failed operation, or a revoke with nothing left to release', () => {
    // Prepare
    const pending = apply(authorized(), { kind: 'capture', amount: 100, currency: 'USD' }, 'pending');
    const failed = apply(authorized(), { kind: 'capture', amount: 100, currency: 'USD' }, 'failed');
    const captured = apply(authorized(), { kind: 'capture', amount: 10000, currency: 'USD' });
    const emptyRevoke = apply(captured.instrument, { kind: 'revoke' });
    // Act / Assess
    expect(newStoreTransactions(pending.instrument, pending.operation)).toEqual([]);
    expect(newStoreTransactions(failed.instrument, failed.operation)).toEqual([]);
    expect(newStoreTransactions(emptyRevoke.instrument, emptyRevoke.operation)).toEqual([]);
    expect(emptyRevoke.operation.status).toBe('succeeded');
  });
});

describe('checkNewStoreHistory', () => {
  function twoSteps() {
    const created = authorized();
    const creation = Object.values(created.operations)[0]!;
    const capture = apply(created, { kind: 'capture', amount: 3000, currency: 'USD' });
    const refund = apply(capture.instrument, { kind: 'refund', amount: 1000, currency: 'USD' });
    const history = [
      ...newStoreTransactions(refund.instrument, creation),
      ...newStoreTransactions(refund.instrument, capture.operation),
    ];
    return { instrument: refund.instrument, refund: refund.operation, history };
  }

  it('is consistent when NewStore holds exactly the rows answered before this operation', () => {
    const { instrument, refund, history } = twoSteps();
    const check = checkNewStoreHistory(asSent(history), instrument, refund.id, text);
    expect(check).toMatchObject({
      status: 'consistent',
      newstore: { capturable: 7000, refundable: 3000 },
      paystep: { capturable: 7000, refundable: 3000 },
    });
  });

  it('reports an invented, an altered, a missing and an unreadable row, and another instrument’s row', () => {
    // Prepare
    const { instrument, refund, history } = twoSteps();
    const sent = asSent(history);
    const altered = { ...sent[1], capture_amount: -31 };
    const invented = { transaction_id: 'txn_x', capture_amount: 1, refund_amount: 0 };
    const foreign = { ...sent[0], instrument_id: 'fi_other', transaction_id: 'txn_y' };
    const unreadable = { transaction_id: 'txn_z', capture_amount: 0.001 };
    // Act
    const check = checkNewStoreHistory([sent[0], altered, invented, foreign, unreadable], instrument, refund.id, text);
    // Assess
    expect(check).toMatchObject({
      status: 'mismatch',
      newstore: { capturable: 10000 - 3100 + 100, refundable: 0 },
      paystep: { capturable: 7000, refundable: 3000 },
      unknownTransactionIds: ['txn_x', 'txn_y'],
      differingTransactionIds: [history[1]!.transactionId],
      missingTransactionIds: [history[2]!.transactionId],
      unreadable: 1,
    });
  });

  it('counts a row sent twice as unknown the second time', () => {
    const { instrument, refund, history } = twoSteps();
    const sent = asSent(history);
    expect(checkNewStoreHistory([...sent, sent[0]], instrument, refund.id, text)).toMatchObject({
      status: 'mismatch',
      unknownTransactionIds: [history[0]!.transactionId],
    });
  });

  it('tolerates a request without transactions (not_sent) and a create with an empty history (consistent)', () => {
    const { instrument, refund } = twoSteps();
    const creation = Object.values(instrument.operations).find((operation) => operation.kind === 'create')!;
    expect(checkNewStoreHistory(undefined, instrument, refund.id, text).status).toBe('not_sent');
    expect(checkNewStoreHistory([], instrument, creation.id, text).status).toBe('consistent');
  });
});

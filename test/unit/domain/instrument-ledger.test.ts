/**
 * The instrument ledger rules in isolation: the seed's workflow tables replayed through
 * planOperation / settlementChange (every request's capture and refund amounts), the precise 4xx
 * for over-balance, wrong currency and revoked instruments, compensation that restores balances
 * exactly, and the invariant that the stored balances equal the sum of the transactions.
 */
import { describe, expect, it } from 'vitest';
import {
  applyChange,
  assertAuthorizationFits,
  balancesFromTransactions,
  guardHolds,
  instrumentIdForCheckout,
  instrumentTransactions,
  newAuthorizedInstrument,
  newTokenInstrument,
  operationTransactions,
  planOperation,
  settlementChange,
  type OperationRequest,
} from '../../../lambdas/domain/instrument-ledger';
import type { FinancialInstrument } from '../../../lambdas/domain/instrument-model';
import { ConflictError, ValidationError } from '../../../lambdas/errors';
import { expectedBalances, INSTRUMENT_SCENARIOS, type InstrumentScenario } from '../../support/instrument-scenarios';

const NOW = new Date('2026-03-01T10:00:00.000Z');
let sequence = 0;

function instrumentFor(type: InstrumentScenario['type'], amount = 10000): FinancialInstrument {
  const base = { id: 'fi_1', merchantId: 'mer_1', amount, currency: 'USD', connector: 'sandbox', now: NOW };
  if (type === 'token') {
    // Created pending; the authorization settles it.
    const pending = newTokenInstrument({ ...base, paymentToken: 'tok_1' });
    const creation = Object.values(pending.operations)[0]!;
    return settle(pending, creation.id, 'succeeded');
  }
  return newAuthorizedInstrument({ ...base, type, pspReference: 'auth_1', pspPaymentReference: 'ord_1' });
}

function settle(instrument: FinancialInstrument, operationId: string, outcome: 'succeeded' | 'failed'): FinancialInstrument {
  const operation = instrument.operations[operationId]!;
  const next = applyChange(instrument, settlementChange(operation, outcome));
  return {
    ...next,
    operations: {
      ...instrument.operations,
      [operationId]: {
        ...operation,
        status: outcome,
        ...(outcome === 'succeeded' ? { pspOperationId: `op_${operationId}` } : {}),
      },
    },
  };
}

/** Plan, reserve (with the guard), settle: what the use case does, without the PSP. */
function run(instrument: FinancialInstrument, request: OperationRequest, outcome: 'succeeded' | 'failed' = 'succeeded') {
  sequence += 1;
  const operationId = `iop_${String(sequence).padStart(4, '0')}`;
  const { operation, guard } = planOperation(instrument, request, { operationId, now: new Date(NOW.getTime() + sequence) });
  expect(guardHolds(instrument, guard)).toBe(true);
  const reserved = {
    ...applyChange(instrument, operation.reservation),
    operations: { ...instrument.operations, [operationId]: operation },
  };
  const settled = settle(reserved, operationId, outcome);
  return { reserved, settled, operation: settled.operations[operationId]! };
}

function requestOf(step: InstrumentScenario['steps'][number]): OperationRequest {
  if (step.request === 'revoke') return { kind: 'revoke' };
  return { kind: step.request as 'capture' | 'refund', amount: step.amount!, currency: 'USD' };
}

describe('the seed workflow tables', () => {
  describe.each(INSTRUMENT_SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s', (_name, scenario) => {
    it('answers every request with the capture and refund amounts of the table', () => {
      // Prepare
      let instrument = instrumentFor(scenario.type, scenario.amount);
      const [first, ...rest] = scenario.steps;
      // Assess the creation column
      const created = instrumentTransactions(instrument);
      expect(created.map((t) => [t.captureAmount, t.refundAmount])).toEqual(first!.transactions);
      // Act + Assess each later column
      rest.forEach((step, index) => {
        const { settled, operation } = run(instrument, requestOf(step));
        const transactions = operationTransactions(settled, operation);
        expect(
          transactions.map((t) => [t.captureAmount, t.refundAmount]),
          step.context,
        ).toEqual(step.transactions);
        expect(transactions.reduce((sum, t) => sum + t.captureAmount, 0)).toBe(step.capture);
        expect(transactions.reduce((sum, t) => sum + t.refundAmount, 0)).toBe(step.refund);
        const expected = expectedBalances(scenario, index + 1);
        expect({ capturable: settled.capturableAmount, refundable: settled.refundableAmount }).toEqual(expected);
        expect(balancesFromTransactions(settled)).toEqual(expected);
        instrument = settled;
      });
    });
  });

  it('revokes a captured instrument by refunding at the PSP, and an authorized one by voiding', () => {
    // Prepare
    const captured = instrumentFor('captured');
    const authorized = instrumentFor('authorized');
    // Act
    const capturedPlan = planOperation(captured, { kind: 'revoke' }, { operationId: 'iop_a', now: NOW });
    const authorizedPlan = planOperation(authorized, { kind: 'revoke' }, { operationId: 'iop_b', now: NOW });
    // Assess
    expect(capturedPlan.operation).toMatchObject({ pspAction: 'refund', pspAmount: 10000 });
    expect(authorizedPlan.operation).toMatchObject({ pspAction: 'void', pspAmount: 10000, pspIdempotencyKey: 'fi_1:iop_b' });
  });

  it('confirms a capture on a captured instrument without a PSP call', () => {
    const { operation } = planOperation(
      instrumentFor('captured'),
      { kind: 'capture', amount: 100, currency: 'USD' },
      { operationId: 'iop_c', now: NOW },
    );
    expect(operation.pspAction).toBe('none');
  });
});

describe('refusals', () => {
  const active = instrumentFor('authorized');

  it.each([
    [
      'capture over the capturable amount',
      { kind: 'capture', amount: 10001, currency: 'USD' },
      'amount_exceeds_capturable',
      'amount',
    ],
    ['refund over the refundable amount', { kind: 'refund', amount: 1, currency: 'USD' }, 'amount_exceeds_refundable', 'amount'],
    ['capture in another currency', { kind: 'capture', amount: 100, currency: 'EUR' }, 'currency_mismatch', 'currency'],
    ['refund in another currency', { kind: 'refund', amount: 100, currency: 'EUR' }, 'currency_mismatch', 'currency'],
    ['revoke naming another currency', { kind: 'revoke', currency: 'EUR' }, 'currency_mismatch', 'currency'],
    ['zero amount', { kind: 'capture', amount: 0, currency: 'USD' }, 'invalid_amount', 'amount'],
    ['negative amount', { kind: 'refund', amount: -5, currency: 'USD' }, 'invalid_amount', 'amount'],
    ['fractional amount', { kind: 'capture', amount: 10.5, currency: 'USD' }, 'invalid_amount', 'amount'],
  ] as [string, OperationRequest, string, string][])('%s is a 422 %s', (_name, request, code, param) => {
    let caught: unknown;
    try {
      planOperation(active, request, { operationId: 'iop_x', now: NOW });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect(caught).toMatchObject({ status: 422, code, param });
  });

  it('refuses capture and revoke on a revoked instrument (409 instrument_voided) but still refunds what was captured', () => {
    // Prepare: capture half, revoke the rest
    const captured = run(active, { kind: 'capture', amount: 4000, currency: 'USD' }).settled;
    const revoked = run(captured, { kind: 'revoke' }).settled;
    // Act + Assess
    expect(revoked).toMatchObject({ status: 'voided', capturableAmount: 0, refundableAmount: 4000 });
    for (const request of [{ kind: 'capture', amount: 1, currency: 'USD' }, { kind: 'revoke' }] as OperationRequest[]) {
      expect(() => planOperation(revoked, request, { operationId: 'iop_y', now: NOW })).toThrow(
        expect.objectContaining({ status: 409, code: 'instrument_voided' }) as Error,
      );
    }
    expect(run(revoked, { kind: 'refund', amount: 4000, currency: 'USD' }).settled.refundableAmount).toBe(0);
  });

  it('keeps the saga-held (pending) instrument away from the API', () => {
    const held = { ...active, status: 'pending' as const, checkoutId: 'chk_1' };
    expect(() => planOperation(held, { kind: 'refund', amount: 1, currency: 'USD' }, { operationId: 'iop_z', now: NOW })).toThrow(
      ConflictError,
    );
  });

  it('refuses a revoke while a capture is between reservation and settlement', () => {
    const { reserved } = run(active, { kind: 'capture', amount: 100, currency: 'USD' });
    expect(reserved.pendingCaptures).toBe(1);
    expect(() => planOperation(reserved, { kind: 'revoke' }, { operationId: 'iop_r', now: NOW })).toThrow(
      expect.objectContaining({ code: 'operation_in_progress' }) as Error,
    );
  });
});

describe('reservation and compensation', () => {
  it('debits before the PSP call and restores exactly when the PSP refuses (the transaction is failed)', () => {
    // Prepare
    const captured = run(instrumentFor('authorized'), { kind: 'capture', amount: 10000, currency: 'USD' }).settled;
    // Act
    const { reserved, settled, operation } = run(captured, { kind: 'refund', amount: 2500, currency: 'USD' }, 'failed');
    // Assess
    expect(reserved.refundableAmount).toBe(7500);
    expect(settled.refundableAmount).toBe(10000);
    expect(operationTransactions(settled, operation)).toMatchObject([{ status: 'failed', refundAmount: -2500 }]);
    expect(balancesFromTransactions(settled)).toEqual({ capturable: 0, refundable: 10000 });
  });

  it('restores the status when a revoke is refused by the PSP', () => {
    const { reserved, settled } = run(instrumentFor('authorized'), { kind: 'revoke' }, 'failed');
    expect(reserved.status).toBe('voided');
    expect(settled).toMatchObject({ status: 'active', capturableAmount: 10000 });
  });

  it('a guard evaluated on a stale read fails once a concurrent refund took the balance', () => {
    const captured = run(instrumentFor('authorized'), { kind: 'capture', amount: 1000, currency: 'USD' }).settled;
    const { guard } = planOperation(
      captured,
      { kind: 'refund', amount: 600, currency: 'USD' },
      { operationId: 'iop_1', now: NOW },
    );
    const afterOther = run(captured, { kind: 'refund', amount: 600, currency: 'USD' }).settled;
    expect(guardHolds(afterOther, guard)).toBe(false);
  });
});

describe('creation', () => {
  it('a token instrument is pending with nothing capturable until its authorization succeeds', () => {
    const pending = newTokenInstrument({
      id: 'fi_t',
      merchantId: 'mer_1',
      amount: 700,
      currency: 'USD',
      connector: 'sandbox',
      paymentToken: 'tok_9',
      now: NOW,
    });
    const creation = Object.values(pending.operations)[0]!;
    expect(pending).toMatchObject({ status: 'pending', capturableAmount: 0, pspPaymentReference: 'fi_t' });
    expect(creation).toMatchObject({ pspAction: 'authorize', pspIdempotencyKey: 'fi_t:authorize', status: 'pending' });
    expect(settle(pending, creation.id, 'failed').status).toBe('failed');
    expect(settle(pending, creation.id, 'succeeded')).toMatchObject({ status: 'active', capturableAmount: 700 });
  });

  it.each([
    ['authorized', { currency: 'USD', reference: 'r', capturableAmount: 999, refundableAmount: 0 }, 'amount_exceeds_capturable'],
    ['captured', { currency: 'USD', reference: 'r', capturableAmount: 0, refundableAmount: 999 }, 'amount_exceeds_refundable'],
    ['authorized', { currency: 'EUR', reference: 'r', capturableAmount: 5000, refundableAmount: 0 }, 'currency_mismatch'],
  ] as const)('validates a %s instrument against the PSP (%j -> %s)', (type, facts, code) => {
    expect(() => assertAuthorizationFits(type, 1000, 'USD', facts)).toThrow(
      expect.objectContaining({ status: 422, code }) as Error,
    );
  });

  it('derives the saga instrument id from the checkout id', () => {
    expect(instrumentIdForCheckout('chk_abc')).toBe('fi_abc');
  });
});

/**
 * The shared money-invariant checker (test/support/money-invariants.ts) on hand-made ledgers:
 * automatic capture keeps its strict rules; a manual-capture checkout may succeed with a live
 * authorization and nothing (or part) captured, but only after the inventory confirmation.
 */
import { describe, expect, it } from 'vitest';
import type { LedgerOperation } from '../../../local/sandbox-psp/ledger';
import { moneyInvariantViolations, type CheckoutForInvariants } from '../../support/money-invariants';

function op(type: LedgerOperation['type'], amount: number, created: string): LedgerOperation {
  return {
    id: `op_${type}_${created}`,
    type,
    amount,
    currency: 'USD',
    status: 'succeeded',
    reference: 'chk_1',
    idempotency_key: `k_${type}`,
    authorization_id: 'auth_1',
    failure_code: null,
    created,
  };
}

const confirmedAndHeld = [
  { type: 'authorized', at: '2026-01-01T00:00:01.000Z' },
  { type: 'inventory_confirmed', at: '2026-01-01T00:00:02.000Z' },
  { type: 'authorization_held', at: '2026-01-01T00:00:03.000Z' },
  { type: 'succeeded', at: '2026-01-01T00:00:04.000Z' },
];

const manual = (overrides: Partial<CheckoutForInvariants> = {}): CheckoutForInvariants => ({
  id: 'chk_1',
  amount: 1000,
  status: 'succeeded',
  events: confirmedAndHeld,
  confirmationRequired: true,
  captureMethod: 'manual',
  ...overrides,
});

describe('moneyInvariantViolations with manual capture', () => {
  it('accepts a succeeded checkout with nothing captured and the authorization held', () => {
    expect(moneyInvariantViolations(manual(), [op('authorize', 1000, '2026-01-01T00:00:01.000Z')])).toEqual([]);
  });

  it('accepts partial captures by the merchant and the remainder voided at expiry', () => {
    const ledger = [
      op('authorize', 1000, '2026-01-01T00:00:01.000Z'),
      op('capture', 300, '2026-01-01T00:00:05.000Z'),
      op('capture', 200, '2026-01-01T00:00:06.000Z'),
      op('void', 500, '2026-01-01T00:00:09.000Z'),
    ];
    expect(moneyInvariantViolations(manual(), ledger)).toEqual([]);
  });

  it('flags a hold that was never confirmed, and one never handed over', () => {
    // Prepare
    const ledger = [op('authorize', 1000, '2026-01-01T00:00:01.000Z')];
    const unconfirmed = manual({ events: confirmedAndHeld.filter((event) => event.type !== 'inventory_confirmed') });
    const notHeld = manual({ events: confirmedAndHeld.filter((event) => event.type !== 'authorization_held') });
    // Act + Assess
    expect(moneyInvariantViolations(unconfirmed, ledger)).toEqual([
      'chk_1: authorization held for manual capture without an inventory confirmation',
    ]);
    expect(moneyInvariantViolations(notHeld, ledger)).toEqual([
      'chk_1: manual capture succeeded without handing the authorization over',
    ]);
  });

  it('still flags over-capture and a failed manual checkout left authorized', () => {
    expect(
      moneyInvariantViolations(manual(), [
        op('authorize', 1000, '2026-01-01T00:00:01.000Z'),
        op('capture', 1001, '2026-01-01T00:00:05.000Z'),
      ]),
    ).toEqual(['chk_1: captured 1001 > amount 1000']);
    expect(moneyInvariantViolations(manual({ status: 'failed' }), [op('authorize', 1000, '2026-01-01T00:00:01.000Z')])).toEqual([
      'chk_1: authorization left neither captured nor voided',
    ]);
  });

  it('keeps the automatic rules: succeeded means fully captured, once', () => {
    const automatic = manual({ captureMethod: 'automatic' });
    expect(moneyInvariantViolations(automatic, [op('authorize', 1000, '2026-01-01T00:00:01.000Z')])).toEqual([
      'chk_1: authorization left neither captured nor voided',
      'chk_1: succeeded with 0 captured of 1000',
    ]);
  });
});

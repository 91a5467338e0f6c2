/**
 * Another card after a decline, as pure rules: which failures reopen the checkout, the try-scoped
 * keys and execution names (try 1 keeps Part 1's), and which tries publish payment.failed.
 */
import { describe, expect, it } from 'vitest';
import { executionNameForTry, reopenedTries, reopensForAnotherCard, tryScopedKey } from '../../../lambdas/domain/payment-tries';
import { aPayment } from '../../support/payments';

describe('reopensForAnotherCard', () => {
  it.each([
    [1, undefined, 'payment_declined', false],
    [3, undefined, 'payment_declined', true],
    [3, 2, 'authentication_failed', true],
    [3, 3, 'payment_declined', false],
    [3, 1, 'inventory_rejected', false],
    [3, 1, 'psp_error', false],
  ] as const)('max %s, try %s, %s -> %s', (maxPaymentAttempts, tries, reason, expected) => {
    // Prepare
    const payment = { ...aPayment({ paymentToken: 'tok_1' }), ...(tries !== undefined ? { tries } : {}) };
    // Act + Assess
    expect(reopensForAnotherCard({ maxPaymentAttempts, payment }, reason)).toBe(expected);
  });
});

describe('try-scoped names', () => {
  it("keeps Part 1's key and execution name for the first try and names later tries", () => {
    expect(tryScopedKey('chk_1', 1, 'authorize')).toBe('chk_1:authorize');
    expect(tryScopedKey('chk_1', 2, 'authorize')).toBe('chk_1:t2:authorize');
    expect(executionNameForTry('chk_1', 1)).toBe('chk_1');
    expect(executionNameForTry('chk_1', 4)).toBe('chk_1-t4');
  });
});

describe('reopenedTries', () => {
  it('counts the tries that reopened the checkout: the current one only while it is open', () => {
    const payment = { ...aPayment({ paymentToken: 'tok_1' }), tries: 2 };
    expect(reopenedTries({ status: 'open', payment })).toEqual([1, 2]);
    expect(reopenedTries({ status: 'processing', payment })).toEqual([1]);
    expect(reopenedTries({ status: 'failed', payment: aPayment({ paymentToken: 'tok_1' }) })).toEqual([]);
    expect(reopenedTries({ status: 'open', payment: undefined })).toEqual([]);
  });
});

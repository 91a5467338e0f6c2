import { describe, expect, it } from 'vitest';
import { assertTransition, canTransition, CHECKOUT_STATUSES, isTerminal } from '../../../lambdas/domain/checkout-status';
import type { CheckoutStatus } from '../../../lambdas/domain/model';
import { InvalidTransitionError } from '../../../lambdas/errors';

// processing -> open: a declined try with tries left reopens the checkout for another card (DESIGN Part 2).
const ALLOWED = new Set([
  'open>processing',
  'open>expired',
  'open>canceled',
  'processing>succeeded',
  'processing>failed',
  'processing>open',
]);

describe('checkout status machine', () => {
  const pairs: [CheckoutStatus, CheckoutStatus][] = CHECKOUT_STATUSES.flatMap((from) =>
    CHECKOUT_STATUSES.map((to): [CheckoutStatus, CheckoutStatus] => [from, to]),
  );

  it.each(pairs)('%s -> %s follows the contract', (from, to) => {
    // Prepare
    const allowed = ALLOWED.has(`${from}>${to}`);
    // Act / Assess
    expect(canTransition(from, to)).toBe(allowed);
    if (allowed) expect(() => assertTransition(from, to)).not.toThrow();
    else expect(() => assertTransition(from, to)).toThrow(InvalidTransitionError);
  });

  it('has exactly four terminal statuses, none with exits', () => {
    // Act
    const terminal = CHECKOUT_STATUSES.filter(isTerminal);
    // Assess
    expect(terminal.sort()).toEqual(['canceled', 'expired', 'failed', 'succeeded']);
    for (const status of terminal) expect(CHECKOUT_STATUSES.some((to) => canTransition(status, to))).toBe(false);
  });

  it('reports the refused transition in the error', () => {
    expect(() => assertTransition('succeeded', 'failed')).toThrow('A checkout cannot move from succeeded to failed');
  });
});

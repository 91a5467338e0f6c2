/**
 * Which payment method may pay which checkout (the pay path's gate), and the revealed card's
 * redaction in every way a card could end up in a log line.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decidePaymentMethodUse, SensitiveCard, type PaymentMethod } from '../../../lambdas/domain/payment-method';

const NOW = new Date('2026-11-30T12:00:00Z');

function paymentMethod(overrides: Partial<PaymentMethod> = {}): PaymentMethod {
  return {
    id: 'pm_1',
    merchantId: 'mer_1',
    type: 'card',
    card: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030, fingerprint: 'fp' },
    status: 'active',
    cvcAvailable: true,
    createdAt: NOW.toISOString(),
    ...overrides,
  };
}

describe('decidePaymentMethodUse', () => {
  it.each([
    ['a one-off payment method on its own checkout', {}, { checkoutId: 'chk_1', offSession: false }, undefined],
    [
      'a merchant-vaulted one-off on any checkout',
      { checkoutId: undefined },
      { checkoutId: 'chk_9', offSession: false },
      undefined,
    ],
    ['a one-off on another checkout', {}, { checkoutId: 'chk_2', offSession: false }, 'payment_method_checkout_mismatch'],
    ['a one-off off-session', {}, { checkoutId: 'chk_1', offSession: true }, 'payment_method_not_saved'],
    [
      'a saved one for its customer, off-session',
      { customerId: 'cus_1' },
      { checkoutId: 'chk_2', customerId: 'cus_1', offSession: true },
      undefined,
    ],
    [
      'a saved one for another customer',
      { customerId: 'cus_1' },
      { checkoutId: 'chk_2', customerId: 'cus_2', offSession: false },
      'payment_method_customer_mismatch',
    ],
    [
      'a saved one on a checkout without customer',
      { customerId: 'cus_1' },
      { checkoutId: 'chk_2', offSession: false },
      'payment_method_customer_mismatch',
    ],
    ['a detached one', { status: 'detached' as const }, { checkoutId: 'chk_1', offSession: false }, 'payment_method_detached'],
    [
      'a shredded one',
      { status: 'shredded' as const, customerId: 'cus_1' },
      { checkoutId: 'chk_1', customerId: 'cus_1', offSession: true },
      'payment_method_deleted',
    ],
    [
      'an expired one',
      { card: { brand: 'visa' as const, last4: '4242', expMonth: 10, expYear: 2026, fingerprint: 'fp' } },
      { checkoutId: 'chk_1', offSession: false },
      'payment_method_expired',
    ],
  ])('%s', (_what, overrides, use, refusal) => {
    // Act
    const decision = decidePaymentMethodUse(paymentMethod({ checkoutId: 'chk_1', ...overrides }), { ...use, now: NOW });
    // Assess
    expect(decision).toEqual(refusal === undefined ? { usable: true } : { usable: false, refusal });
  });
});

describe('SensitiveCard', () => {
  it('gives the number and CVC only through its reveal methods', () => {
    // Prepare
    const card = new SensitiveCard('pm_1', '4242424242424242', 12, 2030, '123');
    // Act
    const printed = [
      JSON.stringify(card),
      JSON.stringify({ nested: [card] }),
      `${card}`,
      String(card),
      inspect(card),
      inspect({ card }, { depth: 5 }),
      Object.keys(card).join(','),
    ];
    // Assess
    expect(card.revealNumber()).toBe('4242424242424242');
    expect(card.revealCvc()).toBe('123');
    for (const text of printed) {
      expect(text).not.toContain('4242424242424242');
      expect(text).not.toContain('123"');
    }
    expect(JSON.stringify(card)).toBe('"[card redacted]"');
  });
});

import { describe, expect, it, vi } from 'vitest';
import { expireIfDue, isExpiryDue } from '../../../lambdas/domain/checkout-expiry';
import type { Checkout } from '../../../lambdas/domain/model';
import type { CheckoutRepository } from '../../../lambdas/ports/checkouts';
import { InvalidTransitionError } from '../../../lambdas/errors';

const base: Checkout = {
  id: 'chk_1',
  merchantId: 'mer_1',
  merchantOrderRef: 'r',
  amount: 1,
  currency: 'USD',
  items: [{ sku: 'a', quantity: 1 }],
  successUrl: 'https://s',
  failureUrl: 'https://f',
  status: 'open',
  clientSecretHash: 'h',
  createdAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-01T00:00:00.000Z',
  expiresAt: '2030-01-01T01:00:00.000Z',
  version: 1,
};

function fakeRepository(overrides: Partial<CheckoutRepository>): CheckoutRepository {
  return {
    createCheckout: vi.fn(),
    getCheckout: vi.fn(),
    findCheckoutByOrderRef: vi.fn(),
    transitionCheckout: vi.fn(),
    updatePayment: vi.fn(),
    appendEvent: vi.fn(),
    listEvents: vi.fn(),
    ...overrides,
  } as CheckoutRepository;
}

describe('lazy expiry', () => {
  it('is due only for open checkouts at or past expiresAt', () => {
    expect(isExpiryDue(base, new Date('2030-01-01T00:59:59.999Z'))).toBe(false);
    expect(isExpiryDue(base, new Date('2030-01-01T01:00:00.000Z'))).toBe(true);
    expect(isExpiryDue({ ...base, status: 'processing' }, new Date('2031-01-01T00:00:00Z'))).toBe(false);
  });

  it('moves a due checkout to expired with failure_reason expired and a timeline row', async () => {
    // Prepare
    const expired = { ...base, status: 'expired' as const, failureReason: 'expired' as const, version: 2 };
    const transitionCheckout = vi.fn().mockResolvedValue(expired);
    const repository = fakeRepository({ transitionCheckout });
    // Act
    const result = await expireIfDue(repository, base, new Date('2030-01-02T00:00:00Z'));
    // Assess
    expect(result).toBe(expired);
    expect(transitionCheckout).toHaveBeenCalledWith(
      expect.objectContaining({
        from: ['open'],
        to: 'expired',
        patch: { failureReason: 'expired' },
        event: expect.objectContaining({ type: 'expired' }),
      }),
    );
  });

  it('returns the stored record when another writer moved the checkout first', async () => {
    // Prepare
    const processing = { ...base, status: 'processing' as const, version: 2 };
    const repository = fakeRepository({
      transitionCheckout: vi.fn().mockRejectedValue(new InvalidTransitionError('moved')),
      getCheckout: vi.fn().mockResolvedValue(processing),
    });
    // Act
    const result = await expireIfDue(repository, base, new Date('2030-01-02T00:00:00Z'));
    // Assess
    expect(result).toBe(processing);
  });

  it('leaves a checkout that is not due untouched', async () => {
    // Prepare
    const transitionCheckout = vi.fn();
    // Act
    const result = await expireIfDue(fakeRepository({ transitionCheckout }), base, new Date('2030-01-01T00:30:00Z'));
    // Assess
    expect(result).toBe(base);
    expect(transitionCheckout).not.toHaveBeenCalled();
  });
});

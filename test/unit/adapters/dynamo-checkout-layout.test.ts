import { describe, expect, it } from 'vitest';
import {
  ownerFromGsi2,
  paymentFromStorage,
  secretHashOf,
  storedSecretHash,
  rowFromStorage,
  storedPayment,
  storedRow,
} from '../../../lambdas/adapters/dynamo-checkout-layout';
import { dynamoItemBytes } from '../../../bench/capacity-units';
import type { CheckoutPayment } from '../../../lambdas/domain/model';
import { instrumentIdForCheckout } from '../../../lambdas/domain/instrument-ledger';

const OWNER = { id: 'chk_D6Argjj_KLa4nNv7c0eiPw', amount: 1000, currency: 'USD' };

/** A payment as the saga leaves it after a failover and a capture, every optional field used. */
function capturedPayment(): CheckoutPayment {
  return {
    paymentToken: 'tok_3c94de2711e705c416efbbf4',
    inventoryConfirmation: 'confirmed',
    instrumentId: instrumentIdForCheckout(OWNER.id),
    route: ['sandbox', 'stripe'],
    attempts: [
      {
        id: 'att_1',
        connector: 'sandbox',
        status: 'failed',
        amount: 1000,
        currency: 'USD',
        failureCode: 'psp_error',
        createdAt: '2026-12-01T10:15:37.735Z',
        updatedAt: '2026-12-01T10:15:37.800Z',
      },
      {
        id: 'att_2',
        connector: 'stripe',
        status: 'captured',
        amount: 999, // not the checkout's: kept
        currency: 'EUR',
        pspReference: 'pi_1',
        authorizedAmount: 999,
        authentication: { flow: 'challenge', liabilityShift: true } as never,
        createdAt: '2026-12-01T10:15:37.801Z',
        updatedAt: '2026-12-01T10:15:38+00:00', // not a toISOString(): kept as it was
        failoverFrom: 'att_1',
      },
    ],
  };
}

describe('compact checkout layout: payment attempts', () => {
  it('restores every attempt exactly, and stores the success-path attempt in fewer bytes', () => {
    // Prepare
    const payment = capturedPayment();
    // Act
    const stored = storedPayment(payment, OWNER);
    const restored = paymentFromStorage(JSON.parse(JSON.stringify(stored)) as Record<string, unknown>, OWNER);
    // Assess
    expect(restored).toEqual(payment);
    expect(stored).toMatchObject({ fi: true, pt: payment.paymentToken, ic: 'confirmed' });
    expect((stored['at'] as Record<string, unknown>[])[0]).not.toHaveProperty('a');
    expect((stored['at'] as Record<string, unknown>[])[1]).toMatchObject({ a: 999, cu: 'EUR', u: '2026-12-01T10:15:38+00:00' });
    expect(dynamoItemBytes({ payment: stored })).toBeLessThan(dynamoItemBytes({ payment }) * 0.7);
  });

  it('keeps an instrument id that is not the saga instrument of the checkout', () => {
    // Prepare
    const payment = { ...capturedPayment(), instrumentId: 'fi_merchant_claimed' };
    // Act
    const stored = storedPayment(payment, OWNER);
    // Assess
    expect(stored['fi']).toBe('fi_merchant_claimed');
    expect(paymentFromStorage(stored, OWNER)).toEqual(payment);
  });

  it('reads attempts stored in full by the previous layout as they were', () => {
    // Prepare
    const payment = capturedPayment();
    // Act
    const restored = paymentFromStorage(JSON.parse(JSON.stringify(payment)) as Record<string, unknown>, OWNER);
    // Assess
    expect(restored).toEqual(payment);
  });
});

describe('compact checkout layout: timeline rows', () => {
  const rows = [
    { type: 'payment_started', at: '2026-12-01T10:15:37.735Z', data: { connector: 'sandbox' } },
    {
      type: 'authorized',
      at: '2026-12-01T10:15:37.916Z',
      data: { amount: 1000, psp_reference: 'auth_2235ef34c1c89f1d0d57215c' },
    },
    {
      type: 'inventory_confirmed',
      at: '2026-12-01T10:15:37.974Z',
      data: { sent_at: '2026-12-01T10:15:37.966Z', http_status: 200, url: 'https://shop.example/inventory', latency_ms: 4 },
    },
    { type: 'captured', at: '2026-12-01T10:15:38.062Z', data: { amount: 1000, psp_operation_id: 'op_c79b391a98b07843410705e1' } },
    { type: 'succeeded', at: '2026-12-01T10:15:38.062Z' },
  ];

  it('restores every row exactly, in fewer bytes than the previous layout, the data under its own names', () => {
    // Act
    const stored = rows.map((row) => storedRow(row));
    const restored = (JSON.parse(JSON.stringify(stored)) as unknown[]).map((row) => rowFromStorage('chk_1', row));
    // Assess
    expect(restored).toEqual(rows.map((row) => ({ checkoutId: 'chk_1', ...row })));
    expect(stored[0]).toEqual(['0', Date.parse('2026-12-01T10:15:37.735Z'), { connector: 'sandbox' }]);
    expect(stored[2]?.[2]).toMatchObject({
      sent_at: Date.parse('2026-12-01T10:15:37.966Z'),
      url: 'https://shop.example/inventory',
    });
    expect(dynamoItemBytes({ events: stored })).toBeLessThan(dynamoItemBytes({ events: rows }) * 0.7);
  });

  it('keeps what it cannot restore exactly as it was: unknown types, non-canonical instants, a non-string instant', () => {
    // Prepare
    const odd = [
      { type: 'some_future_row', at: '2026-12-01T10:15:38Z', data: { reason: 'x', amount: 5 } },
      { type: 'inventory_confirmed', at: '2026-12-01T10:15:38.000Z', data: { sent_at: 17, url: 'u' } },
      { type: 'inventory_confirmed', at: '2026-12-01T10:15:38.000Z', data: { sent_at: 'yesterday' } },
    ];
    // Act
    const stored = odd.map((row) => storedRow(row));
    const restored = (JSON.parse(JSON.stringify(stored)) as unknown[]).map((row) => rowFromStorage('chk_1', row));
    // Assess
    expect(restored).toEqual(odd.map((row) => ({ checkoutId: 'chk_1', ...row })));
    expect(stored[0]).toEqual(['some_future_row', '2026-12-01T10:15:38Z', { reason: 'x', amount: 5 }]);
    expect(stored[1]).toEqual(['3', Date.parse('2026-12-01T10:15:38.000Z'), null, { sent_at: 17, url: 'u' }]);
    expect(stored[2]).toEqual(['3', Date.parse('2026-12-01T10:15:38.000Z'), { sent_at: 'yesterday' }]);
  });

  it('reads rows stored as maps by the previous layout', () => {
    // Act
    const restored = rows.map((row) => rowFromStorage('chk_1', row));
    // Assess
    expect(restored).toEqual(rows.map((row) => ({ checkoutId: 'chk_1', ...row })));
  });
});

describe('compact checkout layout: the checkout attributes', () => {
  it('stores a hex secret hash as 32 bytes and anything else as it was', () => {
    // Prepare
    const hex = '26569564ef32125fd69b414dd3d44e5b586348c83ae60e597776fd072c71b48a';
    // Act
    const stored = storedSecretHash(hex);
    // Assess
    expect(stored).toBeInstanceOf(Uint8Array);
    expect((stored as Uint8Array).byteLength).toBe(32);
    expect(secretHashOf(stored)).toBe(hex);
    expect(storedSecretHash('x'.repeat(64))).toBe('x'.repeat(64));
    expect(secretHashOf('x'.repeat(64))).toBe('x'.repeat(64));
  });

  it('reads the merchant id and creation instant from the gsi2 keys, nothing from an item without them', () => {
    // Act
    const owner = ownerFromGsi2({ gsi2pk: 'MERCHANT#mer_1#CHECKOUTS', gsi2sk: '2026-12-01T10:15:37.564Z#chk_1' });
    // Assess
    expect(owner).toEqual({ merchantId: 'mer_1', createdAt: '2026-12-01T10:15:37.564Z' });
    expect(ownerFromGsi2({ gsi1pk: 'MERCHANT#mer_1#CHECKOUTS' })).toEqual({});
  });
});

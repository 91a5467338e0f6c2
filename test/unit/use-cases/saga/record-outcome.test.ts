/**
 * recordOutcome (called in-process by the terminal steps) with port fakes: never `succeeded` without the full capture, `failed` written
 * once with the message of the Task's error cause (AWS JSON or the local engine's text).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SagaPorts } from '../../../../lambdas/use-cases/saga/shared';
import { aCheckout, type FakeCheckouts, type FakeGateway } from '../../fakes';
import { aPayment } from '../../../support/payments';
import { authorizePayment } from '../../../../lambdas/use-cases/saga/authorize-payment';
import { PaymentDeclinedError } from '../../../../lambdas/errors';
import { input, sagaWorld } from './saga-fixture';
import { messageFromCause, recordOutcome } from '../../../../lambdas/use-cases/saga/record-outcome';
import { CaptureIncompleteError } from '../../../../lambdas/errors';

let checkouts: FakeCheckouts;
let gateway: FakeGateway;
let deps: SagaPorts;

beforeEach(async () => {
  ({ checkouts, gateway, deps } = await sagaWorld());
});

describe('recordOutcome', () => {
  it('refuses succeeded unless the full amount was captured', async () => {
    await expect(recordOutcome(deps, { ...input, outcome: { status: 'succeeded' } })).rejects.toBeInstanceOf(
      CaptureIncompleteError,
    );
    expect((await checkouts.getCheckout('chk_1'))?.status).toBe('processing');
  });

  it('records failed with the message from an AWS-style JSON cause, once', async () => {
    const cause = JSON.stringify({ errorType: 'InventoryRejectedError', errorMessage: 'Insufficient inventory for sku-1' });
    await recordOutcome(deps, { ...input, outcome: { status: 'failed', reason: 'inventory_rejected', cause } });
    const again = await recordOutcome(deps, { ...input, outcome: { status: 'failed', reason: 'psp_error' } });
    const stored = await checkouts.getCheckout('chk_1');
    expect(again.status).toBe('failed');
    expect(stored).toMatchObject({
      status: 'failed',
      failureReason: 'inventory_rejected',
      failureMessage: 'Insufficient inventory for sku-1',
    });
    expect(checkouts.events.filter((e) => e.type === 'failed')).toHaveLength(1);
  });

  it('uses a default message for a timeout without a cause', async () => {
    await recordOutcome(deps, { ...input, outcome: { status: 'failed', reason: 'inventory_timeout' } });
    expect((await checkouts.getCheckout('chk_1'))?.failureMessage).toBe('The merchant did not confirm the inventory within 10 s');
  });

  it.each([
    ['{"errorType":"X","errorMessage":"from lambda"}', 'from lambda'],
    ['plain local message', 'plain local message'],
    [undefined, undefined],
  ])('messageFromCause(%s) = %s', (cause, expected) => {
    expect(messageFromCause(cause)).toBe(expected);
  });
});

describe('recordOutcome after a declined try (max_payment_attempts)', () => {
  const declined = { status: 'failed', reason: 'payment_declined', cause: 'insufficient_funds' } as const;

  async function declinedTry(maxPaymentAttempts: number, tries?: number): Promise<void> {
    await checkouts.createCheckout(
      aCheckout({
        status: 'processing',
        maxPaymentAttempts,
        payment: { ...aPayment({ paymentToken: 'tok_1', connector: 'fake' }), ...(tries !== undefined ? { tries } : {}) },
      }),
    );
    gateway.failNext.authorize = [new PaymentDeclinedError('insufficient_funds')];
    await expect(authorizePayment(deps, input)).rejects.toBeInstanceOf(PaymentDeclinedError);
  }

  it('reopens the checkout with last_payment_error while tries are left', async () => {
    // Prepare
    await declinedTry(3);
    // Act
    const result = await recordOutcome(deps, { ...input, outcome: declined });
    // Assess
    expect(result).toEqual({ status: 'open' });
    const stored = await checkouts.getCheckout('chk_1');
    expect(stored).toMatchObject({
      status: 'open',
      lastPaymentError: {
        code: 'insufficient_funds',
        message: 'The payment was declined (insufficient_funds). Try another card.',
      },
    });
    expect(stored?.failureReason).toBeUndefined();
    expect(checkouts.events.find((e) => e.type === 'payment_failed')?.data).toMatchObject({ try: 1, tries_left: 2 });
  });

  it('fails the checkout as in Part 1 on the last try', async () => {
    // Prepare
    await declinedTry(3, 3);
    // Act
    const result = await recordOutcome(deps, { ...input, outcome: declined });
    // Assess
    expect(result).toEqual({ status: 'failed' });
    expect(await checkouts.getCheckout('chk_1')).toMatchObject({ status: 'failed', failureReason: 'payment_declined' });
  });

  it('never reopens for a failure that is not the card (inventory, PSP error)', async () => {
    // Prepare
    await checkouts.createCheckout(
      aCheckout({ status: 'processing', maxPaymentAttempts: 3, payment: aPayment({ paymentToken: 'tok_1' }) }),
    );
    // Act
    const result = await recordOutcome(deps, { ...input, outcome: { status: 'failed', reason: 'inventory_rejected' } });
    // Assess
    expect(result).toEqual({ status: 'failed' });
  });
});

describe('recordOutcome of a checkout created with save_payment_method', () => {
  /** Attach calls as the vault would take them; refuses like it for a deleted customer. */
  function vaultFakes(customerStatus: 'active' | 'deleted') {
    const attached: string[] = [];
    return {
      attached,
      customers: {
        getCustomer: async (merchantId: string, customerId: string) =>
          ({ id: customerId, merchantId, status: customerStatus, createdAt: '2026-01-01T00:00:00.000Z' }) as never,
      },
      savedPaymentMethods: {
        attachToCustomer: async (_merchantId: string, paymentMethodId: string, customerId: string) => {
          attached.push(`${paymentMethodId}->${customerId}`);
          return { id: paymentMethodId, customerId } as never;
        },
      },
    };
  }

  async function capturedCheckoutForCustomer(buyer: { saveDeclined?: true } = {}): Promise<void> {
    const checkout = aCheckout({ status: 'processing', customerId: 'cus_1', savePaymentMethod: true });
    await checkouts.createCheckout({
      ...checkout,
      // Captured (an item without an instrument reads its capture from the captured attempt).
      payment: {
        ...aPayment({
          paymentMethodId: 'pm_1',
          pspReference: 'auth_1',
          authorizedAmount: checkout.amount,
          capturedAmount: checkout.amount,
        }),
        ...buyer,
      },
    });
  }

  it('saves nothing when the buyer unticked "save my card" on the hosted page', async () => {
    // Prepare
    await capturedCheckoutForCustomer({ saveDeclined: true });
    const vault = vaultFakes('active');
    // Act
    const result = await recordOutcome({ ...deps, ...vault }, { ...input, outcome: { status: 'succeeded' } });
    // Assess
    expect(result).toEqual({ status: 'succeeded' });
    expect(vault.attached).toEqual([]);
  });

  it('attaches the pm_ to the customer before recording succeeded, and running the step twice is harmless', async () => {
    // Prepare
    await capturedCheckoutForCustomer();
    const vault = vaultFakes('active');
    // Act
    const first = await recordOutcome({ ...deps, ...vault }, { ...input, outcome: { status: 'succeeded' } });
    const second = await recordOutcome({ ...deps, ...vault }, { ...input, outcome: { status: 'succeeded' } });
    // Assess
    expect(first).toEqual({ status: 'succeeded' });
    expect(second).toEqual({ status: 'succeeded' });
    expect(vault.attached).toEqual(['pm_1->cus_1']);
  });

  it('still records succeeded (the money moved) when the customer was deleted meanwhile, saving nothing', async () => {
    // Prepare
    await capturedCheckoutForCustomer();
    const vault = vaultFakes('deleted');
    // Act
    const result = await recordOutcome({ ...deps, ...vault }, { ...input, outcome: { status: 'succeeded' } });
    // Assess
    expect(result).toEqual({ status: 'succeeded' });
    expect(vault.attached).toEqual([]);
  });
});

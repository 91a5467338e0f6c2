/**
 * The reconciliation sweep finishes a checkout succeeded after the saga died: a checkout created
 * with `save_payment_method` saves its card on the customer, as CapturePayment would have.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { runReconciliationSweep, type ReconciliationDependencies } from '../../../lambdas/use-cases/reconciliation';
import { aPayment } from '../../support/payments';
import { aCheckout, FakeCheckouts, FakeGateway } from '../fakes';
import { FakeRecovery, sweepDependencies } from './reconciliation-fixture';

let checkouts: FakeCheckouts;
let gateway: FakeGateway;
let recovery: FakeRecovery;
let attached: string[];
let deps: ReconciliationDependencies;

beforeEach(async () => {
  checkouts = new FakeCheckouts();
  gateway = new FakeGateway();
  recovery = new FakeRecovery();
  attached = [];
  deps = {
    ...(await sweepDependencies({ checkouts, gateway, recovery })),
    customers: {
      getCustomer: async (merchantId: string, customerId: string) =>
        ({ id: customerId, merchantId, status: 'active', createdAt: '2026-01-01T00:00:00.000Z' }) as never,
    },
    savedPaymentMethods: {
      attachToCustomer: async (_merchantId: string, paymentMethodId: string, customerId: string) => {
        attached.push(`${paymentMethodId}->${customerId}`);
        return { id: paymentMethodId, customerId } as never;
      },
    },
  };
});

/** A customer's checkout stuck in processing whose authorization the PSP reports captured in full. */
async function stuckAfterCapture(id: string, save: { savePaymentMethod?: true }): Promise<void> {
  const pspReference = `auth_${id}`;
  gateway.authorizations.set(pspReference, {
    id: pspReference,
    state: 'authorized',
    pspStatus: 'captured',
    amount: 10050,
    currency: 'USD',
    reference: id,
    capturedAmount: 10050,
    refundedAmount: 0,
    capturableAmount: 0,
    refundableAmount: 10050,
  });
  await checkouts.createCheckout(
    aCheckout({
      id,
      status: 'processing',
      customerId: 'cus_1',
      ...save,
      updatedAt: '2026-03-01T12:00:00.000Z',
      payment: aPayment(
        { paymentMethodId: 'pm_1', connector: 'fake', pspReference, authorizedAmount: 10050, inventoryConfirmation: 'confirmed' },
        { id },
      ),
    }),
  );
  recovery.watches.set(id, '2026-03-01T12:00:00.000Z');
}

describe('reconciliation of a captured checkout created with save_payment_method', () => {
  it("saves the card on the checkout's customer before the checkout ends succeeded", async () => {
    // Prepare
    await stuckAfterCapture('chk_save', { savePaymentMethod: true });
    // Act
    const report = await runReconciliationSweep(deps);
    // Assess
    expect(report.errors).toBe(0);
    expect(await checkouts.getCheckout('chk_save')).toMatchObject({ status: 'succeeded' });
    expect(attached).toEqual(['pm_1->cus_1']);
  });

  it('saves nothing for a checkout that did not ask to save the card', async () => {
    // Prepare
    await stuckAfterCapture('chk_nosave', {});
    // Act
    const report = await runReconciliationSweep(deps);
    // Assess
    expect(report.errors).toBe(0);
    expect(await checkouts.getCheckout('chk_nosave')).toMatchObject({ status: 'succeeded' });
    expect(attached).toEqual([]);
  });
});

/**
 * CapturePayment with port fakes (through the checkout's instrument): never a capture without
 * the inventory confirmation, one capture keyed `<checkout>:capture`, none again on a re-run.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SagaPorts } from '../../../../lambdas/use-cases/saga/shared';
import type { FakeCheckouts, FakeConfirmer, FakeGateway, FakeInstruments, FakeMerchants } from '../../fakes';
import { input, sagaWorld } from './saga-fixture';
import { authorizePayment } from '../../../../lambdas/use-cases/saga/authorize-payment';
import { capturePayment } from '../../../../lambdas/use-cases/saga/capture-payment';
import { confirmInventory } from '../../../../lambdas/use-cases/saga/confirm-inventory';
import { balancesOfPayment } from '../../../../lambdas/use-cases/payment-ledger';
import { InventoryNotConfirmedError, InventoryRejectedError } from '../../../../lambdas/errors';

let checkouts: FakeCheckouts;
let merchants: FakeMerchants;
let gateway: FakeGateway;
let confirmer: FakeConfirmer;
let instruments: FakeInstruments;
let deps: SagaPorts;

beforeEach(async () => {
  ({ checkouts, merchants, gateway, confirmer, instruments, deps } = await sagaWorld());
});

describe('capturePayment', () => {
  it('refuses to capture while the confirmation is pending or rejected', async () => {
    await authorizePayment(deps, input);
    await expect(capturePayment(deps, input)).rejects.toBeInstanceOf(InventoryNotConfirmedError);
    confirmer.decision = { outcome: 'rejected', reason: 'inventory_rejected', message: 'no', latencyMs: 1 };
    await expect(confirmInventory(deps, input)).rejects.toBeInstanceOf(InventoryRejectedError);
    await expect(capturePayment(deps, input)).rejects.toBeInstanceOf(InventoryNotConfirmedError);
    expect(gateway.calls.filter((c) => c.op === 'capture')).toHaveLength(0);
  });

  it('captures the full amount once with <checkout>:capture, and not again on a re-run', async () => {
    await authorizePayment(deps, input);
    await confirmInventory(deps, input);
    expect(await capturePayment(deps, input)).toEqual({ capturedAmount: 10050 });
    expect(await capturePayment(deps, input)).toEqual({ capturedAmount: 10050 });
    expect(gateway.calls.filter((c) => c.op === 'capture')).toEqual([{ op: 'capture', key: 'chk_1:capture', amount: 10050 }]);
  });

  it('captures without a confirmation call when none is required', async () => {
    await merchants.updateSettings('mer_1', { inventoryConfirmationEnabled: false });
    await authorizePayment(deps, input);
    await capturePayment(deps, input);
    expect(confirmer.requests).toHaveLength(0);
    expect((await balancesOfPayment(instruments, (await checkouts.getCheckout('chk_1'))?.payment)).capturedAmount).toBe(10050);
  });
});

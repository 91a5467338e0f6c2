/**
 * CapturePayment with port fakes (through the checkout's instrument): never a capture without
 * the inventory confirmation, one capture keyed `<checkout>:capture`, none again on a re-run; the
 * capture and the terminal `succeeded` in one write; the result webhook in-process (captureAndNotify).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SagaPorts } from '../../../../lambdas/use-cases/saga/shared';
import type { FakeCheckouts, FakeConfirmer, FakeGateway, FakeInstruments, FakeMerchants } from '../../fakes';
import { input, sagaWorld } from './saga-fixture';
import { authorizePayment } from '../../../../lambdas/use-cases/saga/authorize-payment';
import { captureAndNotify, capturePayment } from '../../../../lambdas/use-cases/saga/capture-payment';
import { resultEventId } from '../../../../lambdas/use-cases/saga/notify-merchant';
import type { SagaWorld } from './saga-fixture';
import { confirmInventory } from '../../../../lambdas/use-cases/saga/confirm-inventory';
import { balancesOfPayment } from '../../../../lambdas/use-cases/payment-ledger';
import { InventoryNotConfirmedError, InventoryRejectedError } from '../../../../lambdas/errors';

let checkouts: FakeCheckouts;
let merchants: FakeMerchants;
let gateway: FakeGateway;
let confirmer: FakeConfirmer;
let instruments: FakeInstruments;
let deps: SagaPorts;
let world: SagaWorld;

beforeEach(async () => {
  world = await sagaWorld();
  ({ checkouts, merchants, gateway, confirmer, instruments, deps } = world);
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
    expect(await capturePayment(deps, input)).toEqual({ capturedAmount: 10050, status: 'succeeded' });
    expect(await capturePayment(deps, input)).toEqual({ capturedAmount: 10050, status: 'succeeded' });
    expect(gateway.calls.filter((c) => c.op === 'capture')).toEqual([{ op: 'capture', key: 'chk_1:capture', amount: 10050 }]);
  });

  it('records the capture and the terminal succeeded in one conditional write, rows captured then succeeded', async () => {
    // Prepare
    await authorizePayment(deps, input);
    await confirmInventory(deps, input);
    const before = (await checkouts.getCheckout('chk_1'))!;
    const rowsBefore = checkouts.events.length;
    // Act
    await capturePayment(deps, input);
    // Assess: one version step, status and attempt moved together, both rows written with it.
    const after = (await checkouts.getCheckout('chk_1'))!;
    expect(after.version).toBe(before.version + 1);
    expect(after.status).toBe('succeeded');
    expect(after.payment?.attempts.at(-1)?.status).toBe('captured');
    expect(checkouts.events.slice(rowsBefore).map((e) => e.type)).toEqual(['captured', 'succeeded']);
  });

  it('writes nothing and sends nothing when run again after the terminal write', async () => {
    // Prepare
    await authorizePayment(deps, input);
    await confirmInventory(deps, input);
    await capturePayment(deps, input);
    const before = (await checkouts.getCheckout('chk_1'))!;
    const rowsBefore = checkouts.events.length;
    const callsBefore = gateway.calls.length;
    // Act
    const again = await capturePayment(deps, input);
    // Assess
    expect(again).toEqual({ capturedAmount: 10050, status: 'succeeded' });
    expect((await checkouts.getCheckout('chk_1'))!.version).toBe(before.version);
    expect(checkouts.events.length).toBe(rowsBefore);
    expect(gateway.calls.length).toBe(callsBefore);
  });

  it('captureAndNotify publishes payment.captured and checkout.succeeded once, delivering each once, even when run twice', async () => {
    // Prepare
    await authorizePayment(deps, input);
    await confirmInventory(deps, input);
    // Act
    const first = await captureAndNotify(world.terminalDeps, input);
    const second = await captureAndNotify(world.terminalDeps, input);
    // Assess
    expect(first.status).toBe('succeeded');
    expect(first.notified.eventIds).toEqual([
      resultEventId('chk_1', 'payment.captured'),
      resultEventId('chk_1', 'checkout.succeeded'),
    ]);
    expect(second.notified.eventIds).toEqual(first.notified.eventIds);
    expect(world.sender.sent.map((s) => JSON.parse(s.message.body).type)).toEqual(['payment.captured', 'checkout.succeeded']);
    expect(gateway.calls.filter((c) => c.op === 'capture')).toHaveLength(1);
  });

  it('still succeeds when the first webhook delivery fails: the dispatcher owns the retry', async () => {
    // Prepare
    await authorizePayment(deps, input);
    await confirmInventory(deps, input);
    world.sender.answers = [false, false];
    // Act
    const result = await captureAndNotify(world.terminalDeps, input);
    // Assess
    expect(result.status).toBe('succeeded');
    expect(result.notified.delivered).toBe(0);
    expect(result.notified.pending).toBe(2);
    expect((await checkouts.getCheckout('chk_1'))?.status).toBe('succeeded');
  });

  it('captures without a confirmation call when none is required', async () => {
    await merchants.updateSettings('mer_1', { inventoryConfirmationEnabled: false });
    await authorizePayment(deps, input);
    await capturePayment(deps, input);
    expect(confirmer.requests).toHaveLength(0);
    expect((await balancesOfPayment(instruments, (await checkouts.getCheckout('chk_1'))?.payment)).capturedAmount).toBe(10050);
  });
});

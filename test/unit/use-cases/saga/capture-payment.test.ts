/**
 * CapturePayment with port fakes (through the checkout's instrument): the inventory confirmation
 * first in the same Task (the merchant asked once, even across the Task's retries; the confirm
 * phase's errors never retried), never a capture without the inventory confirmation, one capture keyed `<checkout>:capture`, none again on a re-run; the
 * capture and the terminal `succeeded` in one write; the result webhook in-process (captureAndNotify).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SagaPorts } from '../../../../lambdas/use-cases/saga/shared';
import type {
  FakeCheckouts,
  FakeConfirmer,
  FakeGateway,
  FakeInstruments,
  FakeMerchants,
  FakeWebhookEndpoints,
} from '../../fakes';
import { input, sagaWorld } from './saga-fixture';
import { authorizePayment } from '../../../../lambdas/use-cases/saga/authorize-payment';
import { captureAndNotify, capturePayment } from '../../../../lambdas/use-cases/saga/capture-payment';
import { resultEventId } from '../../../../lambdas/use-cases/saga/notify-merchant';
import type { SagaWorld } from './saga-fixture';
import { runConfirmPhase as confirmInventory } from './saga-fixture';
import { balancesOfPayment } from '../../../../lambdas/use-cases/payment-ledger';
import {
  InventoryNotConfirmedError,
  InventoryRejectedError,
  InventoryTimeoutError,
  InventoryUnreachableError,
  PspUnavailableError,
  StoreUnavailableError,
} from '../../../../lambdas/errors';
import { failureOutcome } from '../../../../lambdas/use-cases/saga/fail-payment';

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
    // Pending, with the state's input saying not required: the stored value wins.
    await expect(capturePayment(deps, { ...input, inventoryConfirmationRequired: false })).rejects.toBeInstanceOf(
      InventoryNotConfirmedError,
    );
    confirmer.decision = { outcome: 'rejected', reason: 'inventory_rejected', message: 'no', latencyMs: 1 };
    await expect(confirmInventory(deps, input)).rejects.toBeInstanceOf(InventoryRejectedError);
    await expect(capturePayment(deps, input)).rejects.toBeInstanceOf(InventoryRejectedError);
    await expect(capturePayment(deps, { ...input, inventoryConfirmationRequired: false })).rejects.toBeInstanceOf(
      InventoryNotConfirmedError,
    );
    expect(confirmer.requests).toHaveLength(1); // the stored refusal is never asked again
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

  it('a manual capture hands the authorization over and notifies from its own terminal write: no re-read of the checkout, no read of its result events', async () => {
    // Prepare
    const stored = (await checkouts.getCheckout('chk_1'))!;
    await checkouts.createCheckout({ ...stored, captureMethod: 'manual' });
    await authorizePayment(deps, input);
    await confirmInventory(deps, input);
    let checkoutReads = 0;
    const eventReads: string[][] = [];
    const counted = {
      ...world.terminalDeps,
      checkouts: Object.assign(Object.create(checkouts) as FakeCheckouts, {
        getCheckout: (id: string) => ((checkoutReads += 1), checkouts.getCheckout(id)),
      }),
      events: Object.assign(Object.create(world.events) as typeof world.events, {
        getEvents: (...args: Parameters<typeof world.events.getEvents>) => (
          eventReads.push([...args[0]]),
          world.events.getEvents(...args)
        ),
      }),
    };
    // Act
    const first = await captureAndNotify(counted, input);
    const readsOfFirst = { checkoutReads, eventReads: eventReads.length };
    const second = await captureAndNotify(counted, input);
    // Assess: the step's, holdForManualCapture's and recordOutcome's reads (4 and one event read
    // before: the notify read the checkout and the events again); the re-run reads the stored events.
    expect(first).toMatchObject({ held: true, status: 'succeeded' });
    expect(readsOfFirst).toEqual({ checkoutReads: 3, eventReads: 0 });
    expect(first.notified.eventIds).toEqual([
      resultEventId('chk_1', 'payment.authorized'),
      resultEventId('chk_1', 'checkout.succeeded'),
    ]);
    expect(world.sender.sent.map((s) => JSON.parse(s.message.body).type)).toEqual(['payment.authorized', 'checkout.succeeded']);
    expect(gateway.calls.filter((c) => c.op === 'capture')).toHaveLength(0);
    expect(second.notified.eventIds).toEqual(first.notified.eventIds);
    expect(eventReads).toEqual([first.notified.eventIds]);
    expect(world.sender.sent).toHaveLength(2);
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

/** The error names the CapturePayment state's Retry re-runs the Task for (statemachines/checkout.asl.json). */
function retriedByCapturePayment(): string[] {
  const asl = JSON.parse(readFileSync(resolve(__dirname, '../../../../statemachines/checkout.asl.json'), 'utf8')) as {
    States: Record<string, { Retry?: { ErrorEquals: string[] }[] }>;
  };
  return (asl.States.CapturePayment?.Retry ?? []).flatMap((retry) => retry.ErrorEquals);
}

/** `checkouts` with its getCheckout and `merchants` with its getMerchant counted. */
function countingReads(world: SagaWorld): { reads: { checkout: number; merchant: number }; deps: SagaWorld['terminalDeps'] } {
  const reads = { checkout: 0, merchant: 0 };
  const counted = Object.create(world.checkouts) as FakeCheckouts;
  counted.getCheckout = async (id: string) => {
    reads.checkout += 1;
    return world.checkouts.getCheckout(id);
  };
  const countedMerchants = Object.create(world.merchants) as FakeMerchants;
  countedMerchants.getMerchant = async (id: string) => {
    reads.merchant += 1;
    return world.merchants.getMerchant(id);
  };
  return { reads, deps: { ...world.terminalDeps, checkouts: counted, merchants: countedMerchants } };
}

describe('CapturePayment confirms the inventory, then captures, in one Task', () => {
  const stepInput = { ...input, inventoryConfirmationRequired: true };

  it('asks the merchant once, records the decision, captures and records succeeded, reading the checkout and the merchant once', async () => {
    // Prepare
    await authorizePayment(deps, input);
    const { reads, deps: counted } = countingReads(world);
    const versionBefore = (await checkouts.getCheckout('chk_1'))!.version;
    // Act
    const result = await capturePayment(counted, { ...stepInput, stateEnteredTime: new Date().toISOString() });
    // Assess
    expect(result).toEqual({ capturedAmount: 10050, status: 'succeeded' });
    expect(confirmer.requests).toHaveLength(1);
    expect(gateway.calls.filter((c) => c.op === 'capture')).toHaveLength(1);
    expect(reads).toEqual({ checkout: 1, merchant: 1 });
    const after = (await checkouts.getCheckout('chk_1'))!;
    expect(after.payment?.inventoryConfirmation).toBe('confirmed');
    expect(after.version).toBe(versionBefore + 2); // the decision write, then the capture with the terminal status
  });

  it('reads the merchant once for the confirmation and the first webhook delivery (captureAndNotify)', async () => {
    // Prepare: an endpoint on port 8443, so the delivery needs the merchant's allowed_ports too.
    await authorizePayment(deps, input);
    const current = (await merchants.getMerchant('mer_1'))!;
    await merchants.updateSettings('mer_1', { ...current.settings, allowedPorts: [8443] });
    const endpoints = world.terminalDeps.webhookEndpoints as FakeWebhookEndpoints;
    endpoints.rows[0] = { ...endpoints.rows[0]!, url: 'https://merchant.example:8443/webhooks' };
    const { reads, deps: counted } = countingReads(world);
    // Act
    const result = await captureAndNotify(counted, stepInput);
    // Assess
    expect(result.status).toBe('succeeded');
    expect(result.notified.delivered).toBe(2);
    expect(confirmer.requests).toHaveLength(1);
    expect(reads.merchant).toBe(1);
  });

  it('renders the result webhooks from the instrument its capture wrote, reading the instrument once (captureAndNotify)', async () => {
    // Prepare
    await authorizePayment(deps, input);
    let instrumentReads = 0;
    const countedInstruments = Object.create(instruments) as FakeInstruments;
    countedInstruments.getInstrument = async (id: string) => {
      instrumentReads += 1;
      return instruments.getInstrument(id);
    };
    // Act
    const result = await captureAndNotify({ ...world.terminalDeps, instruments: countedInstruments }, stepInput);
    // Assess: one read (the capture's own); the bodies carry what the capture left on the instrument.
    expect(result.status).toBe('succeeded');
    expect(instrumentReads).toBe(1);
    const bodies = world.sender.sent.map((s) => JSON.parse(s.message.body) as { type: string; data: { object: unknown } });
    expect(bodies.map((body) => body.type)).toEqual(['payment.captured', 'checkout.succeeded']);
    const checkout = (await checkouts.getCheckout('chk_1'))!;
    const stored = await instruments.getInstrument(checkout.payment!.instrumentId!);
    const expected = world.terminalDeps.renderCheckout(checkout, stored);
    for (const body of bodies) expect(body.data.object).toEqual(JSON.parse(JSON.stringify(expected)));
  });

  it('reads neither the merchant nor the checkout twice when confirmation is not required', async () => {
    // Prepare
    await merchants.updateSettings('mer_1', { inventoryConfirmationEnabled: false });
    const authorized = await authorizePayment(deps, input);
    const { reads, deps: counted } = countingReads(world);
    // Act
    const result = await capturePayment(counted, {
      ...input,
      inventoryConfirmationRequired: authorized.inventoryConfirmationRequired,
    });
    // Assess
    expect(result.status).toBe('succeeded');
    expect(confirmer.requests).toHaveLength(0);
    expect(reads).toEqual({ checkout: 1, merchant: 0 });
  });

  it('lets the Task retry a capture-phase PSP error, and the re-run reads the stored decision instead of asking the merchant again', async () => {
    // Prepare
    await authorizePayment(deps, input);
    gateway.failNext.capture = [new PspUnavailableError('PSP 503')];
    const first = capturePayment(deps, stepInput);
    await expect(first).rejects.toBeInstanceOf(PspUnavailableError);
    expect(retriedByCapturePayment()).toContain('PspUnavailableError');
    expect((await checkouts.getCheckout('chk_1'))?.payment?.inventoryConfirmation).toBe('confirmed');
    // Act: the Task's retry
    const again = await capturePayment(deps, stepInput);
    // Assess
    expect(again).toEqual({ capturedAmount: 10050, status: 'succeeded' });
    expect(confirmer.requests).toHaveLength(1);
  });

  it('turns a store error writing the decision after the merchant answered into InventoryUnreachableError, which the Task never retries', async () => {
    // Prepare: the decision write fails after the merchant confirmed
    await authorizePayment(deps, input);
    const failing = Object.create(checkouts) as FakeCheckouts;
    failing.updatePayment = async () => {
      throw new StoreUnavailableError('DynamoDB throttled');
    };
    // Act
    const attempt = capturePayment({ ...deps, checkouts: failing }, stepInput);
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InventoryUnreachableError);
    await expect(attempt).rejects.toThrow('StoreUnavailableError');
    expect(confirmer.requests).toHaveLength(1);
    expect(gateway.calls.filter((c) => c.op === 'capture')).toHaveLength(0);
    expect(failureOutcome({ CapturePayment: { Error: 'InventoryUnreachableError' } }).reason).toBe('inventory_unreachable');
  });

  it("never retries an error of the confirm phase: none of the Inventory errors is in the Task's Retry", () => {
    // Act
    const retried = retriedByCapturePayment();
    // Assess
    expect(retried).not.toContain('States.ALL');
    expect(retried).not.toContain('States.TaskFailed');
    for (const name of ['InventoryRejectedError', 'InventoryTimeoutError', 'InventoryUnreachableError']) {
      expect(retried).not.toContain(name);
    }
  });

  it.each([
    ['inventory_rejected', InventoryRejectedError, 'rejected'],
    // The confirmer's timeout is the step's deadline: thrown, never recorded.
    ['inventory_timeout', InventoryTimeoutError, 'pending'],
    ['inventory_unreachable', InventoryUnreachableError, 'rejected'],
  ] as const)('a %s answer is thrown as %s (stored: %s), and nothing is captured', async (reason, errorClass, stored) => {
    // Prepare
    await authorizePayment(deps, input);
    confirmer.decision = { outcome: 'rejected', reason, message: 'refused', latencyMs: 3 };
    // Act
    const attempt = captureAndNotify(world.terminalDeps, stepInput);
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(errorClass);
    expect(failureOutcome({ CapturePayment: { Error: new errorClass('x').name } }).reason).toBe(reason);
    expect((await checkouts.getCheckout('chk_1'))?.payment?.inventoryConfirmation).toBe(stored);
    expect(gateway.calls.filter((c) => c.op === 'capture')).toHaveLength(0);
    expect(world.sender.sent).toHaveLength(0);
  });
});

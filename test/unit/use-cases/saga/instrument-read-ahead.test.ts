/**
 * CapturePayment's early instrument read (instrument-read-ahead.ts): the first read of the
 * checkout's instrument is the one started early, every later read goes to the store, and a
 * capture whose early image is stale (the instrument changed after it) still captures once.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { FinancialInstrument } from '../../../../lambdas/domain/instrument-model';
import { instrumentIdForCheckout } from '../../../../lambdas/domain/instrument-ledger';
import { authorizePayment } from '../../../../lambdas/use-cases/saga/authorize-payment';
import { captureAndNotify } from '../../../../lambdas/use-cases/saga/capture-payment';
import { instrumentReadAhead } from '../../../../lambdas/use-cases/saga/instrument-read-ahead';
import { FakeInstruments } from '../../fakes';
import { input, sagaWorld, type SagaWorld } from './saga-fixture';

let world: SagaWorld;

beforeEach(async () => {
  world = await sagaWorld();
});

/** A repository that counts reads per id. */
function countingInstruments(instruments: FakeInstruments): { instruments: FakeInstruments; reads: string[] } {
  const reads: string[] = [];
  const counted = Object.create(instruments) as FakeInstruments;
  counted.getInstrument = (id: string) => {
    reads.push(id);
    return instruments.getInstrument(id);
  };
  return { instruments: counted, reads };
}

describe('instrumentReadAhead', () => {
  it('answers the first read of the checkout instrument with the early read, and reads again after that', async () => {
    // Prepare
    await authorizePayment(world.deps, input);
    const { instruments, reads } = countingInstruments(world.instruments);
    const ahead = instrumentReadAhead(instruments, input.checkoutId);
    const id = instrumentIdForCheckout(input.checkoutId);
    // Act
    ahead.start();
    ahead.start();
    const first = await ahead.instruments.getInstrument(id);
    const second = await ahead.instruments.getInstrument(id);
    // Assess
    expect(reads).toEqual([id, id]); // one early read (started once), one fresh read
    expect(first?.id).toBe(id);
    expect(second).toEqual(first);
  });

  it('reads from the store when never started, and for another instrument', async () => {
    // Prepare
    const { instruments, reads } = countingInstruments(new FakeInstruments());
    const ahead = instrumentReadAhead(instruments, input.checkoutId);
    // Act
    await ahead.instruments.getInstrument('fi_other');
    await ahead.instruments.getInstrument(instrumentIdForCheckout(input.checkoutId));
    // Assess
    expect(reads).toEqual(['fi_other', instrumentIdForCheckout(input.checkoutId)]);
  });

  it('leaves a failed early read that is never used unobserved, and hands it to the first reader', async () => {
    // Prepare
    const failing = Object.create(new FakeInstruments()) as FakeInstruments;
    failing.getInstrument = () => Promise.reject(new Error('store down'));
    const ahead = instrumentReadAhead(failing, input.checkoutId);
    // Act
    ahead.start();
    // Assess
    await expect(ahead.instruments.getInstrument(instrumentIdForCheckout(input.checkoutId))).rejects.toThrow('store down');
  });

  it('captures once when the early image is stale: the one-write capture loses its condition and the step continues on a fresh read', async () => {
    // Prepare: the early read answers an image older than the store (its capturable amount differs).
    await authorizePayment(world.deps, input);
    const id = instrumentIdForCheckout(input.checkoutId);
    const stored = (await world.instruments.getInstrument(id))!;
    const stale: FinancialInstrument = { ...stored, capturableAmount: stored.capturableAmount + 1 };
    const staleFirst = Object.create(world.instruments) as FakeInstruments;
    let served = false;
    staleFirst.getInstrument = async (requested: string) => {
      if (requested === id && !served) {
        served = true;
        return structuredClone(stale);
      }
      return world.instruments.getInstrument(requested);
    };
    // Act
    const result = await captureAndNotify(
      { ...world.terminalDeps, instruments: staleFirst },
      { ...input, inventoryConfirmationRequired: true, stateEnteredTime: new Date().toISOString() },
    );
    // Assess
    expect(result.status).toBe('succeeded');
    expect(served).toBe(true);
    const captures = world.gateway.calls.filter((call) => call.op === 'capture');
    expect(new Set(captures.map((call) => call.key)).size).toBe(1); // one PSP key: the PSP captures at most once
    const after = (await world.instruments.getInstrument(id))!;
    expect(after.capturableAmount).toBe(0);
    expect(after.refundableAmount).toBe(stored.capturableAmount);
  });
});

/**
 * RecordOutcome with port fakes: never `succeeded` without the full capture, `failed` written
 * once with the message of the Task's error cause (AWS JSON or the local engine's text).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SagaPorts } from '../../../../lambdas/use-cases/saga/shared';
import type { FakeCheckouts } from '../../fakes';
import { input, sagaWorld } from './saga-fixture';
import { messageFromCause, recordOutcome } from '../../../../lambdas/use-cases/saga/record-outcome';
import { CaptureIncompleteError } from '../../../../lambdas/errors';

let checkouts: FakeCheckouts;
let deps: SagaPorts;

beforeEach(async () => {
  ({ checkouts, deps } = await sagaWorld());
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

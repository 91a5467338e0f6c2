/**
 * The failure path's one terminal Task (failPayment): the failure reason from the source state
 * and error name (the mapping the ASL's Pass states held before), a void only when something can
 * be authorized, the terminal `failed` write, and the result webhook in-process.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { PaymentDeclinedError, PspRejectedError, PspUnavailableError } from '../../../../lambdas/errors';
import { authorizePayment } from '../../../../lambdas/use-cases/saga/authorize-payment';
import {
  failPayment,
  failureOutcome,
  needsStoredDecision,
  type FailPaymentInput,
} from '../../../../lambdas/use-cases/saga/fail-payment';
import { resultEventId } from '../../../../lambdas/use-cases/saga/notify-merchant';
import { input, runConfirmPhase, sagaWorld, type SagaWorld } from './saga-fixture';

let world: SagaWorld;

beforeEach(async () => {
  world = await sagaWorld();
});

describe('failureOutcome: the reason comes from the source state and the error name', () => {
  it.each([
    ['AuthorizePayment', 'PaymentDeclinedError', 'payment_declined', false],
    ['AuthorizePayment', 'AuthenticationRequiredError', 'authentication_required', false],
    ['AuthorizePayment', 'AuthenticationFailedError', 'authentication_failed', true],
    ['AuthorizePayment', 'PspRejectedError', 'psp_error', true],
    ['AuthorizePayment', 'States.Timeout', 'psp_error', true],
    ['AwaitAuthorization', 'States.Timeout', 'psp_error', true],
    ['AwaitAuthorization', 'States.HeartbeatTimeout', 'psp_error', true],
    ['AwaitAuthentication', 'States.Timeout', 'authentication_failed', true],
    ['CapturePayment', 'InventoryRejectedError', 'inventory_rejected', true],
    ['CapturePayment', 'InventoryTimeoutError', 'inventory_timeout', true],
    ['CapturePayment', 'InventoryUnreachableError', 'inventory_unreachable', true],
    ['CapturePayment', 'States.Timeout', 'psp_error', true],
    ['CapturePayment', 'InventoryNotConfirmedError', 'psp_error', true],
  ] as const)('%s failing with %s: %s (void: %s)', (source, error, reason, voids) => {
    // Act
    const outcome = failureOutcome({ [source]: { Error: error, Cause: 'why' } });
    // Assess
    expect(outcome).toMatchObject({ source, reason, voids });
  });

  it.each([
    ['States.Timeout', 'pending', 'inventory_timeout'],
    ['States.Timeout', undefined, 'inventory_timeout'],
    ['Lambda.Unknown', 'pending', 'inventory_unreachable'],
    ['StoreUnavailableError', 'pending', 'inventory_unreachable'],
    ['States.Timeout', 'confirmed', 'psp_error'],
    ['States.Timeout', 'not_required', 'psp_error'],
    ['StoreUnavailableError', 'confirmed', 'psp_error'],
    ['Lambda.Unknown', 'rejected', 'inventory_rejected'],
    ['InventoryTimeoutError', 'pending', 'inventory_timeout'],
  ] as const)(
    'CapturePayment failing with %s while the stored decision is %s: %s (the inventory reason before the decision, psp_error after it)',
    (error, inventoryConfirmation, reason) => {
      // Act
      const outcome = failureOutcome({ CapturePayment: { Error: error } }, { inventoryConfirmation });
      // Assess
      expect(outcome).toMatchObject({ source: 'CapturePayment', reason, voids: true });
    },
  );

  it("reads a stored refusal's own reason when CapturePayment failed without an inventory error", () => {
    // Act
    const outcome = failureOutcome(
      { CapturePayment: { Error: 'Lambda.Unknown' } },
      { inventoryConfirmation: 'rejected', inventoryRejection: 'inventory_timeout' },
    );
    // Assess
    expect(outcome.reason).toBe('inventory_timeout');
  });

  it('needs the stored decision only for a CapturePayment error that is not an inventory error', () => {
    // Act / Assess
    expect(needsStoredDecision({ CapturePayment: { Error: 'States.Timeout' } })).toBe(true);
    expect(needsStoredDecision({ CapturePayment: { Error: 'PspRejectedError' } })).toBe(true);
    expect(needsStoredDecision({ CapturePayment: { Error: 'InventoryRejectedError' } })).toBe(false);
    expect(needsStoredDecision({ AuthorizePayment: { Error: 'States.Timeout' } })).toBe(false);
  });

  it('keeps the Cause of the caught error, and gives the waits their own message', () => {
    // Act / Assess
    expect(failureOutcome({ CapturePayment: { Error: 'InventoryRejectedError', Cause: 'Insufficient inventory' } }).cause).toBe(
      'Insufficient inventory',
    );
    expect(failureOutcome({ AwaitAuthorization: { Error: 'States.Timeout', Cause: '' } }).cause).toBe(
      'The payment provider reported no authorization result in time',
    );
    expect(failureOutcome({ AwaitAuthentication: { Error: 'States.Timeout' } }).cause).toBe(
      '3-D Secure authentication was not completed in time',
    );
  });

  it('fails psp_error, voiding, when no source is named', () => {
    // Act / Assess
    expect(failureOutcome(undefined)).toMatchObject({ source: 'unknown', reason: 'psp_error', voids: true });
  });
});

describe('failPayment', () => {
  const failing = (failure: FailPaymentInput['failure']): FailPaymentInput => ({ ...input, failure });

  it('after a decline: no void, failed payment_declined, checkout.failed published and delivered', async () => {
    // Prepare
    world.gateway.failNext.authorize = [new PaymentDeclinedError('card_declined')];
    await expect(authorizePayment(world.deps, input)).rejects.toBeInstanceOf(PaymentDeclinedError);
    // Act
    const result = await failPayment(
      world.terminalDeps,
      failing({ AuthorizePayment: { Error: 'PaymentDeclinedError', Cause: 'card_declined' } }),
    );
    // Assess
    expect(result).toMatchObject({ reason: 'payment_declined', source: 'AuthorizePayment', status: 'failed' });
    expect(result.void).toBeUndefined();
    expect(world.gateway.calls.map((c) => c.op)).toEqual(['authorize']);
    const stored = await world.checkouts.getCheckout('chk_1');
    expect(stored).toMatchObject({ status: 'failed', failureReason: 'payment_declined' });
    expect(result.notified.eventIds).toEqual([resultEventId('chk_1', 'checkout.failed')]);
    expect(world.sender.sent.map((s) => JSON.parse(s.message.body).type)).toEqual(['checkout.failed']);
  });

  it('after an inventory rejection: voids once, records failed inventory_rejected, publishes payment.voided then checkout.failed', async () => {
    // Prepare
    await authorizePayment(world.deps, input);
    // Act
    const result = await failPayment(
      world.terminalDeps,
      failing({ CapturePayment: { Error: 'InventoryRejectedError', Cause: 'Insufficient inventory' } }),
    );
    const again = await failPayment(
      world.terminalDeps,
      failing({ CapturePayment: { Error: 'InventoryRejectedError', Cause: 'Insufficient inventory' } }),
    );
    // Assess
    expect(result).toMatchObject({ reason: 'inventory_rejected', status: 'failed', void: { voided: true } });
    expect(again.status).toBe('failed');
    expect(world.gateway.calls.filter((c) => c.op === 'void')).toEqual([{ op: 'void', key: 'chk_1:void' }]);
    expect(await world.checkouts.getCheckout('chk_1')).toMatchObject({
      status: 'failed',
      failureReason: 'inventory_rejected',
      failureMessage: 'Insufficient inventory',
    });
    expect(world.sender.sent.map((s) => JSON.parse(s.message.body).type)).toEqual(['payment.voided', 'checkout.failed']);
  });

  it('reads the checkout once for the void and once for the terminal write, and hands the written one to the notify', async () => {
    // Prepare: authorized, then refused by the merchant; the checkout reads counted from here
    await authorizePayment(world.deps, input);
    const reads = vi.spyOn(world.checkouts, 'getCheckout');
    // Act
    const result = await failPayment(
      world.terminalDeps,
      failing({ CapturePayment: { Error: 'InventoryRejectedError', Cause: 'Insufficient inventory' } }),
    );
    // Assess: the notify published from the checkout the terminal write left, with no read of its own
    expect(result).toMatchObject({ status: 'failed', notified: { delivered: 2 } });
    expect(reads).toHaveBeenCalledTimes(2);
    expect(world.sender.sent.map((s) => JSON.parse(s.message.body).type)).toEqual(['payment.voided', 'checkout.failed']);
  });

  it('a CapturePayment Task timeout before the decision is stored fails inventory_timeout', async () => {
    // Prepare: authorized, confirmation pending (the merchant's decision never recorded)
    await authorizePayment(world.deps, input);
    // Act
    const result = await failPayment(world.terminalDeps, failing({ CapturePayment: { Error: 'States.Timeout' } }));
    // Assess
    expect(result.reason).toBe('inventory_timeout');
    expect((await world.checkouts.getCheckout('chk_1'))?.failureReason).toBe('inventory_timeout');
  });

  it('a CapturePayment Task timeout after the decision is stored fails psp_error (read from the stored decision)', async () => {
    // Prepare: the merchant confirmed and the decision is stored; the capture then timed out
    await authorizePayment(world.deps, input);
    await runConfirmPhase(world.deps, input);
    // Act
    const result = await failPayment(world.terminalDeps, failing({ CapturePayment: { Error: 'States.Timeout' } }));
    // Assess
    expect(result).toMatchObject({ reason: 'psp_error', status: 'failed', void: { voided: true } });
    expect((await world.checkouts.getCheckout('chk_1'))?.failureReason).toBe('psp_error');
    expect(world.confirmer.requests).toHaveLength(1);
  });

  it('leaves a transient void error to the Task retry: nothing recorded, nothing published', async () => {
    // Prepare
    await authorizePayment(world.deps, input);
    await runConfirmPhase(world.deps, input);
    world.gateway.failNext.void = [new PspUnavailableError('503')];
    // Act
    const attempt = failPayment(world.terminalDeps, failing({ CapturePayment: { Error: 'PspRejectedError' } }));
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(PspUnavailableError);
    expect((await world.checkouts.getCheckout('chk_1'))?.status).toBe('processing');
    expect(world.sender.sent).toHaveLength(0);
  });

  it('records the failure anyway when the PSP refuses the void (a non-transient error)', async () => {
    // Prepare
    await authorizePayment(world.deps, input);
    await runConfirmPhase(world.deps, input);
    world.gateway.failNext.void = [new PspRejectedError('authorization expired')];
    // Act
    const result = await failPayment(world.terminalDeps, failing({ CapturePayment: { Error: 'PspRejectedError' } }));
    // Assess
    expect(result).toMatchObject({ reason: 'psp_error', status: 'failed', void: { voided: false, error: 'PspRejectedError' } });
    expect((await world.checkouts.getCheckout('chk_1'))?.status).toBe('failed');
  });
});

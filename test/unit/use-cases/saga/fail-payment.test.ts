/**
 * The failure path's one terminal Task (failPayment): the failure reason from the source state
 * and error name (the mapping the ASL's Pass states held before), a void only when something can
 * be authorized, the terminal `failed` write, and the result webhook in-process.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PaymentDeclinedError, PspRejectedError, PspUnavailableError } from '../../../../lambdas/errors';
import { authorizePayment } from '../../../../lambdas/use-cases/saga/authorize-payment';
import { failPayment, failureOutcome, type FailPaymentInput } from '../../../../lambdas/use-cases/saga/fail-payment';
import { resultEventId } from '../../../../lambdas/use-cases/saga/notify-merchant';
import { input, sagaWorld, type SagaWorld } from './saga-fixture';

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
    ['ConfirmInventory', 'InventoryRejectedError', 'inventory_rejected', true],
    ['ConfirmInventory', 'InventoryTimeoutError', 'inventory_timeout', true],
    ['ConfirmInventory', 'States.Timeout', 'inventory_timeout', true],
    ['ConfirmInventory', 'InventoryUnreachableError', 'inventory_unreachable', true],
    ['ConfirmInventory', 'Lambda.Unknown', 'inventory_unreachable', true],
    ['CapturePayment', 'States.Timeout', 'psp_error', true],
    ['CapturePayment', 'InventoryNotConfirmedError', 'psp_error', true],
  ] as const)('%s failing with %s: %s (void: %s)', (source, error, reason, voids) => {
    // Act
    const outcome = failureOutcome({ [source]: { Error: error, Cause: 'why' } });
    // Assess
    expect(outcome).toMatchObject({ source, reason, voids });
  });

  it('keeps the Cause of the caught error, and gives the waits their own message', () => {
    // Act / Assess
    expect(failureOutcome({ ConfirmInventory: { Error: 'InventoryRejectedError', Cause: 'Insufficient inventory' } }).cause).toBe(
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
      failing({ ConfirmInventory: { Error: 'InventoryRejectedError', Cause: 'Insufficient inventory' } }),
    );
    const again = await failPayment(
      world.terminalDeps,
      failing({ ConfirmInventory: { Error: 'InventoryRejectedError', Cause: 'Insufficient inventory' } }),
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

  it('a ConfirmInventory Task timeout fails inventory_timeout, an AwaitAuthentication timeout authentication_failed', async () => {
    // Prepare
    await authorizePayment(world.deps, input);
    // Act
    const result = await failPayment(world.terminalDeps, failing({ ConfirmInventory: { Error: 'States.Timeout' } }));
    // Assess
    expect(result.reason).toBe('inventory_timeout');
    expect((await world.checkouts.getCheckout('chk_1'))?.failureReason).toBe('inventory_timeout');
  });

  it('leaves a transient void error to the Task retry: nothing recorded, nothing published', async () => {
    // Prepare
    await authorizePayment(world.deps, input);
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
    world.gateway.failNext.void = [new PspRejectedError('authorization expired')];
    // Act
    const result = await failPayment(world.terminalDeps, failing({ CapturePayment: { Error: 'PspRejectedError' } }));
    // Assess
    expect(result).toMatchObject({ reason: 'psp_error', status: 'failed', void: { voided: false, error: 'PspRejectedError' } });
    expect((await world.checkouts.getCheckout('chk_1'))?.status).toBe('failed');
  });
});

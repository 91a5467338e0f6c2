/**
 * The outcome watch: a crash between the terminal write (CapturePayment / VoidAuthorization) and notifyMerchant
 * (result events stored) must not lose the merchant's webhook. The terminal write leaves the
 * checkout on the watch list; notifyMerchant drops it once the events are stored; past the bound,
 * the reconciliation sweep publishes them itself. Found by `npm run chaos` (SIGKILL mid-run).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE } from '../../../lambdas/domain/webhook-schedule';
import type { PspAuthorizationView } from '../../../lambdas/ports/payments';
import { PspTimeoutError } from '../../../lambdas/errors';
import { openCheckoutInstrument, runSagaOperation } from '../../../lambdas/use-cases/financial-instruments';
import { notifyMerchant, resultEventId } from '../../../lambdas/use-cases/saga/notify-merchant';
import {
  reconcileWithPsp,
  recoveryVoidKey,
  runReconciliationSweep,
  type ReconciliationDependencies,
} from '../../../lambdas/use-cases/reconciliation';
import { aPayment } from '../../support/payments';
import {
  aCheckout,
  aMerchant,
  FakeAuthorizationHolds,
  FakeCheckouts,
  fakeCipher,
  FakeConfirmer,
  FakeEventStore,
  FakeGateway,
  FakeInstruments,
  FakeMerchants,
  FakePspCallbackStore,
  FakeResumer,
  FakeWebhookEndpoints,
  FakeWebhookSender,
  oneConnector,
} from '../fakes';
import { FakeRecovery } from './reconciliation-fixture';

const NOW = new Date('2026-03-01T12:10:00.000Z');
let checkouts: FakeCheckouts;
let events: FakeEventStore;
let recovery: FakeRecovery;
let deps: ReconciliationDependencies;

beforeEach(async () => {
  checkouts = new FakeCheckouts();
  events = new FakeEventStore();
  recovery = new FakeRecovery();
  const merchants = new FakeMerchants();
  await merchants.createMerchant(aMerchant());
  const instruments = new FakeInstruments();
  const endpoints = new FakeWebhookEndpoints();
  await endpoints.createEndpoint({
    id: 'we_1',
    merchantId: 'mer_1',
    url: 'https://merchant.example/hooks',
    enabledEvents: ['*'],
    secretCiphertext: 'enc(whsec_1)',
    status: 'enabled',
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  deps = {
    checkouts,
    merchants,
    ...oneConnector(new FakeGateway()),
    confirmer: new FakeConfirmer(),
    cipher: fakeCipher,
    webhookEndpoints: endpoints,
    webhookSender: new FakeWebhookSender(),
    renderCheckout: (c) => ({ id: c.id, status: c.status }),
    instruments,
    authorizationHolds: new FakeAuthorizationHolds(instruments),
    events,
    schedule: DEFAULT_RETRY_SCHEDULE,
    random: () => 0.5,
    recovery,
    callbacks: new FakePspCallbackStore(),
    resumer: new FakeResumer(),
    executions: { isRunning: async () => false },
    executionArnFor: (id) => `arn:aws:states:us-east-1:0:execution:paystep-checkout:${id}`,
    stuckAfterMs: 60_000,
    leaseMs: 60_000,
    owner: 'test',
    now: () => NOW,
  };
  await checkouts.createCheckout(
    aCheckout({
      status: 'failed',
      failureReason: 'payment_declined',
      updatedAt: '2026-03-01T12:00:00.000Z',
      payment: aPayment({ paymentToken: 'tok_1', connector: 'fake' }, { status: 'failed', failureReason: 'payment_declined' }),
    }),
  );
});

describe('the outcome watch', () => {
  it('publishes the result events of a terminal checkout whose saga died before notifying, then forgets it', async () => {
    // Prepare: the terminal write happened 10 min ago (past the 1 min bound); no events exist.
    recovery.watches.set('chk_1', '2026-03-01T12:00:00.000Z');
    // Act
    const report = await runReconciliationSweep(deps);
    // Assess
    expect(report).toMatchObject({ watched: 1, notified: 1, errors: 0 });
    expect(await events.getEvent(resultEventId('chk_1', 'checkout.failed'))).toBeDefined();
    expect(recovery.watches.has('chk_1')).toBe(false);
  });

  it('leaves a fresh outcome watch to the live saga', async () => {
    recovery.watches.set('chk_1', '2026-03-01T12:09:30.000Z');
    const report = await runReconciliationSweep(deps);
    expect(report.notified).toBe(0);
    expect(await events.getEvent(resultEventId('chk_1', 'checkout.failed'))).toBeUndefined();
    expect(recovery.watches.has('chk_1')).toBe(true);
  });

  it("is dropped by the saga's own notifyMerchant once the events are stored", async () => {
    recovery.watches.set('chk_1', '2026-03-01T12:09:30.000Z');
    await notifyMerchant({ ...deps, outcomeWatch: recovery }, { checkoutId: 'chk_1' });
    expect(recovery.watches.has('chk_1')).toBe(false);
    expect(await events.getEvent(resultEventId('chk_1', 'checkout.failed'))).toBeDefined();
  });
});

describe('taking over a saga that died mid-capture', () => {
  it('settles the pending capture the PSP never saw as failed, voids, and ends failed (found by npm run chaos)', async () => {
    // Prepare: authorized and confirmed; the capture was reserved on the instrument, the PSP call
    // timed out and the host died; the PSP shows the authorization uncaptured.
    const instruments = new FakeInstruments();
    const gateway = new FakeGateway();
    deps = { ...deps, instruments, ...oneConnector(gateway) };
    const instrument = await openCheckoutInstrument(
      { instruments, ...oneConnector(gateway) },
      { checkoutId: 'chk_2', merchantId: 'mer_1', pspReference: 'auth_chk_2', authorizedAmount: 10050, currency: 'USD' },
    );
    gateway.failNext.capture = [new PspTimeoutError('timeout')];
    await expect(
      runSagaOperation(
        { instruments, ...oneConnector(gateway) },
        { instrumentId: instrument.id, step: 'capture', amount: 10050, pspIdempotencyKey: 'chk_2:capture' },
      ),
    ).rejects.toBeInstanceOf(PspTimeoutError);
    gateway.authorizations.set('auth_chk_2', {
      id: 'auth_chk_2',
      state: 'authorized',
      pspStatus: 'authorized',
      amount: 10050,
      currency: 'USD',
      reference: 'chk_2',
      capturedAmount: 0,
      refundedAmount: 0,
      capturableAmount: 10050,
      refundableAmount: 0,
    });
    await checkouts.createCheckout(
      aCheckout({
        id: 'chk_2',
        status: 'processing',
        updatedAt: '2026-03-01T12:00:00.000Z',
        payment: aPayment(
          {
            paymentToken: 'tok_2',
            connector: 'fake',
            pspReference: 'auth_chk_2',
            authorizedAmount: 10050,
            capturedAmount: 0,
            voided: false,
            inventoryConfirmation: 'confirmed',
            instrumentId: instrument.id,
          },
          { id: 'chk_2' },
        ),
      }),
    );
    recovery.watches.set('chk_2', '2026-03-01T12:00:00.000Z');
    // Act
    const report = await runReconciliationSweep(deps);
    // Assess
    expect(report.errors).toBe(0);
    expect(report.recovered).toEqual([{ checkoutId: 'chk_2', status: 'failed', action: 'voided' }]);
    expect((await checkouts.getCheckout('chk_2'))?.status).toBe('failed');
    expect(gateway.calls.filter((c) => c.op === 'void')).toEqual([{ op: 'void', key: 'chk_2:void' }]);
    const stored = await instruments.getInstrument(instrument.id);
    expect(stored?.operations.saga_capture?.status).toBe('failed');
    expect(stored).toMatchObject({ capturableAmount: 0, refundableAmount: 0 });
  });
});

describe('recovery of authorizations the checkout never recorded (hardening)', () => {
  it('voids every authorization found by reference, each with a PSP key derived from its own id', async () => {
    // Prepare: a stuck checkout whose authorization ids were never learned; the PSP filed two under it
    const gateway = new FakeGateway();
    const keysSeen = new Map<string, string>();
    const voided: string[] = [];
    gateway.voidAuthorization = async (input) => {
      // A PSP replays the first answer for a key it has seen, whatever the authorization.
      const first = keysSeen.get(input.idempotencyKey);
      if (first === undefined) {
        keysSeen.set(input.idempotencyKey, input.pspReference);
        voided.push(input.pspReference);
      }
      return { pspOperationId: `void_${first ?? input.pspReference}`, amount: 2500 };
    };
    const view = (id: string): PspAuthorizationView => ({
      id,
      state: 'authorized',
      pspStatus: 'authorized',
      amount: 2500,
      currency: 'USD',
      reference: 'chk_two',
      capturedAmount: 0,
      refundedAmount: 0,
      capturableAmount: 2500,
      refundableAmount: 0,
    });
    Object.assign(gateway, { findAuthorizations: async () => [view('auth_a'), view('auth_b')] });
    Object.assign(deps, oneConnector(gateway));
    const checkout = aCheckout({
      id: 'chk_two',
      status: 'processing',
      amount: 2500,
      payment: aPayment(
        { paymentToken: 'tok_2', connector: 'fake', authorizedAmount: 0, capturedAmount: 0, voided: false },
        { id: 'chk_two', amount: 2500 },
      ),
    });
    await checkouts.createCheckout(checkout);
    // Act
    const outcome = await reconcileWithPsp(deps, checkout);
    // Assess: both authorizations released, under distinct keys
    expect(outcome).toEqual({ status: 'failed', action: 'voided' });
    expect(voided.sort()).toEqual(['auth_a', 'auth_b']);
    expect([...keysSeen.keys()].sort()).toEqual([recoveryVoidKey('chk_two', 'auth_a'), recoveryVoidKey('chk_two', 'auth_b')]);
  });
});

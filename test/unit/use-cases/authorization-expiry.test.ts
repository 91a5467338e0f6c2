/**
 * Manual capture with port fakes: the saga authorizes and confirms exactly as for automatic
 * capture, then hands the authorization to the merchant instead of capturing (instrument active,
 * expiry watch written in the same step) and records `succeeded`; recordOutcome accepts it with nothing
 * captured only in that case. The expiry sweep warns once, then applies the merchant's default
 * (void = revoke, capture = capture the rest) through the instrument, exactly once.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  InstrumentMissingError,
  InventoryNotConfirmedError,
  PspRejectedError,
  PspUnavailableError,
} from '../../../lambdas/errors';
import { paymentBalances } from '../../../lambdas/domain/authorization-hold';
import { isVoided } from '../../../lambdas/domain/payment-attempt';
import { aPayment } from '../../support/payments';
import type { EventPublisher, PublishEventInput } from '../../../lambdas/ports/events';
import {
  runAuthorizationExpirySweep,
  type AuthorizationExpiryDependencies,
} from '../../../lambdas/use-cases/authorization-expiry';
import { operateInstrument } from '../../../lambdas/use-cases/financial-instruments';
import { authorizePayment } from '../../../lambdas/use-cases/saga/authorize-payment';
import { capturePayment } from '../../../lambdas/use-cases/saga/capture-payment';
import { holdForManualCapture } from '../../../lambdas/use-cases/saga/hold-for-manual-capture';
import { runConfirmPhase as confirmInventory } from './saga/saga-fixture';
import { checkoutEventTypes } from '../../../lambdas/use-cases/saga/notify-merchant';
import { recordOutcome } from '../../../lambdas/use-cases/saga/record-outcome';
import type { SagaPorts } from '../../../lambdas/use-cases/saga/shared';
import {
  aCheckout,
  aMerchant,
  FakeAuthorizationHolds,
  FakeCheckouts,
  fakeCipher,
  FakeConfirmer,
  FakeGateway,
  FakeInstruments,
  FakeMerchants,
  oneConnector,
} from '../fakes';

const input = { checkoutId: 'chk_1' };
const POLICY = { validitySeconds: 100, warningSeconds: 40 };

let checkouts: FakeCheckouts;
let merchants: FakeMerchants;
let gateway: FakeGateway;
let confirmer: FakeConfirmer;
let instruments: FakeInstruments;
let holds: FakeAuthorizationHolds;
let published: PublishEventInput[];
let saga: SagaPorts;
let clockMs: number;

const publisher: EventPublisher = {
  async publishEvent(event) {
    const created = !published.some((p) => p.sourceKey === event.sourceKey);
    if (created) published.push(event);
    return { eventId: `evt_${event.sourceKey}`, created, deliveries: 1 };
  },
};

function expiryDeps(): AuthorizationExpiryDependencies {
  return {
    checkouts,
    merchants,
    instruments,
    ...oneConnector(gateway),
    holds,
    publisher,
    renderCheckout: (c, instrument) => ({
      id: c.id,
      status: c.status,
      captured_amount: c.payment === undefined ? undefined : paymentBalances(c.payment, instrument).capturedAmount,
      voided: isVoided(c.payment),
    }),
    owner: 'sweep:test',
    leaseMs: 5_000,
    now: () => new Date(clockMs),
  };
}

/** Seconds after the authorization (the instrument's createdAt). */
async function at(secondsAfterAuthorization: number): Promise<void> {
  const instrument = await instruments.getInstrument('fi_1');
  clockMs = Date.parse(instrument!.createdAt) + secondsAfterAuthorization * 1000;
}

/** Runs the saga steps of a confirmed manual checkout up to the recorded outcome. */
async function heldCheckout(): Promise<void> {
  await authorizePayment(saga, input);
  await confirmInventory(saga, input);
  await capturePayment(saga, input); // the hand-over, then succeeded
}

beforeEach(async () => {
  checkouts = new FakeCheckouts();
  merchants = new FakeMerchants();
  gateway = new FakeGateway();
  confirmer = new FakeConfirmer();
  instruments = new FakeInstruments();
  holds = new FakeAuthorizationHolds(instruments);
  published = [];
  clockMs = Date.now();
  saga = {
    checkouts,
    merchants,
    ...oneConnector(gateway),
    confirmer,
    cipher: fakeCipher,
    renderCheckout: (c) => ({ id: c.id }),
    instruments,
    authorizationHolds: holds,
    authorizationPolicy: POLICY,
  };
  await merchants.createMerchant(aMerchant());
  await checkouts.createCheckout(
    aCheckout({
      status: 'processing',
      captureMethod: 'manual',
      payment: aPayment({ paymentToken: 'tok_1', connector: 'fake' }),
    }),
  );
});

describe('manual capture in the saga', () => {
  it('authorizes and confirms as usual, then holds instead of capturing: instrument active, expiry watched', async () => {
    // Act
    await heldCheckout();
    // Assess
    expect(gateway.calls.map((c) => c.op)).toEqual(['authorize']);
    expect(confirmer.requests).toHaveLength(1);
    const checkout = await checkouts.getCheckout('chk_1');
    const instrument = await instruments.getInstrument('fi_1');
    expect(checkout).toMatchObject({ status: 'succeeded', payment: { inventoryConfirmation: 'confirmed' } });
    expect(paymentBalances(checkout!.payment!, instrument).capturedAmount).toBe(0);
    expect(isVoided(checkout?.payment)).toBe(false);
    expect(instrument).toMatchObject({ status: 'active', capturableAmount: 10050, refundableAmount: 0 });
    const expiresAt = new Date(Date.parse(instrument!.createdAt) + 100_000).toISOString();
    expect(checkout?.payment?.authorizationExpiresAt).toBe(expiresAt);
    expect(await holds.getHold('fi_1')).toMatchObject({
      checkoutId: 'chk_1',
      stage: 'held',
      expiresAt,
      warnAt: new Date(Date.parse(instrument!.createdAt) + 60_000).toISOString(),
    });
    expect(checkouts.events.map((e) => e.type)).toEqual(['authorized', 'inventory_confirmed', 'authorization_held', 'succeeded']);
    expect(checkouts.events.at(-1)?.data).toMatchObject({ capture_method: 'manual', captured_amount: 0 });
    expect(checkoutEventTypes(checkout!)).toEqual(['payment.authorized', 'checkout.succeeded']);
  });

  it('is idempotent: the capture step run again writes nothing new', async () => {
    // Prepare
    await heldCheckout();
    const rows = checkouts.events.length;
    // Act
    const again = await capturePayment(saga, input);
    // Assess
    expect(again).toEqual({ capturedAmount: 0, held: true, status: 'succeeded' });
    expect(checkouts.events).toHaveLength(rows);
    expect(gateway.calls.map((c) => c.op)).toEqual(['authorize']);
  });

  it('never holds without the inventory confirmation (same rule as the capture)', async () => {
    // Prepare: confirmation pending, but the state's input says not required (the stored value wins)
    await authorizePayment(saga, input);
    // Act
    const early = capturePayment(saga, { ...input, inventoryConfirmationRequired: false });
    // Assess
    await expect(early).rejects.toBeInstanceOf(InventoryNotConfirmedError);
    expect((await instruments.getInstrument('fi_1'))?.status).toBe('pending');
    expect(holds.holds.size).toBe(0);
  });

  it('refuses to hold an authorization no instrument holds (the saga then voids)', async () => {
    // Prepare: a payment whose instrument link is missing (the ledger is mandatory; the record is broken)
    await authorizePayment(saga, input);
    await confirmInventory(saga, input);
    const stored = (await checkouts.getCheckout('chk_1'))!;
    const { instrumentId: _lost, ...unlinked } = stored.payment!;
    await checkouts.updatePayment('chk_1', unlinked, stored.version);
    // Act + Assess
    await expect(capturePayment(saga, input)).rejects.toThrow(InstrumentMissingError);
    expect(holds.holds.size).toBe(0);
  });

  it('recordOutcome refuses succeeded with nothing captured unless the authorization is held', async () => {
    // Prepare: an automatic checkout, authorized and confirmed, but not captured
    const automatic = aCheckout({
      id: 'chk_2',
      status: 'processing',
      payment: aPayment(
        {
          paymentToken: 'tok_2',
          connector: 'fake',
          pspReference: 'auth_2',
          authorizedAmount: 10050,
          capturedAmount: 0,
          voided: false,
          inventoryConfirmation: 'confirmed',
        },
        { id: 'chk_2' },
      ),
    });
    await checkouts.createCheckout(automatic);
    // A manual one that was confirmed but never handed over.
    await checkouts.createCheckout({ ...automatic, id: 'chk_3', captureMethod: 'manual' });
    // Act
    const refusedAutomatic = recordOutcome(saga, { checkoutId: 'chk_2', outcome: { status: 'succeeded' } });
    const refusedManual = recordOutcome(saga, { checkoutId: 'chk_3', outcome: { status: 'succeeded' } });
    // Assess
    await expect(refusedAutomatic).rejects.toThrow(/captured 0 of 10050/);
    await expect(refusedManual).rejects.toThrow(/captured 0 of 10050/);
  });

  it('lets the merchant capture part through the instrument once held', async () => {
    // Prepare
    await heldCheckout();
    // Act
    const capture = await operateInstrument({ instruments, ...oneConnector(gateway) }, 'mer_1', 'fi_1', {
      kind: 'capture',
      amount: 4000,
      currency: 'USD',
    });
    // Assess
    expect(capture.instrument).toMatchObject({ capturableAmount: 6050, refundableAmount: 4000, status: 'active' });
    expect(gateway.calls.filter((c) => c.op === 'capture')).toEqual([
      { op: 'capture', key: `fi_1:${capture.operation.id}`, amount: 4000 },
    ]);
  });
});

describe('runAuthorizationExpirySweep', () => {
  beforeEach(async () => {
    await heldCheckout();
  });

  it('does nothing before the warning time', async () => {
    // Prepare
    await at(59);
    // Act
    const report = await runAuthorizationExpirySweep(expiryDeps());
    // Assess
    expect(report).toMatchObject({ due: 0, warned: 0, expired: [] });
    expect(published).toEqual([]);
  });

  it('publishes authorization.expiring once, with an id from the instrument and type', async () => {
    // Prepare
    await at(60);
    // Act
    const first = await runAuthorizationExpirySweep(expiryDeps());
    const second = await runAuthorizationExpirySweep(expiryDeps());
    // Assess
    expect(first.warned).toBe(1);
    expect(second).toMatchObject({ due: 0, warned: 0 });
    expect(published.map((p) => [p.type, p.sourceKey, p.objectId])).toEqual([
      ['authorization.expiring', 'fi_1:authorization.expiring', 'chk_1'],
    ]);
    expect(published[0]?.data).toMatchObject({
      expired_authorization_action: 'void',
      expires_at: (await holds.getHold('fi_1'))?.expiresAt,
    });
    expect(checkouts.events.filter((e) => e.type === 'authorization_expiring')).toHaveLength(1);
    expect((await holds.getHold('fi_1'))?.stage).toBe('warned');
  });

  it('voids at expiry by default: revoke through the instrument, once, with a PSP key from the instrument', async () => {
    // Prepare
    await at(60);
    await runAuthorizationExpirySweep(expiryDeps());
    await at(100);
    // Act
    const report = await runAuthorizationExpirySweep(expiryDeps());
    await at(200);
    const later = await runAuthorizationExpirySweep(expiryDeps());
    // Assess
    expect(report.expired).toEqual([{ instrumentId: 'fi_1', checkoutId: 'chk_1', action: 'void', outcome: 'succeeded' }]);
    expect(later).toMatchObject({ due: 0, expired: [] });
    expect(gateway.calls.filter((c) => c.op !== 'authorize')).toEqual([{ op: 'void', key: 'fi_1:expiry_void' }]);
    expect(await instruments.getInstrument('fi_1')).toMatchObject({ status: 'voided', capturableAmount: 0 });
    expect(published.map((p) => p.type)).toEqual([
      'authorization.expiring',
      'financial_instrument.transaction.succeeded',
      'payment.voided',
    ]);
    expect(published[2]?.data).toMatchObject({ object: { id: 'chk_1', voided: true, captured_amount: 0 } });
    expect(checkouts.events.filter((e) => e.type === 'authorization_expired').map((e) => e.data)).toMatchObject([
      { action: 'void', outcome: 'succeeded', amount: 10050 },
    ]);
    expect(await holds.getHold('fi_1')).toMatchObject({ stage: 'done', outcome: 'void' });
  });

  it('captures the rest at expiry when the merchant chose capture, after its own partial capture', async () => {
    // Prepare
    await merchants.updateSettings('mer_1', { ...aMerchant().settings, expiredAuthorizationAction: 'capture' });
    await operateInstrument({ instruments, ...oneConnector(gateway) }, 'mer_1', 'fi_1', {
      kind: 'capture',
      amount: 4000,
      currency: 'USD',
    });
    await at(150); // the sweep was down through the warning: it warns, then acts
    // Act
    const report = await runAuthorizationExpirySweep(expiryDeps());
    // Assess
    expect(report.warned).toBe(1);
    expect(report.expired).toEqual([{ instrumentId: 'fi_1', checkoutId: 'chk_1', action: 'capture', outcome: 'succeeded' }]);
    expect(gateway.calls.filter((c) => c.op === 'capture').map((c) => [c.key.endsWith('expiry_capture'), c.amount])).toEqual([
      [false, 4000],
      [true, 6050],
    ]);
    expect(await instruments.getInstrument('fi_1')).toMatchObject({
      status: 'active',
      capturableAmount: 0,
      refundableAmount: 10050,
    });
    expect(published.map((p) => p.type)).toEqual([
      'authorization.expiring',
      'financial_instrument.transaction.succeeded',
      'payment.captured',
    ]);
    expect(published[2]?.data).toMatchObject({ object: { captured_amount: 10050 } });
  });

  it('closes a hold the merchant already captured in full, without any event', async () => {
    // Prepare
    await operateInstrument({ instruments, ...oneConnector(gateway) }, 'mer_1', 'fi_1', {
      kind: 'capture',
      amount: 10050,
      currency: 'USD',
    });
    await at(100);
    // Act
    const report = await runAuthorizationExpirySweep(expiryDeps());
    // Assess
    expect(report).toMatchObject({ closed: 1, warned: 0, expired: [] });
    expect(published).toEqual([]);
    expect(await holds.getHold('fi_1')).toMatchObject({ stage: 'done', outcome: 'nothing_held' });
  });

  it('resumes the same operation after a PSP outage: one void at the PSP, same key', async () => {
    // Prepare
    await at(100);
    gateway.failNext.void = [new PspUnavailableError('PSP down')];
    // Act
    const failed = await runAuthorizationExpirySweep(expiryDeps());
    await at(106); // the lease (5 s) ran out
    const resumed = await runAuthorizationExpirySweep(expiryDeps());
    // Assess
    expect(failed.errors).toBe(1);
    expect(resumed.expired).toEqual([{ instrumentId: 'fi_1', checkoutId: 'chk_1', action: 'void', outcome: 'succeeded' }]);
    expect(gateway.calls.filter((c) => c.op === 'void')).toEqual([
      { op: 'void', key: 'fi_1:expiry_void' },
      { op: 'void', key: 'fi_1:expiry_void' },
    ]);
    expect(published.filter((p) => p.type === 'authorization.expiring')).toHaveLength(1);
  });

  it('records a definitive PSP refusal on the timeline and stops watching', async () => {
    // Prepare
    await at(100);
    gateway.failNext.void = [new PspRejectedError('authorization expired at the PSP')];
    // Act
    const report = await runAuthorizationExpirySweep(expiryDeps());
    // Assess
    expect(report.expired).toEqual([{ instrumentId: 'fi_1', checkoutId: 'chk_1', action: 'void', outcome: 'failed' }]);
    expect(checkouts.events.filter((e) => e.type === 'authorization_expired').map((e) => e.data)).toMatchObject([
      { action: 'void', outcome: 'failed' },
    ]);
    expect(await holds.getHold('fi_1')).toMatchObject({ stage: 'done', outcome: 'failed' });
  });
});

describe('runAuthorizationExpirySweep on a checkout that did not succeed', () => {
  it('voids whatever the merchant default says: only a succeeded checkout is captured at expiry', async () => {
    // Prepare: held, but the saga failed afterwards (the hand-over written, succeeded never)
    await authorizePayment(saga, input);
    await confirmInventory(saga, input);
    const confirmed = (await checkouts.getCheckout('chk_1'))!;
    await holdForManualCapture(saga, confirmed, confirmed.payment!);
    await recordOutcome(saga, { ...input, outcome: { status: 'failed', reason: 'psp_error' } }).catch(() => undefined);
    await merchants.updateSettings('mer_1', { ...aMerchant().settings, expiredAuthorizationAction: 'capture' });
    await at(100);
    // Act
    const report = await runAuthorizationExpirySweep(expiryDeps());
    // Assess
    expect(report.expired).toEqual([{ instrumentId: 'fi_1', checkoutId: 'chk_1', action: 'void', outcome: 'succeeded' }]);
    expect(gateway.calls.map((c) => c.op)).toEqual(['authorize', 'void']);
  });
});

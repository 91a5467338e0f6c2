/**
 * The financial-instrument use cases with port fakes: PSP keys derived from the ledger row, the
 * reservation before the PSP call, compensation after a definitive refusal, a pending operation
 * after a transient one that the retry resumes (same PSP key, no second debit), merchant
 * isolation, and the saga link (each authorization becomes an instrument; capture and void move
 * its balances; re-runs call the PSP no more).
 */
import { aPayment } from '../../support/payments';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createInstrument,
  getOwnedInstrument,
  openCheckoutInstrument,
  operateInstrument,
  runSagaOperation,
  type InstrumentDependencies,
} from '../../../lambdas/use-cases/financial-instruments';
import { settleSagaOperationFromPspTruth } from '../../../lambdas/use-cases/saga-operation-settlement';
import { balancesOfPayment } from '../../../lambdas/use-cases/payment-ledger';
import { authorizePayment } from '../../../lambdas/use-cases/saga/authorize-payment';
import { capturePayment } from '../../../lambdas/use-cases/saga/capture-payment';
import type { SagaPorts } from '../../../lambdas/use-cases/saga/shared';
import { voidAuthorization } from '../../../lambdas/use-cases/saga/void-authorization';
import { balancesFromTransactions, instrumentTransactions } from '../../../lambdas/domain/instrument-ledger';
import { NotFoundError, PaymentDeclinedError, PspRejectedError, PspUnavailableError } from '../../../lambdas/errors';
import type { EventPublisher, PublishEventInput } from '../../../lambdas/ports/events';
import type { OperationKeyTarget } from '../../../lambdas/ports/idempotency';
import {
  aCheckout,
  aMerchant,
  fakeCipher,
  FakeAuthorizationHolds,
  FakeCheckouts,
  FakeConfirmer,
  FakeGateway,
  FakeInstruments,
  FakeMerchants,
  oneConnector,
} from '../fakes';

let instruments: FakeInstruments;
let gateway: FakeGateway;
let deps: InstrumentDependencies;

beforeEach(() => {
  instruments = new FakeInstruments();
  gateway = new FakeGateway();
  deps = { instruments, ...oneConnector(gateway) };
  gateway.authorizations.set('auth_ext', {
    id: 'auth_ext',
    state: 'authorized',
    pspStatus: 'authorized',
    amount: 10000,
    currency: 'USD',
    reference: 'ord_77',
    capturedAmount: 0,
    refundedAmount: 0,
    capturableAmount: 10000,
    refundableAmount: 0,
  });
});

async function authorizedInstrument(amount = 10000) {
  return await createInstrument(deps, 'mer_1', { type: 'authorized', amount, currency: 'USD', pspReference: 'auth_ext' });
}

describe('createInstrument', () => {
  it('authorizes a token at once, under a PSP key derived from the instrument', async () => {
    // Act
    const instrument = await createInstrument(deps, 'mer_1', {
      type: 'token',
      amount: 2500,
      currency: 'USD',
      paymentToken: 'tok_1',
      metadata: { order: 'A1' },
    });
    // Assess
    expect(gateway.calls).toEqual([{ op: 'authorize', key: `${instrument.id}:authorize`, amount: 2500 }]);
    expect(instrument).toMatchObject({
      status: 'active',
      capturableAmount: 2500,
      refundableAmount: 0,
      pspReference: `auth_${instrument.id}`,
      metadata: { order: 'A1' },
    });
    expect(instrumentTransactions(instrument)).toMatchObject([
      {
        type: 'authorization',
        transactionId: `auth_${instrument.id}`,
        captureAmount: 2500,
        refundAmount: 0,
        status: 'succeeded',
      },
    ]);
  });

  it('fails the instrument on a decline and answers the decline again on resume, without a second authorization', async () => {
    // Prepare
    gateway.failNext.authorize = [new PaymentDeclinedError('card_declined')];
    const pins: OperationKeyTarget[] = [];
    // Act
    const first = createInstrument(
      deps,
      'mer_1',
      { type: 'token', amount: 2500, currency: 'USD', paymentToken: 'tok_1' },
      { pin: async (t) => void pins.push(t) },
    );
    await expect(first).rejects.toBeInstanceOf(PaymentDeclinedError);
    const again = createInstrument(
      deps,
      'mer_1',
      { type: 'token', amount: 2500, currency: 'USD', paymentToken: 'tok_1' },
      { resume: pins[0]! },
    );
    // Assess
    await expect(again).rejects.toBeInstanceOf(PaymentDeclinedError);
    expect(gateway.calls).toHaveLength(1);
    expect((await instruments.getInstrument(pins[0]!.instrumentId))?.status).toBe('failed');
  });

  it('validates an authorized instrument against the PSP and claims the authorization once', async () => {
    // Act
    const instrument = await authorizedInstrument();
    const second = authorizedInstrument(100);
    // Assess
    expect(instrument).toMatchObject({
      type: 'authorized',
      status: 'active',
      capturableAmount: 10000,
      pspReference: 'auth_ext',
      pspPaymentReference: 'ord_77',
    });
    await expect(second).rejects.toMatchObject({ status: 409, code: 'psp_reference_in_use', param: 'psp_reference' });
    expect(gateway.calls).toEqual([]);
  });

  it('answers 422 psp_reference_not_found for an authorization the PSP does not know', async () => {
    const creation = createInstrument(deps, 'mer_1', { type: 'captured', amount: 1, currency: 'USD', pspReference: 'auth_nope' });
    await expect(creation).rejects.toMatchObject({ status: 422, code: 'psp_reference_not_found', param: 'psp_reference' });
  });

  it('refuses an authorized instrument larger than what the PSP can still capture', async () => {
    const creation = authorizedInstrument(10001);
    await expect(creation).rejects.toMatchObject({ status: 422, code: 'amount_exceeds_capturable' });
  });
});

describe('operateInstrument', () => {
  it('calls the PSP with <instrument>:<operation> and pins the operation before the balance moves', async () => {
    // Prepare
    const instrument = await authorizedInstrument();
    const pinnedWhileUntouched: boolean[] = [];
    // Act
    const result = await operateInstrument(
      deps,
      'mer_1',
      instrument.id,
      { kind: 'capture', amount: 4000, currency: 'USD' },
      {
        pin: async (target) => {
          const current = await instruments.getInstrument(target.instrumentId);
          pinnedWhileUntouched.push(
            current?.operations[target.operationId!] === undefined && current?.capturableAmount === 10000,
          );
        },
      },
    );
    // Assess
    expect(pinnedWhileUntouched).toEqual([true]);
    expect(gateway.calls).toEqual([{ op: 'capture', key: `${instrument.id}:${result.operation.id}`, amount: 4000 }]);
    expect(result.transactions.map((t) => [t.captureAmount, t.refundAmount])).toEqual([
      [-4000, 0],
      [0, 4000],
    ]);
    expect(result.instrument).toMatchObject({ capturableAmount: 6000, refundableAmount: 4000, pendingCaptures: 0 });
  });

  it('undoes the reservation when the PSP refuses definitively (failed transaction, exact balances)', async () => {
    // Prepare
    const instrument = await authorizedInstrument();
    gateway.failNext.capture = [new PspRejectedError('Sandbox PSP refused capture: HTTP 409 authorization_voided')];
    // Act
    const attempt = operateInstrument(deps, 'mer_1', instrument.id, { kind: 'capture', amount: 4000, currency: 'USD' });
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(PspRejectedError);
    const stored = (await instruments.getInstrument(instrument.id))!;
    expect(stored).toMatchObject({ capturableAmount: 10000, refundableAmount: 0, pendingCaptures: 0 });
    expect(instrumentTransactions(stored).at(-1)).toMatchObject({ type: 'capture', status: 'failed', failureCode: 'psp_error' });
    expect(balancesFromTransactions(stored)).toEqual({ capturable: 10000, refundable: 0 });
  });

  it('leaves a transient failure pending and resumes it with the same PSP key, debiting once', async () => {
    // Prepare
    const instrument = await authorizedInstrument();
    await operateInstrument(deps, 'mer_1', instrument.id, { kind: 'capture', amount: 10000, currency: 'USD' });
    gateway.failNext.refund = [new PspUnavailableError('503')];
    const pins: OperationKeyTarget[] = [];
    // Act
    const first = operateInstrument(
      deps,
      'mer_1',
      instrument.id,
      { kind: 'refund', amount: 3000, currency: 'USD' },
      { pin: async (t) => void pins.push(t) },
    );
    await expect(first).rejects.toBeInstanceOf(PspUnavailableError);
    const pending = (await instruments.getInstrument(instrument.id))!;
    // A retry with the same key: the body is ignored, the pinned operation continues.
    const resumed = await operateInstrument(
      deps,
      'mer_1',
      instrument.id,
      { kind: 'refund', amount: 9999, currency: 'USD' },
      { resume: pins[0]! },
    );
    // Assess
    expect(pending.refundableAmount).toBe(7000);
    expect(instrumentTransactions(pending).at(-1)).toMatchObject({ status: 'pending', refundAmount: -3000 });
    const refundCalls = gateway.calls.filter((c) => c.op === 'refund');
    expect(refundCalls).toHaveLength(2);
    expect(new Set(refundCalls.map((c) => c.key))).toEqual(new Set([`${instrument.id}:${pins[0]!.operationId}`]));
    expect(resumed.instrument.refundableAmount).toBe(7000);
    expect(resumed.transactions).toMatchObject([{ status: 'succeeded', refundAmount: -3000 }]);
  });

  it('publishes transaction and payment.refunded events once per settled operation, none for a pending one', async () => {
    // Prepare
    const published: PublishEventInput[] = [];
    const sourceKeys = new Set<string>();
    const events: EventPublisher = {
      publishEvent: async (input) => {
        const created = !sourceKeys.has(input.sourceKey);
        sourceKeys.add(input.sourceKey);
        if (created) published.push(input);
        return { eventId: `evt_${input.sourceKey}`, created, deliveries: 0 };
      },
    };
    deps = { ...deps, events };
    const instrument = await authorizedInstrument();
    await operateInstrument(deps, 'mer_1', instrument.id, { kind: 'capture', amount: 10000, currency: 'USD' });
    gateway.failNext.refund = [new PspUnavailableError('503')];
    const pins: OperationKeyTarget[] = [];
    // Act
    await expect(
      operateInstrument(
        deps,
        'mer_1',
        instrument.id,
        { kind: 'refund', amount: 2500, currency: 'USD' },
        { pin: async (t) => void pins.push(t) },
      ),
    ).rejects.toBeInstanceOf(PspUnavailableError);
    const afterPending = published.length;
    await operateInstrument(
      deps,
      'mer_1',
      instrument.id,
      { kind: 'refund', amount: 2500, currency: 'USD' },
      { resume: pins[0]! },
    );
    await operateInstrument(
      deps,
      'mer_1',
      instrument.id,
      { kind: 'refund', amount: 2500, currency: 'USD' },
      { resume: pins[0]! },
    );
    // Assess
    expect(afterPending).toBe(1);
    expect(published.map((e) => e.type)).toEqual([
      'financial_instrument.transaction.succeeded',
      'financial_instrument.transaction.succeeded',
      'payment.refunded',
    ]);
    expect(published.every((e) => e.merchantId === 'mer_1' && e.objectId === instrument.id)).toBe(true);
    expect(published[2]!.data).toMatchObject({ object: { amount: 2500, currency: 'USD', refundable_amount: 7500 } });
  });

  it("treats another merchant's instrument as not found", async () => {
    const instrument = await authorizedInstrument();
    await expect(getOwnedInstrument(deps, 'mer_2', instrument.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(operateInstrument(deps, 'mer_2', instrument.id, { kind: 'revoke' })).rejects.toMatchObject({ status: 404 });
    expect(gateway.calls).toEqual([]);
  });

  it('never lets concurrent refunds exceed the refundable amount', async () => {
    // Prepare
    const instrument = await authorizedInstrument(100);
    await operateInstrument(deps, 'mer_1', instrument.id, { kind: 'capture', amount: 100, currency: 'USD' });
    // Act
    const outcomes = await Promise.allSettled(
      Array.from({ length: 25 }, () =>
        operateInstrument(deps, 'mer_1', instrument.id, { kind: 'refund', amount: 10, currency: 'USD' }),
      ),
    );
    // Assess
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(10);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.code)).toEqual(
      Array(15).fill('amount_exceeds_refundable'),
    );
    expect((await instruments.getInstrument(instrument.id))?.refundableAmount).toBe(0);
    expect(gateway.calls.filter((c) => c.op === 'refund').reduce((sum, c) => sum + (c.amount ?? 0), 0)).toBe(100);
  });
});

describe('the saga link', () => {
  let checkouts: FakeCheckouts;
  let merchants: FakeMerchants;
  let saga: SagaPorts;
  const input = { checkoutId: 'chk_1' };

  beforeEach(async () => {
    checkouts = new FakeCheckouts();
    merchants = new FakeMerchants();
    saga = {
      checkouts,
      merchants,
      ...oneConnector(gateway),
      confirmer: new FakeConfirmer(),
      cipher: fakeCipher,
      renderCheckout: (c) => ({ id: c.id }),
      instruments,
      authorizationHolds: new FakeAuthorizationHolds(instruments),
    };
    await merchants.createMerchant(aMerchant({ settings: { inventoryConfirmationEnabled: false } }));
    await checkouts.createCheckout(
      aCheckout({ status: 'processing', payment: aPayment({ paymentToken: 'tok_1', connector: 'fake' }) }),
    );
  });

  it('turns the authorization into a pending instrument linked to the checkout', async () => {
    // Act
    await authorizePayment(saga, input);
    // Assess
    const checkout = await checkouts.getCheckout('chk_1');
    expect(checkout?.payment?.instrumentId).toBe('fi_1');
    expect(await instruments.getInstrument('fi_1')).toMatchObject({
      type: 'authorized',
      status: 'pending',
      checkoutId: 'chk_1',
      capturableAmount: 10050,
      pspReference: 'auth_chk_1',
      pspPaymentReference: 'chk_1',
    });
  });

  it('records the capture: capturable 0, refundable = amount, PSP key unchanged, run twice = one capture', async () => {
    // Prepare
    await authorizePayment(saga, input);
    // Act
    await capturePayment(saga, input);
    await runSagaOperation(deps, { instrumentId: 'fi_1', step: 'capture', amount: 10050, pspIdempotencyKey: 'chk_1:capture' });
    // Assess
    expect(gateway.calls.filter((c) => c.op === 'capture')).toEqual([{ op: 'capture', key: 'chk_1:capture', amount: 10050 }]);
    const instrument = await instruments.getInstrument('fi_1');
    expect(instrument).toMatchObject({ status: 'active', capturableAmount: 0, refundableAmount: 10050 });
    expect((await balancesOfPayment(instruments, (await checkouts.getCheckout('chk_1'))?.payment)).capturedAmount).toBe(10050);
    // The merchant can now refund through the instrument API.
    const refund = await operateInstrument(deps, 'mer_1', 'fi_1', { kind: 'refund', amount: 50, currency: 'USD' });
    expect(refund.instrument.refundableAmount).toBe(10000);
  });

  it('records the void: capturable 0, refundable 0, instrument voided', async () => {
    // Prepare
    await authorizePayment(saga, input);
    // Act
    await voidAuthorization(saga, input);
    // Assess
    expect(gateway.calls.filter((c) => c.op === 'void')).toEqual([{ op: 'void', key: 'chk_1:void' }]);
    expect(await instruments.getInstrument('fi_1')).toMatchObject({ status: 'voided', capturableAmount: 0, refundableAmount: 0 });
  });

  it('keeps the instrument away from the merchant while the saga holds it', async () => {
    await authorizePayment(saga, input);
    const early = operateInstrument(deps, 'mer_1', 'fi_1', { kind: 'capture', amount: 1, currency: 'USD' });
    await expect(early).rejects.toMatchObject({ status: 409, code: 'instrument_pending' });
  });

  it('opens the same instrument when the step runs again', async () => {
    const first = await openCheckoutInstrument(deps, {
      checkoutId: 'chk_9',
      merchantId: 'mer_1',
      pspReference: 'auth_9',
      authorizedAmount: 5,
      currency: 'USD',
    });
    const second = await openCheckoutInstrument(deps, {
      checkoutId: 'chk_9',
      merchantId: 'mer_1',
      pspReference: 'auth_9',
      authorizedAmount: 5,
      currency: 'USD',
    });
    expect(second.id).toBe(first.id);
    expect(instruments.rows.size).toBe(1);
  });
});

describe("the saga's full capture in one instrument write", () => {
  let writes: string[];
  const capture = {
    instrumentId: 'fi_7',
    step: 'capture' as const,
    amount: 4000,
    pspIdempotencyKey: 'chk_7:capture',
    oneWrite: true,
  };

  beforeEach(async () => {
    writes = [];
    const counted = instruments;
    for (const method of ['reserveOperation', 'settleOperation', 'reserveAndSettleOperation'] as const) {
      const original = counted[method].bind(counted) as (...args: unknown[]) => Promise<unknown>;
      (counted as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
        writes.push(method);
        return await original(...args);
      };
    }
    await openCheckoutInstrument(deps, {
      checkoutId: 'chk_7',
      merchantId: 'mer_1',
      pspReference: 'auth_7',
      authorizedAmount: 4000,
      currency: 'USD',
    });
  });

  it('captures with one write holding reserve plus settle, and a re-run calls the PSP no more and writes nothing', async () => {
    // Act
    const first = await runSagaOperation(deps, capture);
    const again = await runSagaOperation(deps, capture);
    // Assess
    expect(writes).toEqual(['reserveAndSettleOperation']);
    expect(gateway.calls.filter((c) => c.op === 'capture')).toEqual([{ op: 'capture', key: 'chk_7:capture', amount: 4000 }]);
    expect(first.operation).toMatchObject({ id: 'saga_capture', status: 'succeeded', pspAmount: 4000 });
    expect(again.operation).toEqual(first.operation);
    const instrument = await instruments.getInstrument('fi_7');
    expect(instrument).toMatchObject({ status: 'active', capturableAmount: 0, refundableAmount: 4000, pendingCaptures: 0 });
    expect(balancesFromTransactions(instrument!)).toEqual({ capturable: 0, refundable: 4000 });
  });

  it('goes through reserve and settle for a capture of less than the capturable amount', async () => {
    // Act
    const partial = await runSagaOperation(deps, { ...capture, amount: 1500 });
    // Assess
    expect(writes).toEqual(['reserveOperation', 'settleOperation']);
    expect(partial.operation).toMatchObject({ status: 'succeeded', pspAmount: 1500 });
    expect(await instruments.getInstrument('fi_7')).toMatchObject({ capturableAmount: 2500, refundableAmount: 1500 });
  });

  it('leaves the reservation pending after an unknown PSP outcome, and the retry settles it with the same PSP key', async () => {
    // Prepare
    gateway.failNext.capture = [new PspUnavailableError('PSP 503')];
    // Act
    const failed = runSagaOperation(deps, capture);
    await expect(failed).rejects.toBeInstanceOf(PspUnavailableError);
    const pending = await instruments.getInstrument('fi_7');
    const retried = await runSagaOperation(deps, capture);
    // Assess
    expect(pending).toMatchObject({ capturableAmount: 0, pendingCaptures: 1 });
    expect(pending?.operations['saga_capture']).toMatchObject({ status: 'pending' });
    expect(retried.operation).toMatchObject({ status: 'succeeded' });
    expect(gateway.calls.filter((c) => c.op === 'capture').map((c) => c.key)).toEqual(['chk_7:capture', 'chk_7:capture']);
    expect(await instruments.getInstrument('fi_7')).toMatchObject({
      capturableAmount: 0,
      refundableAmount: 4000,
      pendingCaptures: 0,
    });
  });

  it('records a refused capture as failed in one write, balances untouched, and answers the refusal', async () => {
    // Prepare
    gateway.failNext.capture = [new PaymentDeclinedError('authorization expired')];
    // Act
    const refused = runSagaOperation(deps, capture);
    // Assess
    await expect(refused).rejects.toBeInstanceOf(PaymentDeclinedError);
    expect(writes).toEqual(['reserveAndSettleOperation']);
    const instrument = await instruments.getInstrument('fi_7');
    expect(instrument).toMatchObject({ status: 'pending', capturableAmount: 4000, refundableAmount: 0, pendingCaptures: 0 });
    expect(instrument?.operations['saga_capture']).toMatchObject({ status: 'failed', failureCode: 'payment_declined' });
  });

  it('lets two concurrent runs capture once: one write lands, the other answers what it recorded', async () => {
    // Act
    const [a, b] = await Promise.all([runSagaOperation(deps, capture), runSagaOperation(deps, capture)]);
    // Assess
    expect(a.operation).toEqual(b.operation);
    expect(await instruments.getInstrument('fi_7')).toMatchObject({
      capturableAmount: 0,
      refundableAmount: 4000,
      pendingCaptures: 0,
      version: 2,
    });
    expect(new Set(gateway.calls.filter((c) => c.op === 'capture').map((c) => c.key))).toEqual(new Set(['chk_7:capture']));
  });
});

describe("settleSagaOperationFromPspTruth: the saga's operation from the PSP's status", () => {
  beforeEach(async () => {
    await openCheckoutInstrument(deps, {
      checkoutId: 'chk_8',
      merchantId: 'mer_1',
      pspReference: 'auth_8',
      authorizedAmount: 3000,
      currency: 'USD',
    });
  });
  const truth = { instrumentId: 'fi_8', operationId: 'saga_capture' as const, pspIdempotencyKey: 'chk_8:capture' };

  it('records a capture the PSP made while no operation was reserved (the process died during the call), once', async () => {
    // Act
    await settleSagaOperationFromPspTruth(deps, { ...truth, outcome: 'succeeded', pspOperationId: 'status_query:auth_8' });
    const once = await instruments.getInstrument('fi_8');
    await settleSagaOperationFromPspTruth(deps, { ...truth, outcome: 'succeeded', pspOperationId: 'status_query:auth_8' });
    // Assess
    expect(once).toMatchObject({ status: 'active', capturableAmount: 0, refundableAmount: 3000, pendingCaptures: 0 });
    expect(once?.operations['saga_capture']).toMatchObject({
      status: 'succeeded',
      pspAmount: 3000,
      pspIdempotencyKey: 'chk_8:capture',
      pspOperationId: 'status_query:auth_8',
    });
    expect(await instruments.getInstrument('fi_8')).toEqual(once);
    expect(gateway.calls.filter((c) => c.op === 'capture')).toEqual([]);
  });

  it('settles a reserved capture as the PSP says, and records nothing for a capture that neither happened nor was reserved', async () => {
    // Prepare: a reservation left pending by an unknown outcome
    gateway.failNext.capture = [new PspUnavailableError('PSP 503')];
    await expect(
      runSagaOperation(deps, { instrumentId: 'fi_8', step: 'capture', amount: 3000, pspIdempotencyKey: 'chk_8:capture' }),
    ).rejects.toBeInstanceOf(PspUnavailableError);
    await openCheckoutInstrument(deps, {
      checkoutId: 'chk_9',
      merchantId: 'mer_1',
      pspReference: 'auth_9',
      authorizedAmount: 700,
      currency: 'USD',
    });
    const untouched = await instruments.getInstrument('fi_9');
    // Act
    await settleSagaOperationFromPspTruth(deps, { ...truth, outcome: 'failed', failure: { code: 'psp_error', message: 'x' } });
    await settleSagaOperationFromPspTruth(deps, { ...truth, instrumentId: 'fi_9', outcome: 'failed' });
    // Assess
    const settled = await instruments.getInstrument('fi_8');
    expect(settled).toMatchObject({ status: 'pending', capturableAmount: 3000, pendingCaptures: 0 });
    expect(settled?.operations['saga_capture']).toMatchObject({ status: 'failed', failureCode: 'psp_error' });
    expect(await instruments.getInstrument('fi_9')).toEqual(untouched);
  });
});

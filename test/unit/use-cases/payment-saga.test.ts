/**
 * The saga steps' rules with port fakes: idempotency keys per step, re-runs that call the PSP no
 * more, never a capture without confirmation, never `succeeded` without the full capture.
 * (NotifyMerchant's rules live in notify-merchant.test.ts.)
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  authorizePayment,
  capturePayment,
  confirmInventory,
  messageFromCause,
  recordOutcome,
  voidAuthorization,
  INVENTORY_RECORD_RESERVE_MS,
  INVENTORY_STEP_BUDGET_MS,
  type SagaDependencies,
} from '../../../lambdas/use-cases/payment-saga';
import type { InventoryConfirmationRequest, InventoryDecision } from '../../../lambdas/ports/inventory';
import {
  InventoryRejectedError,
  InventoryTimeoutError,
  InventoryUnreachableError,
  PaymentDeclinedError,
  PspRejectedError,
  PspUnavailableError,
} from '../../../lambdas/errors';
import { authorizationOf } from '../../../lambdas/domain/payment-attempt';
import { aPayment } from '../../support/payments';
import {
  aCheckout,
  aMerchant,
  fakeCipher,
  FakeCheckouts,
  FakeConfirmer,
  FakeGateway,
  FakeMerchants,
  FakeWebhookEndpoints,
  FakeWebhookSender,
} from '../fakes';

let checkouts: FakeCheckouts;
let merchants: FakeMerchants;
let gateway: FakeGateway;
let confirmer: FakeConfirmer;
let endpoints: FakeWebhookEndpoints;
let sender: FakeWebhookSender;
let deps: SagaDependencies;
const input = { checkoutId: 'chk_1' };

const processing = () =>
  aCheckout({
    status: 'processing',
    payment: aPayment({ paymentToken: 'tok_1', connector: 'fake' }),
  });

beforeEach(async () => {
  checkouts = new FakeCheckouts();
  merchants = new FakeMerchants();
  gateway = new FakeGateway();
  confirmer = new FakeConfirmer();
  endpoints = new FakeWebhookEndpoints();
  sender = new FakeWebhookSender();
  deps = {
    checkouts,
    merchants,
    gateway,
    confirmer,
    cipher: fakeCipher,
    webhookEndpoints: endpoints,
    webhookSender: sender,
    renderCheckout: (c) => ({ id: c.id, status: c.status, merchant_order_ref: c.merchantOrderRef }),
  };
  await merchants.createMerchant(aMerchant());
  await checkouts.createCheckout(processing());
});

describe('authorizePayment', () => {
  it('authorizes the full amount with the key <checkout>:authorize and records the reference', async () => {
    const result = await authorizePayment(deps, input);
    expect(result).toEqual({ pspReference: 'auth_chk_1', authorizedAmount: 10050, inventoryConfirmationRequired: true });
    expect(gateway.calls).toEqual([{ op: 'authorize', key: 'chk_1:authorize', amount: 10050 }]);
    const stored = await checkouts.getCheckout('chk_1');
    expect(stored?.payment).toMatchObject({ inventoryConfirmation: 'pending' });
    expect(authorizationOf(stored?.payment)).toEqual({ pspReference: 'auth_chk_1', amount: 10050 });
    expect(checkouts.events.map((e) => e.type)).toEqual(['authorized']);
  });

  it('does not call the PSP again when run twice', async () => {
    await authorizePayment(deps, input);
    const again = await authorizePayment(deps, input);
    expect(again.pspReference).toBe('auth_chk_1');
    expect(gateway.calls).toHaveLength(1);
  });

  it('skips confirmation when the merchant has it disabled', async () => {
    await merchants.updateSettings('mer_1', { inventoryConfirmationEnabled: false });
    const result = await authorizePayment(deps, input);
    expect(result.inventoryConfirmationRequired).toBe(false);
    expect((await checkouts.getCheckout('chk_1'))?.payment?.inventoryConfirmation).toBe('not_required');
  });

  it('records and rethrows a decline', async () => {
    gateway.failNext.authorize = [new PaymentDeclinedError('card_declined')];
    await expect(authorizePayment(deps, input)).rejects.toBeInstanceOf(PaymentDeclinedError);
    expect(checkouts.events).toMatchObject([{ type: 'authorization_declined', data: { decline_code: 'card_declined' } }]);
    expect(authorizationOf((await checkouts.getCheckout('chk_1'))?.payment)).toBeUndefined();
  });

  it('lets transient PSP errors through for the state machine to retry', async () => {
    gateway.failNext.authorize = [new PspUnavailableError('503')];
    await expect(authorizePayment(deps, input)).rejects.toBeInstanceOf(PspUnavailableError);
    await authorizePayment(deps, input);
    expect(gateway.calls.map((c) => c.key)).toEqual(['chk_1:authorize', 'chk_1:authorize']);
  });
});

describe('confirmInventory', () => {
  beforeEach(async () => {
    await authorizePayment(deps, input);
  });

  it('sends the seed payload (major-unit amount next to amount_minor) signed with the decrypted secret', async () => {
    await confirmInventory(deps, input);
    expect(confirmer.requests).toEqual([
      {
        merchant_key: 'mk_1',
        merchant_order_ref: 'order_ref_456',
        order_ref: 'chk_1',
        amount: 100.5,
        amount_minor: 10050,
        currency: 'USD',
        items: [{ sku: 'sku-1', name: 'Mug', quantity: 2 }],
      },
    ]);
    expect((await checkouts.getCheckout('chk_1'))?.payment?.inventoryConfirmation).toBe('confirmed');
  });

  it.each([
    ['inventory_rejected', InventoryRejectedError, 'Insufficient inventory'],
    ['inventory_timeout', InventoryTimeoutError, 'no answer in 10 s'],
    ['inventory_unreachable', InventoryUnreachableError, 'ECONNREFUSED'],
  ] as const)('%s is recorded and thrown as %s', async (reason, errorClass, message) => {
    confirmer.decision = { outcome: 'rejected', reason, message, latencyMs: 7 };
    await expect(confirmInventory(deps, input)).rejects.toThrow(errorClass);
    await expect(confirmInventory(deps, input)).rejects.toThrow(message);
    const stored = await checkouts.getCheckout('chk_1');
    expect(stored?.payment?.inventoryConfirmation).toBe('rejected');
    expect(checkouts.events.find((e) => e.type === 'inventory_rejected')?.data).toMatchObject({
      failure_reason: reason,
      message,
    });
  });
});

/** A merchant that answers `decision` after `answerAfterMs`, recording the timeout it was given. */
class TimedConfirmer extends FakeConfirmer {
  readonly timeouts: (number | undefined)[] = [];
  constructor(
    decision: InventoryDecision,
    private readonly answerAfterMs: number,
  ) {
    super(decision);
  }
  override async confirmInventory(
    url: string,
    request: InventoryConfirmationRequest,
    _secret?: string,
    options?: { timeoutMs?: number },
  ): Promise<InventoryDecision> {
    this.timeouts.push(options?.timeoutMs);
    await new Promise((r) => setTimeout(r, this.answerAfterMs));
    return super.confirmInventory(url, request);
  }
}

describe("confirmInventory with the merchant's allowed_ports", () => {
  it("hands the merchant's allowed_ports to the confirmer, so the connect-time guard honours them", async () => {
    // Prepare
    await authorizePayment(deps, input);
    const current = (await merchants.getMerchant('mer_1'))!;
    await merchants.updateSettings('mer_1', { ...current.settings, allowedPorts: [8443] });
    const seen: ({ allowedPorts?: readonly number[] } | undefined)[] = [];
    deps.confirmer = {
      confirmInventory: async (_url, _request, _secret, options) => {
        seen.push(options);
        return { outcome: 'confirmed', latencyMs: 1, httpStatus: 200 };
      },
    };
    // Act
    await confirmInventory(deps, input);
    // Assess
    expect(seen).toHaveLength(1);
    expect(seen[0]?.allowedPorts).toEqual([8443]);
  });
});

describe('confirmInventory time budget ($$.State.EnteredTime)', () => {
  beforeEach(async () => {
    await authorizePayment(deps, input);
  });

  it('gives the merchant what is left of the 10 s since the state was entered, less the reserve for recording', async () => {
    // Prepare: a cold start and the reads before the call took 4 s of the Task's 10 s.
    const timed = new TimedConfirmer({ outcome: 'confirmed', latencyMs: 5, httpStatus: 200 }, 0);
    deps.confirmer = timed;
    const stateEnteredTime = new Date(Date.now() - 4_000).toISOString();
    // Act
    await confirmInventory(deps, { ...input, stateEnteredTime });
    // Assess
    const expected = INVENTORY_STEP_BUDGET_MS - INVENTORY_RECORD_RESERVE_MS - 4_000;
    expect(timed.timeouts).toHaveLength(1);
    expect(timed.timeouts[0]).toBeLessThanOrEqual(expected);
    expect(timed.timeouts[0]).toBeGreaterThan(expected - 250);
    expect((await checkouts.getCheckout('chk_1'))?.payment?.inventoryConfirmation).toBe('confirmed');
  });

  it('writes nothing when the merchant answers after the deadline, and reports inventory_timeout', async () => {
    // Prepare: 150 ms left before the deadline; the merchant answers 200 OK after 400 ms.
    const timed = new TimedConfirmer({ outcome: 'confirmed', latencyMs: 400, httpStatus: 200 }, 400);
    deps.confirmer = timed;
    const stateEnteredTime = new Date(Date.now() - (INVENTORY_STEP_BUDGET_MS - INVENTORY_RECORD_RESERVE_MS - 150)).toISOString();
    const eventsBefore = checkouts.events.length;
    // Act
    const outcome = confirmInventory(deps, { ...input, stateEnteredTime });
    // Assess
    await expect(outcome).rejects.toBeInstanceOf(InventoryTimeoutError);
    expect(timed.requests).toHaveLength(1);
    expect((await checkouts.getCheckout('chk_1'))?.payment?.inventoryConfirmation).toBe('pending');
    expect(checkouts.events.slice(eventsBefore).map((e) => e.type)).toEqual(['inventory_confirmation_sent']);
  });

  it('does not call the merchant, nor write, when the time was gone before the call', async () => {
    // Prepare: the state was entered 11 s ago (a long cold start on a retried invoke).
    const timed = new TimedConfirmer({ outcome: 'confirmed', latencyMs: 5, httpStatus: 200 }, 0);
    deps.confirmer = timed;
    const eventsBefore = checkouts.events.length;
    // Act
    const outcome = confirmInventory(deps, { ...input, stateEnteredTime: new Date(Date.now() - 11_000).toISOString() });
    // Assess
    await expect(outcome).rejects.toBeInstanceOf(InventoryTimeoutError);
    expect(timed.requests).toHaveLength(0);
    expect(checkouts.events.length).toBe(eventsBefore);
    expect((await checkouts.getCheckout('chk_1'))?.payment?.inventoryConfirmation).toBe('pending');
  });
});

describe('capturePayment', () => {
  it('refuses to capture while the confirmation is pending or rejected', async () => {
    await authorizePayment(deps, input);
    await expect(capturePayment(deps, input)).rejects.toBeInstanceOf(PspRejectedError);
    confirmer.decision = { outcome: 'rejected', reason: 'inventory_rejected', message: 'no', latencyMs: 1 };
    await expect(confirmInventory(deps, input)).rejects.toBeInstanceOf(InventoryRejectedError);
    await expect(capturePayment(deps, input)).rejects.toBeInstanceOf(PspRejectedError);
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
    expect((await checkouts.getCheckout('chk_1'))?.payment?.capturedAmount).toBe(10050);
  });
});

describe('voidAuthorization', () => {
  it('is a no-op when nothing was authorized', async () => {
    expect(await voidAuthorization(deps, input)).toEqual({ voided: false, skipped: 'not_authorized' });
    expect(gateway.calls).toHaveLength(0);
  });

  it('voids once with <checkout>:void', async () => {
    await authorizePayment(deps, input);
    expect(await voidAuthorization(deps, input)).toEqual({ voided: true });
    expect(await voidAuthorization(deps, input)).toEqual({ voided: true });
    expect(gateway.calls.filter((c) => c.op === 'void')).toEqual([{ op: 'void', key: 'chk_1:void' }]);
  });

  it('never voids (or refunds) money already captured', async () => {
    await merchants.updateSettings('mer_1', { inventoryConfirmationEnabled: false });
    await authorizePayment(deps, input);
    await capturePayment(deps, input);
    expect(await voidAuthorization(deps, input)).toEqual({ voided: false, skipped: 'already_captured' });
    expect(gateway.calls.map((c) => c.op)).toEqual(['authorize', 'capture']);
  });
});

describe('recordOutcome', () => {
  it('refuses succeeded unless the full amount was captured', async () => {
    await expect(recordOutcome(deps, { ...input, outcome: { status: 'succeeded' } })).rejects.toBeInstanceOf(PspRejectedError);
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

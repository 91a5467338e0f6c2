/**
 * CapturePayment's confirm phase (inventory-confirmation.ts) with port fakes: the seed payload signed with the decrypted secret, each
 * refusal recorded and thrown as its typed error, the merchant's allowed_ports, and the 10 s
 * budget counted from the state's entry (nothing written after the deadline).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SagaPorts } from '../../../../lambdas/use-cases/saga/shared';
import type { FakeCheckouts, FakeConfirmer, FakeMerchants } from '../../fakes';
import { input, runConfirmPhase as confirmInventory, sagaWorld } from './saga-fixture';
import { authorizePayment } from '../../../../lambdas/use-cases/saga/authorize-payment';
import {
  confirmBeforeCapture,
  INVENTORY_RECORD_RESERVE_MS,
  INVENTORY_STEP_BUDGET_MS,
} from '../../../../lambdas/use-cases/saga/inventory-confirmation';
import type { InventoryConfirmationRequest, InventoryDecision } from '../../../../lambdas/ports/inventory';
import { InventoryRejectedError, InventoryTimeoutError, InventoryUnreachableError } from '../../../../lambdas/errors';
import { FakeConfirmer as Confirmer } from '../../fakes';

let checkouts: FakeCheckouts;
let merchants: FakeMerchants;
let confirmer: FakeConfirmer;
let deps: SagaPorts;

beforeEach(async () => {
  ({ checkouts, merchants, confirmer, deps } = await sagaWorld());
});

describe('the confirm phase', () => {
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
    ['inventory_unreachable', InventoryUnreachableError, 'ECONNREFUSED'],
  ] as const)('%s is recorded and thrown as %s', async (reason, errorClass, message) => {
    confirmer.decision = { outcome: 'rejected', reason, message, latencyMs: 7 };
    await expect(confirmInventory(deps, input)).rejects.toThrow(errorClass);
    await expect(confirmInventory(deps, input)).rejects.toThrow(errorClass); // a re-run reads the stored refusal
    expect(confirmer.requests).toHaveLength(1);
    const stored = await checkouts.getCheckout('chk_1');
    expect(stored?.payment?.inventoryConfirmation).toBe('rejected');
    expect(checkouts.events.find((e) => e.type === 'inventory_rejected')?.data).toMatchObject({
      failure_reason: reason,
      message,
    });
  });
});

/** A merchant that answers `decision` after `answerAfterMs`, recording the timeout it was given. */
class TimedConfirmer extends Confirmer {
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

describe('the confirm phase: one write, or none', () => {
  it("records the merchant's decision as the step's one write, with the send time in its row", async () => {
    // Prepare
    await authorizePayment(deps, input);
    const before = (await checkouts.getCheckout('chk_1'))!;
    const rowsBefore = checkouts.events.length;
    const sentNoEarlierThan = Date.now();
    // Act
    await confirmInventory(deps, input);
    // Assess
    expect((await checkouts.getCheckout('chk_1'))!.version).toBe(before.version + 1);
    const rows = checkouts.events.slice(rowsBefore);
    expect(rows.map((e) => e.type)).toEqual(['inventory_confirmed']);
    const sentAt = Date.parse(String(rows[0]!.data?.sent_at));
    expect(sentAt).toBeGreaterThanOrEqual(sentNoEarlierThan);
    expect(sentAt).toBeLessThanOrEqual(Date.parse(rows[0]!.at));
  });

  it('returns the checkout at once, reading and writing nothing, when AuthorizePayment found confirmation not required', async () => {
    // Prepare: count the reads the phase makes.
    let reads = 0;
    const counting = {
      ...deps,
      checkouts: Object.assign(Object.create(checkouts) as FakeCheckouts, {
        getCheckout: async (id: string) => {
          reads += 1;
          return checkouts.getCheckout(id);
        },
      }),
      merchants: Object.assign(Object.create(merchants) as FakeMerchants, {
        getMerchant: async (id: string) => {
          reads += 1;
          return merchants.getMerchant(id);
        },
      }),
    };
    const checkout = (await checkouts.getCheckout('chk_1'))!;
    const rowsBefore = checkouts.events.length;
    // Act
    const result = await confirmBeforeCapture(counting, checkout, { inventoryConfirmationRequired: false });
    // Assess
    expect(result).toBe(checkout);
    expect(reads).toBe(0);
    expect(confirmer.requests).toHaveLength(0);
    expect(checkouts.events.length).toBe(rowsBefore);
  });

  it('does not ask the merchant again once a confirmation is stored (a re-run of the Task)', async () => {
    // Prepare
    await authorizePayment(deps, input);
    await confirmInventory(deps, input);
    const rowsBefore = checkouts.events.length;
    // Act
    const again = await confirmInventory(deps, { ...input, inventoryConfirmationRequired: true });
    // Assess
    expect(again.payment?.inventoryConfirmation).toBe('confirmed');
    expect(confirmer.requests).toHaveLength(1);
    expect(checkouts.events.length).toBe(rowsBefore);
  });

  it('re-reads the checkout once and writes on its new version when it moved before the decision write', async () => {
    // Prepare: the checkout the phase got is one version behind the store.
    await authorizePayment(deps, input);
    const stale = (await checkouts.getCheckout('chk_1'))!;
    await checkouts.updatePayment('chk_1', stale.payment!, stale.version);
    // Act
    const written = await confirmBeforeCapture(deps, stale, { inventoryConfirmationRequired: true });
    // Assess
    expect(written.version).toBe(stale.version + 2);
    expect(written.payment?.inventoryConfirmation).toBe('confirmed');
    expect(confirmer.requests).toHaveLength(1);
  });
});

describe("the confirm phase with the merchant's allowed_ports", () => {
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

describe('the confirm phase time budget ($$.State.EnteredTime)', () => {
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

  it('writes nothing when the confirmer times out (its timeout is the deadline, its timer may fire in the same millisecond)', async () => {
    // Prepare: the confirmer reports its timeout at once, well before the deadline by the clock.
    confirmer.decision = { outcome: 'rejected', reason: 'inventory_timeout', message: 'no answer in 10 s', latencyMs: 9_500 };
    const eventsBefore = checkouts.events.length;
    // Act
    const outcome = confirmInventory(deps, input);
    // Assess
    await expect(outcome).rejects.toBeInstanceOf(InventoryTimeoutError);
    expect(confirmer.requests).toHaveLength(1);
    expect((await checkouts.getCheckout('chk_1'))?.payment?.inventoryConfirmation).toBe('pending');
    expect(checkouts.events.slice(eventsBefore)).toEqual([]);
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
    expect(checkouts.events.slice(eventsBefore)).toEqual([]);
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

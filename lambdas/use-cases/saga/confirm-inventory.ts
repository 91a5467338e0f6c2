/**
 * The saga's ConfirmInventory step: one signed POST to the merchant (never retried; the merchant
 * may already have blocked stock), given the time left until inventoryAnswerDeadline. Confirmed
 * returns; every other outcome is recorded and thrown as its typed error. Past the deadline
 * nothing is written (the Task has timed out or is about to, and the state machine is voiding):
 * the step throws InventoryTimeoutError, without calling the merchant when the time was gone
 * before the call. The merchant's answer is the step's one write: the decision row carries the
 * time the request was sent (`sent_at`), so there is no separate `sent` row. When confirmation is
 * not required (AuthorizePayment's result, passed in by the ASL) the step returns at once, reading
 * nothing: the state is always entered, so the success path needs no Choice state.
 */
import type { Checkout, CheckoutPayment } from '../../domain/model';
import { toMajorUnitsNumber } from '../../domain/money';
import {
  ConcurrentModificationError,
  InventoryRejectedError,
  InventoryTimeoutError,
  InventoryUnreachableError,
} from '../../errors';
import type { InventoryConfirmationRequest, InventoryDecision } from '../../ports/inventory';
import { loadCheckout, requirePayment, type SagaPorts, type StepInput } from './shared';

export type ConfirmInventoryPorts = Pick<SagaPorts, 'checkouts' | 'merchants' | 'cipher' | 'confirmer'>;

/** The ConfirmInventory Task's TimeoutSeconds (statemachines/checkout.asl.json), counted from state entry. */
export const INVENTORY_STEP_BUDGET_MS = 10_000;
/** Kept back from the merchant for reading the checkout and writing the answer before the Task times out. */
export const INVENTORY_RECORD_RESERVE_MS = 500;

export interface ConfirmInventoryInput extends StepInput {
  /** `$$.State.EnteredTime` (ISO 8601), passed by the ASL's Parameters; absent: the step starts now. */
  stateEnteredTime?: string;
  /** `$.AuthorizePaymentResult.inventoryConfirmationRequired`; false: nothing to confirm, return at once. */
  inventoryConfirmationRequired?: boolean;
}

export type ConfirmInventoryOutput = { confirmed: true; latencyMs: number } | { confirmed: false; skipped: 'not_required' };

/**
 * When the merchant's answer must be in (epoch ms): the state's entry plus the Task's 10 s, less
 * the reserve for recording it. A cold start, a retried invoke and the reads before the call all
 * come out of the merchant's time, never on top of the Task's.
 */
export function inventoryAnswerDeadline(stateEnteredTime: string | undefined, now: number = Date.now()): number {
  const entered = stateEnteredTime === undefined ? Number.NaN : Date.parse(stateEnteredTime);
  const start = Number.isFinite(entered) && entered <= now ? entered : now;
  return start + INVENTORY_STEP_BUDGET_MS - INVENTORY_RECORD_RESERVE_MS;
}

/** The seed payload the merchant confirms: the order, its major-unit amount next to `amount_minor`, its items. */
export function inventoryRequest(checkout: Checkout, merchantKey: string): InventoryConfirmationRequest {
  return {
    merchant_key: merchantKey,
    merchant_order_ref: checkout.merchantOrderRef,
    order_ref: checkout.id,
    amount: toMajorUnitsNumber(checkout.amount, checkout.currency),
    amount_minor: checkout.amount,
    currency: checkout.currency,
    items: checkout.items.map((item) => ({ sku: item.sku, ...(item.name ? { name: item.name } : {}), quantity: item.quantity })),
  };
}

export async function confirmInventory(
  deps: ConfirmInventoryPorts,
  { checkoutId, stateEnteredTime, inventoryConfirmationRequired }: ConfirmInventoryInput,
): Promise<ConfirmInventoryOutput> {
  // CapturePayment still checks the stored `not_required` (this flag only saves the reads).
  if (inventoryConfirmationRequired === false) return { confirmed: false, skipped: 'not_required' };
  const deadline = inventoryAnswerDeadline(stateEnteredTime);
  const checkout = await loadCheckout(deps, checkoutId);
  const payment = requirePayment(checkout);
  const merchant = await deps.merchants.getMerchant(checkout.merchantId);
  const url = merchant?.settings.inventoryConfirmationUrl;
  if (!merchant || !url) throw new InventoryUnreachableError('The merchant has no inventory confirmation URL configured');
  const signingSecret = await deps.cipher.decrypt(merchant.signingSecretCiphertext);
  if (deadline - Date.now() <= 0) {
    throw new InventoryTimeoutError(
      'The inventory confirmation step had no time left to call the merchant (the 10 s count from the step start)',
    );
  }
  const sentAt = new Date().toISOString();
  const decision = await deps.confirmer.confirmInventory(url, inventoryRequest(checkout, merchant.merchantKey), signingSecret, {
    timeoutMs: deadline - Date.now(),
    ...(merchant.settings.allowedPorts !== undefined ? { allowedPorts: merchant.settings.allowedPorts } : {}),
  });
  if (Date.now() > deadline) {
    throw new InventoryTimeoutError(
      `The merchant's answer came after the step's 10 s (${decision.outcome}); nothing was recorded`,
    );
  }
  await recordDecision(deps, checkout, payment, decision, { sentAt, url, deadline });
  if (decision.outcome === 'confirmed') return { confirmed: true, latencyMs: decision.latencyMs };
  switch (decision.reason) {
    case 'inventory_rejected':
      throw new InventoryRejectedError(decision.message);
    case 'inventory_timeout':
      throw new InventoryTimeoutError(decision.message);
    case 'inventory_unreachable':
      throw new InventoryUnreachableError(decision.message);
  }
}

/**
 * Stores the merchant's answer on the payment (`confirmed` / `rejected`) with its timeline row, in
 * one conditional write on the version read before the call. Should the checkout have moved in
 * between, it is read again and the write retried once, still only before the deadline.
 */
async function recordDecision(
  deps: Pick<SagaPorts, 'checkouts'>,
  checkout: Checkout,
  payment: CheckoutPayment,
  decision: InventoryDecision,
  sent: { sentAt: string; url: string; deadline: number },
): Promise<void> {
  try {
    await writeDecision(deps, checkout.id, checkout.version, payment, decision, sent);
  } catch (error) {
    if (!(error instanceof ConcurrentModificationError)) throw error;
    const current = await loadCheckout(deps, checkout.id);
    if (Date.now() > sent.deadline) {
      throw new InventoryTimeoutError(`The merchant's answer could not be recorded within the step's 10 s (${decision.outcome})`);
    }
    await writeDecision(deps, checkout.id, current.version, { ...payment, ...current.payment }, decision, sent);
  }
}

function writeDecision(
  deps: Pick<SagaPorts, 'checkouts'>,
  checkoutId: string,
  version: number,
  payment: CheckoutPayment,
  decision: InventoryDecision,
  { sentAt, url }: { sentAt: string; url: string },
): Promise<Checkout> {
  if (decision.outcome === 'confirmed') {
    return deps.checkouts.updatePayment(checkoutId, { ...payment, inventoryConfirmation: 'confirmed' }, version, {
      type: 'inventory_confirmed',
      data: { latency_ms: decision.latencyMs, http_status: decision.httpStatus, sent_at: sentAt, url },
    });
  }
  return deps.checkouts.updatePayment(checkoutId, { ...payment, inventoryConfirmation: 'rejected' }, version, {
    type: 'inventory_rejected',
    data: {
      failure_reason: decision.reason,
      message: decision.message,
      latency_ms: decision.latencyMs,
      sent_at: sentAt,
      url,
      ...(decision.httpStatus !== undefined ? { http_status: decision.httpStatus } : {}),
    },
  });
}

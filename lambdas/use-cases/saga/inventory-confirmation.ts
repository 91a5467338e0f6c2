/**
 * The confirm phase of the saga's CapturePayment Task (capture-payment.ts runs it before the
 * capture, on the checkout it read once for both phases): one signed POST to the merchant (never
 * retried; the merchant may already have blocked stock), given the time left until
 * inventoryAnswerDeadline. Confirmed returns the checkout as written; every other outcome is
 * recorded and thrown as its typed error. Past the deadline (or on the confirmer's timeout, which is
 * the deadline) nothing is written: the phase throws InventoryTimeoutError, without calling the
 * merchant when the time was gone before the call. The
 * merchant's answer is the phase's one write: the decision row carries the time the request was
 * sent (`sent_at`), so there is no separate `sent` row.
 *
 * The merchant is called at most once per payment although the Task retries: the phase runs only
 * while no decision is stored (a re-run after the decision reads it and goes on to the capture),
 * and every error it raises is one the Task does not retry (confirmPhaseError): the Catch voids.
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
import { loadCheckout, requirePayment, type SagaPorts } from './shared';

export type InventoryPhasePorts = Pick<SagaPorts, 'checkouts' | 'merchants' | 'cipher' | 'confirmer'>;

/** The merchant's budget, counted from the CapturePayment state's entry (the Task's own TimeoutSeconds covers the capture too). */
export const INVENTORY_STEP_BUDGET_MS = 10_000;
/** Kept back from the merchant for writing the answer before the 10 s are up. */
export const INVENTORY_RECORD_RESERVE_MS = 500;

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

/** What the ASL passes for the confirm phase (the CapturePayment state's Parameters). */
export interface InventoryPhaseInput {
  /** `$$.State.EnteredTime` (ISO 8601): the 10 s count from the state's entry (a retry keeps it); absent: from now. */
  stateEnteredTime?: string;
  /** `$.AuthorizePaymentResult.inventoryConfirmationRequired`; false: nothing to confirm, go straight to the capture. */
  inventoryConfirmationRequired?: boolean;
}

/** Whether the merchant's decision (or that none is needed) is stored: the capture phase may run. */
export function inventoryDecided(payment: Pick<CheckoutPayment, 'inventoryConfirmation'> | undefined): boolean {
  return payment?.inventoryConfirmation === 'confirmed' || payment?.inventoryConfirmation === 'not_required';
}

/** What the caller may do beside the confirm phase's calls. */
export interface InventoryPhaseHooks {
  /**
   * Called once the merchant confirmed, in time, just before the decision is written: the caller
   * may start reads the capture needs (its instrument) beside that write. Not called for a refusal.
   */
  onAnswer?: () => void;
}

/**
 * Runs the confirm phase on `checkout` (read by the caller, once for both phases) and returns the
 * checkout to capture from: the one the decision write returned, or `checkout` itself when there
 * is nothing to ask (not required, or decided before this run). A decision stored as `rejected`
 * (a run that threw it already) is thrown again without asking the merchant.
 */
export async function confirmBeforeCapture(
  deps: InventoryPhasePorts,
  checkout: Checkout,
  { stateEnteredTime, inventoryConfirmationRequired }: InventoryPhaseInput,
  hooks: InventoryPhaseHooks = {},
): Promise<Checkout> {
  // The capture phase still checks the stored `not_required` (assertCapturable): this flag only saves the merchant read.
  if (inventoryConfirmationRequired === false || inventoryDecided(checkout.payment)) return checkout;
  const deadline = inventoryAnswerDeadline(stateEnteredTime);
  try {
    return await askMerchant(deps, checkout, deadline, hooks);
  } catch (error) {
    throw confirmPhaseError(error);
  }
}

/** Inventory errors pass as they are (each maps to its failure reason); anything else becomes InventoryUnreachableError. */
function confirmPhaseError(error: unknown): Error {
  if (
    error instanceof InventoryRejectedError ||
    error instanceof InventoryTimeoutError ||
    error instanceof InventoryUnreachableError
  ) {
    return error;
  }
  // A store error (even when writing the decision after the merchant answered), a missing payment,
  // a decrypt failure: never retried by the Task, so the merchant is never asked twice.
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return new InventoryUnreachableError(`Inventory confirmation failed before a decision was recorded (${name}: ${message})`);
}

async function askMerchant(
  deps: InventoryPhasePorts,
  checkout: Checkout,
  deadline: number,
  { onAnswer }: InventoryPhaseHooks,
): Promise<Checkout> {
  const payment = requirePayment(checkout);
  if (payment.inventoryConfirmation === 'rejected') {
    throw decisionError(
      payment.inventoryRejection ?? 'inventory_rejected',
      `Checkout ${checkout.id}: the merchant's decision was recorded earlier`,
    );
  }
  const merchant = await deps.merchants.getMerchant(checkout.merchantId);
  const url = merchant?.settings.inventoryConfirmationUrl;
  if (!merchant || !url) throw new InventoryUnreachableError('The merchant has no inventory confirmation URL configured');
  const signingSecret = await deps.cipher.decrypt(merchant.signingSecretCiphertext);
  if (deadline - Date.now() <= 0) {
    throw new InventoryTimeoutError(
      'The inventory confirmation had no time left to call the merchant (the 10 s count from the step start)',
    );
  }
  const sentAt = new Date().toISOString();
  const decision = await deps.confirmer.confirmInventory(url, inventoryRequest(checkout, merchant.merchantKey), signingSecret, {
    timeoutMs: deadline - Date.now(),
    ...(merchant.settings.allowedPorts !== undefined ? { allowedPorts: merchant.settings.allowedPorts } : {}),
  });
  // The confirmer's own timeout is the deadline itself (it was given the time left), and its timer
  // may fire within the deadline's millisecond: a timeout is never recorded, like a late answer.
  if (Date.now() >= deadline || (decision.outcome === 'rejected' && decision.reason === 'inventory_timeout')) {
    throw new InventoryTimeoutError(
      `The merchant's answer did not come within the step's 10 s (${decision.outcome}); nothing was recorded`,
    );
  }
  if (decision.outcome === 'confirmed') onAnswer?.();
  const written = await recordDecision(deps, checkout, payment, decision, { sentAt, url, deadline });
  if (decision.outcome === 'confirmed') return written;
  throw decisionError(decision.reason, decision.message);
}

/** The typed error of a refusal's reason (each maps to the same failure reason in fail-payment.ts). */
function decisionError(reason: NonNullable<CheckoutPayment['inventoryRejection']>, message: string): Error {
  switch (reason) {
    case 'inventory_rejected':
      return new InventoryRejectedError(message);
    case 'inventory_timeout':
      return new InventoryTimeoutError(message);
    case 'inventory_unreachable':
      return new InventoryUnreachableError(message);
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
): Promise<Checkout> {
  try {
    return await writeDecision(deps, checkout, payment, decision, sent);
  } catch (error) {
    if (!(error instanceof ConcurrentModificationError)) throw error;
    const current = await loadCheckout(deps, checkout.id);
    if (Date.now() > sent.deadline) {
      throw new InventoryTimeoutError(`The merchant's answer could not be recorded within the step's 10 s (${decision.outcome})`);
    }
    return await writeDecision(deps, current, { ...payment, ...current.payment }, decision, sent);
  }
}

/** One conditional write on `checkout` as read (its version): the repository does not read it again. */
function writeDecision(
  deps: Pick<SagaPorts, 'checkouts'>,
  checkout: Checkout,
  payment: CheckoutPayment,
  decision: InventoryDecision,
  { sentAt, url }: { sentAt: string; url: string },
): Promise<Checkout> {
  if (decision.outcome === 'confirmed') {
    const confirmed = { ...payment, inventoryConfirmation: 'confirmed' as const };
    const row = {
      type: 'inventory_confirmed' as const,
      data: { latency_ms: decision.latencyMs, http_status: decision.httpStatus, sent_at: sentAt, url },
    };
    return deps.checkouts.updatePayment(checkout.id, confirmed, checkout.version, row, checkout);
  }
  const rejected = { ...payment, inventoryConfirmation: 'rejected' as const, inventoryRejection: decision.reason };
  const row = {
    type: 'inventory_rejected' as const,
    data: {
      failure_reason: decision.reason,
      message: decision.message,
      latency_ms: decision.latencyMs,
      sent_at: sentAt,
      url,
      ...(decision.httpStatus !== undefined ? { http_status: decision.httpStatus } : {}),
    },
  };
  return deps.checkouts.updatePayment(checkout.id, rejected, checkout.version, row, checkout);
}

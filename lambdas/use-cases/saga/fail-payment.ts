/**
 * The failure path's one terminal Task (the ASL's `VoidAuthorization` state): every Catch of the
 * saga routes here, each with its own ResultPath (`$.failure.<source state>`). The failure reason
 * comes from the source state and the error name (failureOutcome, pure; the mapping the ASL's Pass
 * states used to hold), then: void whatever is authorized (void-authorization.ts), record the
 * failed status or reopen the checkout for another card (record-outcome.ts), and publish the
 * result events with their first delivery attempt in-process (notify-merchant.ts).
 */
import type { CheckoutPayment, CheckoutStatus, FailureReason } from '../../domain/model';
import { inventoryDecided } from './inventory-confirmation';
import { notifyMerchant, type NotifyMerchantOutput, type NotifyMerchantPorts } from './notify-merchant';
import { recordOutcomeWriting, type RecordOutcomePorts } from './record-outcome';
import type { StepInput } from './shared';
import { voidAuthorization, type VoidAuthorizationOutput, type VoidAuthorizationPorts } from './void-authorization';

/** A Catch's error output (`{"Error","Cause"}`), as Step Functions writes it at the ResultPath. */
export interface TaskFailure {
  Error?: string;
  Cause?: string;
}

/** The states whose Catch routes to the failure Task, in the order they run. */
export const FAILURE_SOURCES = ['AuthorizePayment', 'AwaitAuthorization', 'AwaitAuthentication', 'CapturePayment'] as const;

export type FailureSource = (typeof FAILURE_SOURCES)[number];

export interface FailPaymentInput extends StepInput {
  /** `$.failure`: the error of the one state that failed, under that state's name. */
  failure?: Partial<Record<FailureSource, TaskFailure>>;
}

export interface FailureOutcome {
  source: FailureSource | 'unknown';
  reason: FailureReason;
  cause?: string;
  /** False when nothing can be authorized (a decline, an off-session card that needs 3-D Secure). */
  voids: boolean;
}

/** Errors the Task's Retry covers: a void failing with one of these is retried, not given up. */
const RETRIED_ERRORS = new Set([
  'PspUnavailableError',
  'PspTimeoutError',
  'StoreUnavailableError',
  'ConcurrentModificationError',
]);

/** The errors CapturePayment's confirm phase raises, each with its reason (inventory-confirmation.ts). */
const INVENTORY_ERRORS: Readonly<Record<string, FailureReason>> = {
  InventoryRejectedError: 'inventory_rejected',
  InventoryTimeoutError: 'inventory_timeout',
  InventoryUnreachableError: 'inventory_unreachable',
};

/** Whether failureOutcome needs the stored inventory decision to tell the phase CapturePayment failed in. */
export function needsStoredDecision(failure: FailPaymentInput['failure']): boolean {
  const error = failure?.CapturePayment;
  return error !== undefined && INVENTORY_ERRORS[error.Error ?? ''] === undefined;
}

/**
 * The failure reason for the error one source state caught; pure. CapturePayment runs two phases:
 * an Inventory* error names the confirm phase's reason; any other error (States.Timeout, a retried
 * error that ran out, a crash) is told apart by `stored`, the payment as the store holds it: no
 * decision stored yet means it failed before the decision (inventory_timeout for States.Timeout,
 * inventory_unreachable otherwise, as the confirmation's own state mapped them before the merge),
 * a decision stored means the capture phase failed (psp_error). Without `stored`: the capture phase.
 */
export function failureOutcome(
  failure: FailPaymentInput['failure'],
  stored?: Pick<CheckoutPayment, 'inventoryConfirmation' | 'inventoryRejection'>,
): FailureOutcome {
  const source = FAILURE_SOURCES.find((state) => failure?.[state] !== undefined);
  const error = source === undefined ? undefined : failure?.[source];
  const name = error?.Error ?? '';
  const cause = error?.Cause;
  const withCause = (reason: FailureReason, voids = true): FailureOutcome => ({
    source: source ?? 'unknown',
    reason,
    ...(cause !== undefined ? { cause } : {}),
    voids,
  });
  switch (source) {
    case 'AuthorizePayment':
      if (name === 'PaymentDeclinedError') return withCause('payment_declined', false);
      if (name === 'AuthenticationRequiredError') return withCause('authentication_required', false);
      if (name === 'AuthenticationFailedError') return withCause('authentication_failed');
      return withCause('psp_error');
    case 'AwaitAuthorization':
      return {
        source,
        reason: 'psp_error',
        cause: 'The payment provider reported no authorization result in time',
        voids: true,
      };
    case 'AwaitAuthentication':
      return {
        source,
        reason: 'authentication_failed',
        cause: '3-D Secure authentication was not completed in time',
        voids: true,
      };
    case 'CapturePayment': {
      const inventoryReason = INVENTORY_ERRORS[name];
      if (inventoryReason !== undefined) return withCause(inventoryReason);
      if (stored === undefined || inventoryDecided(stored)) return withCause('psp_error');
      if (stored.inventoryConfirmation === 'rejected') return withCause(stored.inventoryRejection ?? 'inventory_rejected');
      return withCause(name === 'States.Timeout' ? 'inventory_timeout' : 'inventory_unreachable');
    }
    default:
      return withCause('psp_error');
  }
}

export type FailPaymentPorts = VoidAuthorizationPorts & RecordOutcomePorts & NotifyMerchantPorts;

export interface FailPaymentOutput {
  reason: FailureReason;
  source: FailureOutcome['source'];
  status: CheckoutStatus;
  void?: VoidAuthorizationOutput | { voided: false; error: string };
  notified: NotifyMerchantOutput;
}

export async function failPayment(deps: FailPaymentPorts, { checkoutId, failure }: FailPaymentInput): Promise<FailPaymentOutput> {
  // Only a CapturePayment failure that is not an Inventory* error reads the checkout for its reason.
  const stored = needsStoredDecision(failure) ? ((await deps.checkouts.getCheckout(checkoutId))?.payment ?? {}) : undefined;
  const outcome = failureOutcome(failure, stored);
  let voided: FailPaymentOutput['void'];
  if (outcome.voids) {
    try {
      voided = await voidAuthorization(deps, { checkoutId });
    } catch (error) {
      // Transient: the Task retries (same void key). Anything else: the failure is recorded anyway,
      // as before; the authorization lapses at the PSP, and the sweep's PSP view shows it.
      if (!(error instanceof Error) || RETRIED_ERRORS.has(error.name)) throw error;
      voided = { voided: false, error: error.name };
    }
  }
  const recorded = await recordOutcomeWriting(deps, {
    checkoutId,
    outcome: { status: 'failed', reason: outcome.reason, ...(outcome.cause !== undefined ? { cause: outcome.cause } : {}) },
  });
  // The checkout as this run's terminal write left it, when that write landed: the notify does not read it again.
  const notified = await notifyMerchant(deps, { checkoutId }, recorded.written);
  return {
    reason: outcome.reason,
    source: outcome.source,
    status: recorded.status,
    ...(voided !== undefined ? { void: voided } : {}),
    notified,
  };
}

/**
 * The failure path's one terminal Task (the ASL's `VoidAuthorization` state): every Catch of the
 * saga routes here, each with its own ResultPath (`$.failure.<source state>`). The failure reason
 * comes from the source state and the error name (failureOutcome, pure; the mapping the ASL's Pass
 * states used to hold), then: void whatever is authorized (void-authorization.ts), record the
 * failed status or reopen the checkout for another card (record-outcome.ts), and publish the
 * result events with their first delivery attempt in-process (notify-merchant.ts).
 */
import type { CheckoutStatus, FailureReason } from '../../domain/model';
import { notifyMerchant, type NotifyMerchantOutput, type NotifyMerchantPorts } from './notify-merchant';
import { recordOutcome, type RecordOutcomePorts } from './record-outcome';
import type { StepInput } from './shared';
import { voidAuthorization, type VoidAuthorizationOutput, type VoidAuthorizationPorts } from './void-authorization';

/** A Catch's error output (`{"Error","Cause"}`), as Step Functions writes it at the ResultPath. */
export interface TaskFailure {
  Error?: string;
  Cause?: string;
}

/** The states whose Catch routes to the failure Task, in the order they run. */
export const FAILURE_SOURCES = [
  'AuthorizePayment',
  'AwaitAuthorization',
  'AwaitAuthentication',
  'ConfirmInventory',
  'CapturePayment',
] as const;

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

/** The failure reason for the error one source state caught; pure. */
export function failureOutcome(failure: FailPaymentInput['failure']): FailureOutcome {
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
    case 'ConfirmInventory':
      if (name === 'InventoryRejectedError') return withCause('inventory_rejected');
      if (name === 'InventoryTimeoutError' || name === 'States.Timeout') return withCause('inventory_timeout');
      return withCause('inventory_unreachable');
    case 'CapturePayment':
      return withCause('psp_error');
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
  const outcome = failureOutcome(failure);
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
  const recorded = await recordOutcome(deps, {
    checkoutId,
    outcome: { status: 'failed', reason: outcome.reason, ...(outcome.cause !== undefined ? { cause: outcome.cause } : {}) },
  });
  const notified = await notifyMerchant(deps, { checkoutId });
  return {
    reason: outcome.reason,
    source: outcome.source,
    status: recorded.status,
    ...(voided !== undefined ? { void: voided } : {}),
    notified,
  };
}

/**
 * The reconciliation sweep: no payment stuck in `processing`, no authorization forgotten. Run on a
 * schedule (EventBridge on AWS, a timer locally), it walks the recovery watch list (every checkout
 * in `processing`) and:
 *   - keeps waiting sagas honest: while the PSP still says "pending" it sends the task heartbeat;
 *     if the PSP already has the result (the callback was lost) it resumes the saga itself;
 *   - takes over a checkout stuck past a bound whose saga is no longer running (crashed process,
 *     failed execution, lost start): it claims the checkout (a lease, conditional write), fences
 *     off late saga steps (`payment.recoveredBy`, written with the checkout's version), then drives
 *     it to a terminal state from the PSP's truth: captured -> succeeded; authorized or pending and
 *     not captured -> void -> failed/psp_error; nothing (or declined) -> failed. It never sends a
 *     capture: an unknown outcome is resolved by reading the PSP's status. A manual-capture
 *     checkout whose authorization was already handed to the merchant (instrument active, expiry
 *     watch written) is finished as the saga would have: succeeded, authorization held.
 */
import { captureMethodOf, isHeldForManualCapture } from '../domain/authorization-hold';
import type { Checkout, FailureReason } from '../domain/model';
import {
  authorizationOf,
  connectorOf,
  failUnansweredAttempt,
  isVoided,
  pendingAuthorizationOf,
  recordAttemptEvent,
  recordAttemptEvents,
} from '../domain/payment-attempt';
import { tryNumberOf } from '../domain/payment-tries';
import { ConcurrentModificationError, InvalidTransitionError, NotFoundError, PspRejectedError } from '../errors';
import type { PspCallbackStore } from '../ports/callbacks';
import type { PspAuthorizationView } from '../ports/payments';
import type { ProcessingWatch, RecoveryStore } from '../ports/recovery';
import type { SagaExecutionInspector, TaskTokenResumer } from '../ports/workflow';
import { connectorOfReference, connectorsOf, gatewayFor } from './connector-gateways';
import { runSagaOperation } from './financial-instruments';
import { settleSagaOperationFromPspTruth } from './saga-operation-settlement';
import { holdForManualCapture } from './saga/hold-for-manual-capture';
import { notifyMerchant, type NotifyMerchantPorts } from './saga/notify-merchant';
import { pspIdempotencyKey, type SagaPorts } from './saga/shared';
import { declinedFailureReason } from './three-d-secure';
import { savePaymentMethodOnSuccess, type SavePaymentMethodDependencies } from './payment-source';

export type ReconciliationDependencies = SagaPorts &
  NotifyMerchantPorts &
  /** save_payment_method: a checkout the sweep finishes succeeded saves its card as CapturePayment would. */
  SavePaymentMethodDependencies & {
    recovery: RecoveryStore;
    callbacks: PspCallbackStore;
    resumer: TaskTokenResumer;
    executions: SagaExecutionInspector;
    /** The saga execution's ARN for a checkout (named after it). */
    executionArnFor: (checkoutId: string, tryNumber?: number) => string;
    /** A checkout in `processing` longer than this, with no running saga, is taken over. */
    stuckAfterMs: number;
    /** How long a claim keeps other sweeps off a checkout. */
    leaseMs: number;
    /** This sweep's identity (Lambda request id, local timer id). */
    owner: string;
    now?: () => Date;
    log?: (message: string, extra?: Record<string, unknown>) => void;
  };

export interface SweepReport {
  watched: number;
  heartbeats: number;
  resumed: number;
  recovered: { checkoutId: string; status: string; action: string }[];
  /** Terminal checkouts whose result events the sweep published (the saga stopped between its terminal write and notifyMerchant). */
  notified: number;
  errors: number;
}

/** One pass over the watch list; per-checkout failures are logged and left for the next pass. */
export async function runReconciliationSweep(
  deps: ReconciliationDependencies,
  options: { limit?: number } = {},
): Promise<SweepReport> {
  const report: SweepReport = { watched: 0, heartbeats: 0, resumed: 0, recovered: [], notified: 0, errors: 0 };
  const watches = await deps.recovery.listProcessing(options.limit ?? 200);
  report.watched = watches.length;
  for (const watch of watches) {
    try {
      await sweepCheckout(deps, watch, report);
    } catch (error) {
      report.errors += 1;
      deps.log?.('reconciliation failed for a checkout', {
        checkoutId: watch.checkoutId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return report;
}

async function sweepCheckout(deps: ReconciliationDependencies, watch: ProcessingWatch, report: SweepReport): Promise<void> {
  const { checkoutId, since } = watch;
  const now = deps.now?.() ?? new Date();
  const checkout = await deps.checkouts.getCheckout(checkoutId);
  if (checkout !== undefined && (checkout.status === 'succeeded' || checkout.status === 'failed')) {
    // An outcome watch: the result is recorded, but notifyMerchant has not stored its events yet.
    // Past the bound (the saga died in between), publish them here; notifyMerchant is idempotent.
    if (now.getTime() - Date.parse(since) < deps.stuckAfterMs) return;
    await notifyMerchant({ ...deps, outcomeWatch: deps.recovery }, { checkoutId });
    report.notified += 1;
    return;
  }
  if (checkout === undefined || checkout.status !== 'processing') {
    await deps.recovery.forgetCheckout(checkoutId);
    return;
  }
  await tendWaitingSaga(deps, checkout, now, report);
  if (now.getTime() - Date.parse(since) < deps.stuckAfterMs) return;
  // Listed with another sweep's live lease (on a watch item of the previous version, the only lease
  // the claim below does not see): left to that sweep.
  if (watch.leaseUntil !== undefined && watch.leaseOwner !== deps.owner && Date.parse(watch.leaseUntil) > now.getTime()) return;
  if (!(await deps.recovery.claimCheckout(checkoutId, deps.owner, now, new Date(now.getTime() + deps.leaseMs)))) return;
  if (
    checkout.payment?.recoveredBy === undefined &&
    (await deps.executions.isRunning(deps.executionArnFor(checkoutId, tryNumberOf(checkout.payment))))
  ) {
    // A live saga owns it; its own timeouts (Task timeouts, the authorization wait) bound it.
    await deps.recovery.releaseCheckout(checkoutId, deps.owner);
    return;
  }
  const taken = await takeOver(deps, checkout);
  if (taken === undefined) return;
  const result = await reconcileWithPsp(deps, taken);
  report.recovered.push({ checkoutId, ...result });
  await notifyMerchant({ ...deps, outcomeWatch: deps.recovery }, { checkoutId });
}

/**
 * A saga waiting on `.waitForTaskToken` for a pending authorization: heartbeat while the PSP
 * still says pending; resume it when the PSP has the result (a lost or never-sent callback).
 */
async function tendWaitingSaga(
  deps: ReconciliationDependencies,
  checkout: Checkout,
  now: Date,
  report: SweepReport,
): Promise<void> {
  const pending = pendingAuthorizationOf(checkout.payment);
  if (pending === undefined || checkout.payment === undefined) return;
  const connector = connectorOf(checkout.payment);
  const record = await deps.callbacks.getAuthorizationRecord(connector, checkout.id);
  if (record?.taskToken === undefined) return;
  const view = await gatewayFor(deps, connector, checkout.merchantId).getAuthorization(pending);
  const state = view.state;
  if (state === 'pending') {
    if (await deps.resumer.heartbeat(record.taskToken)) report.heartbeats += 1;
    return;
  }
  if (state === undefined) return;
  await deps.callbacks.advanceAuthorization(
    {
      connector,
      reference: checkout.id,
      authorizationId: view.id,
      state,
      amount: view.amount,
      currency: view.currency,
      lastCallbackId: 'status_query',
    },
    now,
  );
  if (await deps.resumer.succeed(record.taskToken, { state, resolved_by: 'reconciliation' })) report.resumed += 1;
  await deps.callbacks.clearTaskToken(connector, checkout.id, record.taskToken);
}

/** Marks the checkout as recovered (versioned write): any saga step still running stops acting. */
async function takeOver(deps: ReconciliationDependencies, checkout: Checkout): Promise<Checkout | undefined> {
  if (checkout.payment === undefined) return checkout;
  if (checkout.payment.recoveredBy !== undefined) return checkout;
  try {
    return await deps.checkouts.updatePayment(checkout.id, { ...checkout.payment, recoveredBy: deps.owner }, checkout.version, {
      type: 'recovery_started',
      data: { owner: deps.owner, processing_since: checkout.updatedAt },
    });
  } catch (error) {
    if (error instanceof ConcurrentModificationError) return undefined; // the saga moved: look again next pass
    throw error;
  }
}

/** Everything the PSP holds for the checkout: the recorded, the pending, and any found by reference. */
async function pspAuthorizations(deps: ReconciliationDependencies, checkout: Checkout): Promise<ConnectorView[]> {
  const byId = new Map<string, ConnectorView>();
  const payment = checkout.payment;
  for (const id of [authorizationOf(payment)?.pspReference, pendingAuthorizationOf(payment)]) {
    if (id === undefined || payment === undefined) continue;
    const connector = connectorOfReference(payment, id);
    try {
      const view = await gatewayFor(deps, connector, checkout.merchantId).getAuthorization(id);
      byId.set(view.id, { ...view, connector });
    } catch (error) {
      if (!(error instanceof PspRejectedError)) throw error; // unknown at the PSP: nothing held
    }
  }
  // Every connector the attempts used is asked (failover leaves authorizations at several PSPs).
  for (const connector of payment === undefined ? [deps.gateway.connector] : connectorsOf(payment)) {
    const gateway = gatewayFor(deps, connector, checkout.merchantId);
    if (gateway.findAuthorizations === undefined) continue;
    for (const view of await gateway.findAuthorizations(checkout.id)) byId.set(view.id, { ...view, connector });
  }
  return [...byId.values()];
}

/** A PSP's authorization with the connector that holds it. */
type ConnectorView = PspAuthorizationView & { connector: string };

/** Drives the claimed checkout to succeeded or failed from the PSP's truth; returns what it did. */
export async function reconcileWithPsp(
  deps: ReconciliationDependencies,
  checkout: Checkout,
): Promise<{ status: string; action: string }> {
  if (await finishManualHold(deps, checkout)) return { status: 'succeeded', action: 'authorization_held' };
  const views = await pspAuthorizations(deps, checkout);
  const payment = checkout.payment;
  const captured = views.find((view) => view.capturedAmount >= checkout.amount);
  if (captured !== undefined && payment !== undefined) {
    await settleSagaOperationFromPspTruth(deps, {
      instrumentId: payment.instrumentId,
      operationId: 'saga_capture',
      outcome: 'succeeded',
    });
    const current = await reload(deps, checkout.id);
    // The capture is on the instrument now (settled above); the checkout records the attempt's moves.
    const settled = recordAttemptEvents(
      current.payment ?? payment,
      [
        { type: 'authorized', pspReference: captured.id, amount: captured.amount },
        { type: 'captured', capturedTotal: captured.capturedAmount },
      ],
      (deps.now?.() ?? new Date()).toISOString(),
    );
    await deps.checkouts.updatePayment(checkout.id, settled.payment, current.version, {
      type: 'psp_outcome_resolved',
      data: {
        step: 'capture',
        psp_status: captured.pspStatus,
        captured_amount: captured.capturedAmount,
        resolved_by: 'reconciliation',
      },
    });
    await finish(deps, checkout, 'succeeded');
    return { status: 'succeeded', action: 'captured_at_psp' };
  }
  // The dead saga may have reserved its capture on the instrument (debit before the PSP call) and
  // died before the answer. The PSP shows nothing captured, and the saga is past the stuck bound,
  // so that capture never happened: settle it as failed, or the instrument refuses the void below
  // (a void never races an in-flight capture) and the checkout stays stuck.
  if (payment !== undefined && !views.some((view) => view.capturedAmount > 0)) {
    await settleSagaOperationFromPspTruth(deps, {
      instrumentId: payment.instrumentId,
      operationId: 'saga_capture',
      outcome: 'failed',
    });
  }
  let voided = 0;
  for (const view of views) {
    if ((view.state !== 'pending' && view.state !== 'authorized') || view.capturedAmount > 0) continue;
    await voidAtPsp(deps, checkout, view);
    voided += 1;
  }
  const declined = views.length > 0 && views.every((view) => view.state === 'declined');
  const reason: FailureReason = declined ? declinedFailureReason(views.map((view) => view.failureCode)) : 'psp_error';
  await failUnansweredAttemptOf(deps, checkout.id, reason);
  await finish(deps, checkout, 'failed', reason);
  return { status: 'failed', action: voided > 0 ? 'voided' : views.length === 0 ? 'nothing_at_psp' : 'nothing_held' };
}

/**
 * A manual-capture checkout whose hand-over already landed (the instrument is active: the merchant
 * may be capturing it) must not be voided: its timeline write is completed if it was lost, and it
 * ends succeeded. True when it did so.
 */
async function finishManualHold(deps: ReconciliationDependencies, checkout: Checkout): Promise<boolean> {
  const payment = checkout.payment;
  if (captureMethodOf(checkout) !== 'manual' || payment?.instrumentId === undefined) return false;
  if (isVoided(payment) || !(payment.inventoryConfirmation === 'confirmed' || payment.inventoryConfirmation === 'not_required'))
    return false;
  const instrument = await deps.instruments.getInstrument(payment.instrumentId);
  if (instrument?.status !== 'active') return false;
  if (payment.authorizationExpiresAt === undefined) await holdForManualCapture(deps, checkout, payment);
  if (!isHeldForManualCapture(await reload(deps, checkout.id))) return false;
  await finish(deps, checkout, 'succeeded');
  return true;
}

/** The PSP idempotency key of recovery's void of an authorization the checkout never recorded. */
export function recoveryVoidKey(checkoutId: string, authorizationId: string): string {
  return `${pspIdempotencyKey(checkoutId, 'void')}:${authorizationId}`;
}

/** Voids one authorization the checkout holds (through its instrument when it is the recorded one). */
async function voidAtPsp(deps: ReconciliationDependencies, checkout: Checkout, view: ConnectorView): Promise<void> {
  const payment = checkout.payment;
  let result: { amount: number; pspOperationId: string };
  if (payment?.instrumentId !== undefined && authorizationOf(payment)?.pspReference === view.id) {
    const recorded = await runSagaOperation(
      {
        instruments: deps.instruments,
        gateway: deps.gateway,
        gateways: deps.gateways,
      },
      {
        instrumentId: payment.instrumentId,
        step: 'void',
        pspIdempotencyKey: pspIdempotencyKey(checkout.id, 'void', tryNumberOf(payment)),
      },
    );
    result = { amount: recorded.operation.pspAmount, pspOperationId: recorded.operation.pspOperationId ?? recorded.operation.id };
  } else {
    // Not the recorded authorization (found by reference): its own key, derived from its id, so a
    // second authorization is voided too instead of replaying the first one's void.
    result = await gatewayFor(deps, view.connector, checkout.merchantId).voidAuthorization({
      reference: checkout.id,
      pspReference: view.id,
      idempotencyKey: recoveryVoidKey(checkout.id, view.id),
    });
  }
  const current = await reload(deps, checkout.id);
  const { payment: voided } = recordAttemptEvent(
    current.payment ?? payment!,
    { type: 'voided', pspReference: view.id },
    (deps.now?.() ?? new Date()).toISOString(),
  );
  await deps.checkouts.updatePayment(checkout.id, voided, current.version, {
    type: 'voided',
    data: {
      amount: result.amount,
      psp_operation_id: result.pspOperationId,
      psp_reference: view.id,
      resolved_by: 'reconciliation',
    },
  });
}

/** An attempt the PSP never answered, with nothing to void, ends failed before the checkout does. */
async function failUnansweredAttemptOf(
  deps: ReconciliationDependencies,
  checkoutId: string,
  reason: FailureReason,
): Promise<void> {
  const current = await reload(deps, checkoutId);
  if (current.payment === undefined) return;
  const settled = failUnansweredAttempt(current.payment, reason, (deps.now?.() ?? new Date()).toISOString());
  if (settled === current.payment) return;
  await deps.checkouts.updatePayment(checkoutId, settled, current.version);
}

async function reload(deps: ReconciliationDependencies, checkoutId: string): Promise<Checkout> {
  const checkout = await deps.checkouts.getCheckout(checkoutId);
  if (checkout === undefined) throw new NotFoundError(`Checkout ${checkoutId} disappeared during reconciliation`);
  return checkout;
}

/** The terminal status by conditional write from processing (a no-op if someone got there first). */
async function finish(
  deps: ReconciliationDependencies,
  checkout: Checkout,
  status: 'succeeded' | 'failed',
  reason?: FailureReason,
): Promise<void> {
  const checkoutId = checkout.id;
  const message = 'The payment was completed by reconciliation with the PSP after the saga stopped';
  // As CapturePayment does: the customer's card is saved (idempotent) before the terminal write. It
  // reads only fields fixed at create and pay (customer, save choice, payment method): no re-read.
  if (status === 'succeeded') await savePaymentMethodOnSuccess(deps, checkout);
  try {
    await deps.checkouts.transitionCheckout({
      checkoutId,
      from: ['processing'],
      to: status,
      ...(status === 'failed' ? { patch: { failureReason: reason ?? 'psp_error', failureMessage: message } } : {}),
      event: {
        type: status,
        data: { resolved_by: 'reconciliation', ...(reason !== undefined ? { failure_reason: reason } : {}) },
      },
    });
  } catch (error) {
    if (!(error instanceof InvalidTransitionError)) throw error;
  }
}

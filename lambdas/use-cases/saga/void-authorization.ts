/**
 * The saga's VoidAuthorization step (compensation): release the authorization, through the
 * checkout's instrument (revoked, capturable -> 0, before the PSP void; restored if the PSP
 * refuses), keyed `<checkout>:void`. Never captures or refunds; a no-op if nothing is held.
 * An authorization the checkout never recorded (pending, or an answer that was lost) is voided at
 * the PSP by reference.
 */
import type { Checkout, CheckoutPayment } from '../../domain/model';
import { authorizationOf, connectorOf, isVoided, pendingAuthorizationOf, recordAttemptEvent } from '../../domain/payment-attempt';
import { tryNumberOf } from '../../domain/payment-tries';
import { connectorsOf, gatewayFor, instrumentPorts } from '../connector-gateways';
import { InstrumentMissingError, PspRejectedError } from '../../errors';
import { runSagaOperation } from '../financial-instruments';
import { balancesOfPayment } from '../payment-ledger';
import { releaseEvent } from '../three-d-secure';
import { loadCheckout, pspIdempotencyKey, type SagaPorts, type StepInput } from './shared';

export type VoidAuthorizationPorts = Pick<SagaPorts, 'checkouts' | 'gateway' | 'gateways' | 'instruments'>;

export type VoidAuthorizationOutput = { voided: boolean; skipped?: string };

/** What the void step must do with this payment; pure. */
type VoidPlan =
  | { kind: 'done'; output: VoidAuthorizationOutput }
  | { kind: 'void_unrecorded' }
  | { kind: 'void_instrument'; instrumentId: string };

/** `capturedAmount`: what the checkout's instrument (the money ledger) shows captured. */
export function planVoid(checkout: Checkout, capturedAmount: number): VoidPlan {
  const payment = checkout.payment;
  if (payment?.recoveredBy !== undefined) return { kind: 'done', output: { voided: isVoided(payment), skipped: 'recovered' } };
  const authorization = authorizationOf(payment);
  if (payment !== undefined && authorization === undefined && !isVoided(payment)) return { kind: 'void_unrecorded' };
  if (payment === undefined || authorization === undefined)
    return { kind: 'done', output: { voided: false, skipped: 'not_authorized' } };
  if (isVoided(payment)) return { kind: 'done', output: { voided: true } };
  if (capturedAmount > 0) return { kind: 'done', output: { voided: false, skipped: 'already_captured' } };
  if (payment.instrumentId === undefined)
    throw new InstrumentMissingError(`Checkout ${checkout.id} has no financial instrument for its authorization`);
  return { kind: 'void_instrument', instrumentId: payment.instrumentId };
}

export async function voidAuthorization(
  deps: VoidAuthorizationPorts,
  { checkoutId }: StepInput,
): Promise<VoidAuthorizationOutput> {
  const checkout = await loadCheckout(deps, checkoutId);
  const plan = planVoid(checkout, (await balancesOfPayment(deps.instruments, checkout.payment)).capturedAmount);
  if (plan.kind === 'done') return plan.output;
  const payment = checkout.payment as CheckoutPayment;
  if (plan.kind === 'void_unrecorded') {
    // Pending, or an answer we never got: void whatever the PSP holds under our reference.
    const released = await voidUnrecordedAuthorizations(deps, checkout, payment);
    return released > 0 ? { voided: true } : { voided: false, skipped: 'not_authorized' };
  }
  const recorded = await runSagaOperation(instrumentPorts(deps), {
    instrumentId: plan.instrumentId,
    step: 'void',
    pspIdempotencyKey: pspIdempotencyKey(checkoutId, 'void', tryNumberOf(payment)),
  });
  const { payment: voided } = recordAttemptEvent(payment, { type: 'voided' }, new Date().toISOString());
  await deps.checkouts.updatePayment(
    checkoutId,
    voided,
    checkout.version,
    {
      type: 'voided',
      data: {
        amount: recorded.operation.pspAmount,
        psp_operation_id: recorded.operation.pspOperationId ?? recorded.operation.id,
      },
    },
    checkout,
  );
  return { voided: true };
}

/**
 * Voids authorizations the checkout never recorded: the pending one (its result never came), or
 * any the PSP filed under the checkout id although its answer was lost (found by reference, when
 * the gateway can look up). Same idempotency key as every void of this checkout. Returns how many.
 */
async function voidUnrecordedAuthorizations(
  deps: Pick<SagaPorts, 'checkouts' | 'gateway' | 'gateways'>,
  checkout: Checkout,
  payment: CheckoutPayment,
): Promise<number> {
  // Each candidate with the connector that holds it: every connector the attempts used is asked.
  const candidates = new Map<string, string>();
  const pending = pendingAuthorizationOf(payment);
  if (pending !== undefined) candidates.set(pending, connectorOf(payment));
  for (const connector of connectorsOf(payment)) {
    const gateway = gatewayFor(deps, connector, checkout.merchantId);
    if (gateway.findAuthorizations === undefined) continue;
    for (const view of await gateway.findAuthorizations(checkout.id)) {
      if (view.state === 'pending' || (view.state === 'authorized' && view.capturedAmount === 0))
        candidates.set(view.id, connector);
    }
  }
  let released = 0;
  for (const [pspReference, connector] of candidates) {
    try {
      const result = await gatewayFor(deps, connector, checkout.merchantId).voidAuthorization({
        reference: checkout.id,
        pspReference,
        idempotencyKey: pspIdempotencyKey(checkout.id, 'void', tryNumberOf(payment)),
      });
      released += 1;
      const current = await loadCheckout(deps, checkout.id);
      const release = releaseEvent(current, pspReference);
      const { payment: voided } = recordAttemptEvent(current.payment ?? payment, release.event, new Date().toISOString());
      await deps.checkouts.updatePayment(
        checkout.id,
        voided,
        current.version,
        {
          type: release.timeline,
          data: { amount: result.amount, psp_operation_id: result.pspOperationId, psp_reference: pspReference, unrecorded: true },
        },
        current,
      );
    } catch (error) {
      if (!(error instanceof PspRejectedError)) throw error; // already voided or not voidable: nothing held
    }
  }
  return released;
}

/**
 * CapturePayment's answer to a capture whose outcome is unknown (PSP timeout or 5xx): split out
 * of capture-payment.ts, which imports it on that path only, so the status query and the
 * settlement from the PSP's truth are not read at the step's cold start.
 */
import type { Checkout, CheckoutPayment } from '../../domain/model';
import type { PspAuthorizationView } from '../../ports/payments';
import { connectorOfReference, gatewayFor } from '../connector-gateways';
import { settleSagaOperationFromPspTruth } from '../saga-operation-settlement';
import type { PspCapture } from './capture-payment';
import type { SagaPorts } from './shared';

/**
 * A capture whose answer was lost (timeout, 5xx): records the unknown outcome on the timeline,
 * then reads the authorization at the PSP. Captured there: the capture is settled from that truth
 * (the instrument's pending operation too) and returned. Not captured: undefined (the caller's
 * retry reuses the idempotency key, so it can never capture twice). The status read failing
 * leaves the outcome unknown: the original error is rethrown by the caller.
 */
export async function resolveCaptureByStatus(
  deps: Pick<SagaPorts, 'checkouts' | 'gateway' | 'gateways' | 'instruments'>,
  checkout: Checkout,
  payment: CheckoutPayment,
  pspReference: string,
  cause: Error,
): Promise<PspCapture | undefined> {
  await deps.checkouts.appendEvent(
    {
      checkoutId: checkout.id,
      type: 'psp_outcome_unknown',
      at: new Date().toISOString(),
      data: { step: 'capture', error: cause.name },
    },
    `${checkout.id}:psp_outcome_unknown:capture:${cause.name}`,
  );
  let view: PspAuthorizationView;
  try {
    view = await gatewayFor(deps, connectorOfReference(payment, pspReference), checkout.merchantId).getAuthorization(
      pspReference,
    );
  } catch {
    return undefined;
  }
  const expected = checkout.amount; // nothing was captured before: the saga captures once, all of it
  if (view.capturedAmount < expected) return undefined;
  await settleSagaOperationFromPspTruth(deps, {
    instrumentId: payment.instrumentId,
    operationId: 'saga_capture',
    outcome: 'succeeded',
    pspOperationId: `status_query:${view.id}`,
  });
  await deps.checkouts.appendEvent(
    {
      checkoutId: checkout.id,
      type: 'psp_outcome_resolved',
      at: new Date().toISOString(),
      data: { step: 'capture', psp_status: view.pspStatus, captured_amount: view.capturedAmount },
    },
    `${checkout.id}:psp_outcome_resolved:capture`,
  );
  return { amount: expected, pspOperationId: `status_query:${view.id}` };
}

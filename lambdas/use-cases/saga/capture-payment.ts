/**
 * The saga's CapturePayment step, the success path's one step after AuthorizePayment: first the
 * inventory confirmation (inventory-confirmation.ts: at once when not required, else the merchant
 * asked once and the decision recorded in one conditional write), then capture the full amount once, through the checkout's financial
 * instrument (capturable reserved first, refundable credited after), keyed `<checkout>:capture`.
 * The instrument is the one money ledger: what was captured is read from it, never kept on the
 * checkout (which records only the attempt's move to `captured`, by a conditional write).
 * Refuses unless the inventory was confirmed or not required. A manual-capture checkout passes
 * the very same checks and then is not captured: the authorization is handed to the merchant
 * instead (holdForManualCapture, ./hold-for-manual-capture.ts).
 *
 * The step ends the success path: the attempt's move to `captured` and the terminal `succeeded`
 * are one conditional write (timeline rows `captured` and `succeeded` in the same transaction),
 * after saving the payment method (save_payment_method, idempotent); captureAndNotify then
 * publishes the result events in-process (notify-merchant.ts), without reading them first when
 * this run made the terminal write (none can be stored yet: startNotifyReads). A re-run after the
 * terminal write sends nothing to the PSP and writes nothing; its notify reads the stored events
 * and keeps their delivery state (idempotent).
 */
import { captureMethodOf } from '../../domain/authorization-hold';
import type { FinancialInstrument } from '../../domain/instrument-model';
import type { Checkout, CheckoutPayment } from '../../domain/model';
import { authorizationOf, capturedBySaga, isVoided, recordAttemptEvent } from '../../domain/payment-attempt';
import { tryNumberOf } from '../../domain/payment-tries';
import { instrumentPorts } from '../connector-gateways';
import {
  AuthorizationMissingError,
  AuthorizationVoidedError,
  CaptureIncompleteError,
  InstrumentMissingError,
  InventoryNotConfirmedError,
  PspTimeoutError,
  PspUnavailableError,
} from '../../errors';
import { runSagaOperation } from '../financial-instruments';
import { balancesOfPayment } from '../payment-ledger';
import { savePaymentMethodOnSuccess, type SavePaymentMethodDependencies } from '../payment-source';
import { merchantReadOnce } from '../merchant-read-once';
import { holdForManualCapture } from './hold-for-manual-capture';
import {
  notifyMerchant,
  startNotifyReads,
  type NotifyMerchantOutput,
  type NotifyMerchantPorts,
  type NotifyReads,
} from './notify-merchant';
import {
  confirmBeforeCapture,
  inventoryDecided,
  type InventoryPhaseInput,
  type InventoryPhasePorts,
} from './inventory-confirmation';
import { instrumentReadAhead } from './instrument-read-ahead';
import { recordOutcomeWriting } from './record-outcome';
import { assertNotRecovered, loadCheckout, pspIdempotencyKey, requirePayment, type SagaPorts, type StepInput } from './shared';

export type CapturePaymentPorts = Pick<
  SagaPorts,
  'checkouts' | 'gateway' | 'gateways' | 'instruments' | 'authorizationHolds' | 'authorizationPolicy'
> &
  InventoryPhasePorts &
  SavePaymentMethodDependencies;

/** The CapturePayment state's Parameters: the checkout, and what the confirm phase needs from the state. */
export interface CapturePaymentInput extends StepInput, InventoryPhaseInput {}

export interface CapturePaymentOutput {
  capturedAmount: number;
  held?: true;
  /** The checkout's status after the step (`succeeded` once recorded). */
  status: Checkout['status'];
}

export interface PspCapture {
  amount: number;
  pspOperationId: string;
}

/**
 * Whether the payment may be captured (or handed over) now: it holds an authorization that was
 * not voided, and the merchant confirmed the inventory (or confirmation is off). Pure.
 */
export function assertCapturable(checkout: Checkout, payment: CheckoutPayment): { pspReference: string; instrumentId: string } {
  const authorization = authorizationOf(payment);
  if (authorization === undefined) throw new AuthorizationMissingError(`Checkout ${checkout.id} has no authorization to capture`);
  if (isVoided(payment)) throw new AuthorizationVoidedError(`Checkout ${checkout.id}'s authorization was voided`);
  if (payment.inventoryConfirmation !== 'confirmed' && payment.inventoryConfirmation !== 'not_required') {
    throw new InventoryNotConfirmedError(
      `Checkout ${checkout.id} cannot be captured: inventory confirmation is ${payment.inventoryConfirmation ?? 'unknown'}`,
    );
  }
  assertNotRecovered(checkout);
  if (payment.instrumentId === undefined)
    throw new InstrumentMissingError(`Checkout ${checkout.id} has no financial instrument for its authorization`);
  return { pspReference: authorization.pspReference, instrumentId: payment.instrumentId };
}

export async function capturePayment(deps: CapturePaymentPorts, input: CapturePaymentInput): Promise<CapturePaymentOutput> {
  const { written: _written, instrument: _instrument, notifyReads: _reads, ...output } = await captureAndRecord(deps, input);
  return output;
}

/**
 * capturePayment, also giving the checkout it wrote and the instrument as its capture left it (for
 * the in-process notify's webhook body; never returned to the state machine).
 */
async function captureAndRecord(
  baseDeps: CapturePaymentPorts,
  input: CapturePaymentInput,
  { besideTerminalWrite }: { besideTerminalWrite?: (terminal: Checkout) => NotifyReads } = {},
): Promise<CapturePaymentOutput & { written?: Checkout; instrument?: FinancialInstrument; notifyReads?: NotifyReads }> {
  const { checkoutId } = input;
  // The instrument's read starts early (instrument-read-ahead.ts): beside the checkout read when the
  // state says nothing is to be confirmed; beside the decision write once the merchant confirmed
  // (not before the merchant call: the image stays as recent as a read after that write); right
  // after the checkout read when a decision was stored by an earlier run. A refusal never reads it.
  const ahead = instrumentReadAhead(baseDeps.instruments, checkoutId);
  const deps = { ...baseDeps, instruments: ahead.instruments };
  if (input.inventoryConfirmationRequired === false) ahead.start();
  // One read for both phases. A store error here is retried by the Task like any capture error:
  // nothing was sent to the merchant in this run yet, and a decision stored by an earlier run is read, not asked again.
  const read = await loadCheckout(deps, checkoutId);
  if (inventoryDecided(read.payment)) ahead.start();
  const checkout = await confirmBeforeCapture(deps, read, input, { onAnswer: ahead.start });
  const payment = requirePayment(checkout);
  if (capturedBySaga(payment)) {
    // A re-run after the capture was recorded: the ledger's figure, nothing sent again. A capture
    // recorded without the terminal status (an older saga's write) gets it now.
    const { capturedAmount } = await balancesOfPayment(deps.instruments, payment);
    if (checkout.status !== 'processing' || payment.recoveredBy !== undefined) return { capturedAmount, status: checkout.status };
    const recorded = await recordOutcomeWriting(deps, { checkoutId, outcome: { status: 'succeeded' } });
    return { capturedAmount, status: recorded.status, ...afterOwnTerminalWrite(recorded.written, besideTerminalWrite) };
  }
  const { pspReference, instrumentId } = assertCapturable(checkout, payment);
  if (captureMethodOf(checkout) === 'manual') {
    const held = await holdForManualCapture(deps, checkout, payment);
    const recorded = await recordOutcomeWriting(deps, { checkoutId, outcome: { status: 'succeeded' } });
    return { ...held, status: recorded.status, ...afterOwnTerminalWrite(recorded.written, besideTerminalWrite) };
  }
  // The saga captures the whole amount in one instrument operation (`saga_capture`): a re-run whose
  // checkout write was lost resumes that operation (already settled: no PSP call) and records it.
  const amount = checkout.amount;
  let capture: PspCapture;
  let capturedInstrument: FinancialInstrument | undefined;
  try {
    const recorded = await runSagaOperation(instrumentPorts(deps), {
      instrumentId,
      step: 'capture',
      amount,
      pspIdempotencyKey: pspIdempotencyKey(checkoutId, 'capture', tryNumberOf(payment)),
      oneWrite: true,
    });
    capturedInstrument = recorded.instrument;
    capture = {
      amount: recorded.operation.pspAmount,
      pspOperationId: recorded.operation.pspOperationId ?? recorded.operation.id,
    };
  } catch (error) {
    if (!(error instanceof PspTimeoutError || error instanceof PspUnavailableError)) throw error;
    // Unknown outcome: ask the PSP what happened instead of sending the capture again blindly
    // (a rare path: its code is imported here, not at the cold start).
    const { resolveCaptureByStatus } = await import('./resolve-capture-by-status');
    const resolved = await resolveCaptureByStatus(deps, checkout, payment, pspReference, error);
    if (resolved === undefined) throw error; // the PSP says not captured: the same-key retry is safe
    capture = resolved;
  }
  const capturedTotal = capture.amount;
  // The money is on the instrument; the checkout records the attempt's move (and the timeline row).
  // Only the instrument and timeline-row items changed since the read: the version still holds
  // (if not, ConcurrentModificationError and the Task's re-run resumes the settled operation).
  const { payment: captured } = recordAttemptEvent(payment, { type: 'captured', capturedTotal }, new Date().toISOString());
  const captureRow = { type: 'captured' as const, data: { amount: capture.amount, psp_operation_id: capture.pspOperationId } };
  if (capturedTotal !== checkout.amount) {
    await deps.checkouts.updatePayment(checkoutId, captured, checkout.version, captureRow, checkout);
    throw new CaptureIncompleteError(`Refusing to mark ${checkoutId} succeeded: captured ${capturedTotal} of ${checkout.amount}`);
  }
  await savePaymentMethodOnSuccess(deps, checkout); // save_payment_method: idempotent, before the terminal write
  // The notify's reads start now, for the checkout as this write makes it (they read nothing this
  // write changes); should the write fail, they are left unused (returned only after it landed).
  const notifyReads = besideTerminalWrite?.({ ...checkout, status: 'succeeded', payment: captured });
  // `current`: the checkout this step read or wrote (its version pinned), so the repository does
  // not read it again; should it be stale, the write loses its condition and the version check throws.
  const updated = await deps.checkouts.transitionCheckout({
    checkoutId,
    from: ['processing'],
    to: 'succeeded',
    expectedVersion: checkout.version,
    current: checkout,
    patch: { payment: captured },
    event: captureRow,
    events: [{ type: 'succeeded' }],
  });
  return {
    capturedAmount: capturedTotal,
    status: updated.status,
    written: updated,
    ...(capturedInstrument !== undefined ? { instrument: capturedInstrument } : {}),
    ...(notifyReads !== undefined ? { notifyReads } : {}),
  };
}

/**
 * The checkout recordOutcome's own terminal write left (when it made one) and the notify's reads
 * for it, started now: the notify that follows neither reads the checkout again nor looks for its
 * terminal result events, which cannot be stored before that write (startNotifyReads).
 */
function afterOwnTerminalWrite(
  written: Checkout | undefined,
  startReads: ((terminal: Checkout) => NotifyReads) | undefined,
): { written?: Checkout; notifyReads?: NotifyReads } {
  if (written === undefined) return {};
  const notifyReads = startReads?.(written);
  return { written, ...(notifyReads !== undefined ? { notifyReads } : {}) };
}

export type CaptureAndNotifyPorts = CapturePaymentPorts & NotifyMerchantPorts;

/**
 * The CapturePayment Task: the capture with its terminal write, then the result events published
 * and their first delivery attempted in-process. A failed delivery never fails the step (the
 * dispatcher retries it); a storage error is thrown and the Task's re-run is a no-op capture plus
 * an idempotent notify (same event ids).
 */
export async function captureAndNotify(
  deps: CaptureAndNotifyPorts,
  input: CapturePaymentInput,
): Promise<CapturePaymentOutput & { notified: NotifyMerchantOutput }> {
  // The confirm phase's merchant read also gives the first delivery the merchant's allowed_ports.
  const once = { ...deps, merchants: merchantReadOnce(deps.merchants) };
  const { written, instrument, notifyReads, ...captured } = await captureAndRecord(once, input, {
    // Used only once a terminal write of this run from `processing` landed (captureAndRecord returns
    // them only then): the checkout's terminal events are not read, no earlier run can have stored them.
    besideTerminalWrite: (terminal) => startNotifyReads(once, terminal, { ownTerminalWrite: true }),
  });
  const notified = await notifyMerchant(once, { checkoutId: input.checkoutId }, written, instrument, notifyReads);
  return { ...captured, notified };
}

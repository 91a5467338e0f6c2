/**
 * The payment saga's steps, one function per ASL Task state. Each loads the checkout from the
 * table (the source of truth), is safe to run twice (PSP calls carry idempotency keys derived from
 * the checkout id and step; a step whose effect is already recorded returns without calling the
 * PSP again), and records what it did on the checkout's timeline. Business outcomes are thrown as
 * typed errors (lambdas/errors.ts) so the state machine can route them to compensation.
 */
import {
  authorizationDeadlines,
  captureMethodOf,
  DEFAULT_AUTHORIZATION_POLICY,
  isHeldForManualCapture,
  type AuthorizationPolicy,
} from '../domain/authorization-hold';
import { settlementChange } from '../domain/instrument-ledger';
import type { Checkout, CheckoutPayment, CheckoutStatus, FailureReason } from '../domain/model';
import { toMajorUnitsNumber } from '../domain/money';
import {
  authorizationOf,
  failUnansweredAttempt,
  isVoided,
  pendingAuthorizationOf,
  recordAttemptEvent,
  type AttemptEvent,
} from '../domain/payment-attempt';
import {
  InventoryRejectedError,
  InventoryTimeoutError,
  InventoryUnreachableError,
  NotFoundError,
  PaymentDeclinedError,
  PspRejectedError,
  PspTimeoutError,
  PspUnavailableError,
} from '../errors';
import type { AuthorizationHoldStore } from '../ports/authorization-holds';
import type { CheckoutRepository } from '../ports/checkouts';
import type { InstrumentRepository } from '../ports/instruments';
import type { InventoryConfirmer } from '../ports/inventory';
import type { MerchantRepository } from '../ports/merchants';
import type { AuthorizeOutput, PaymentGateway, PspAuthorizationView } from '../ports/payments';
import type { SecretCipher } from '../ports/secrets';
import type { WebhookEndpointRepository, WebhookSender } from '../ports/webhooks';
import { openCheckoutInstrument, runSagaOperation, type InstrumentDependencies } from './financial-instruments';

export interface SagaDependencies {
  checkouts: CheckoutRepository;
  merchants: MerchantRepository;
  gateway: PaymentGateway;
  confirmer: InventoryConfirmer;
  cipher: SecretCipher;
  webhookEndpoints: WebhookEndpointRepository;
  webhookSender: WebhookSender;
  /** Renders the checkout as the API shows it; used as the webhook's `data.object`. */
  renderCheckout: (checkout: Checkout) => Record<string, unknown>;
  /**
   * Financial instruments: when set, each authorization becomes an instrument linked to the
   * checkout and the capture / void move its balances (lambdas/use-cases/financial-instruments.ts).
   * Optional so the saga's unit tests can leave the ledger out.
   */
  instruments?: InstrumentRepository;
  /**
   * Manual capture: the expiry watch written with the hand-over (lambdas/domain/authorization-hold.ts).
   * Without it (or without instruments) a manual-capture checkout cannot be held: CapturePayment
   * refuses, and the saga voids.
   */
  authorizationHolds?: AuthorizationHoldStore;
  /** How long a held authorization lasts and when the merchant is warned; default 7 days / 24 h. */
  authorizationPolicy?: AuthorizationPolicy;
}

/** The instrument use cases' dependencies, from the saga's (undefined when instruments are not wired). */
function instrumentDependencies(deps: SagaDependencies): InstrumentDependencies | undefined {
  return deps.instruments === undefined ? undefined : { instruments: deps.instruments, gateway: deps.gateway };
}

export interface StepInput {
  checkoutId: string;
}

/** The PSP idempotency key for one saga step of one checkout: stable across every retry. */
export function pspIdempotencyKey(checkoutId: string, step: 'authorize' | 'capture' | 'void'): string {
  return `${checkoutId}:${step}`;
}

/** The checkout, or NotFoundError: every step starts from the stored truth. */
export async function loadCheckout(deps: SagaDependencies, checkoutId: string): Promise<Checkout> {
  const checkout = await deps.checkouts.getCheckout(checkoutId);
  if (!checkout) throw new NotFoundError(`Checkout ${checkoutId} does not exist`);
  return checkout;
}

function requirePayment(checkout: Checkout): CheckoutPayment {
  if (!checkout.payment) throw new PspRejectedError(`Checkout ${checkout.id} has no payment to process`);
  return checkout.payment;
}

// ---- AuthorizePayment ---------------------------------------------------------------------------

export interface AuthorizePaymentOutput {
  pspReference: string;
  authorizedAmount: number;
  inventoryConfirmationRequired: boolean;
  /** Only when true: the PSP answered "pending"; the saga waits (AwaitAuthorization) and runs this step again. */
  pending?: true;
}

/** Throws when the reconciliation sweep took the checkout over: a late saga step must not act. */
function assertNotRecovered(checkout: Checkout): void {
  if (checkout.payment?.recoveredBy !== undefined) {
    throw new PspRejectedError(`Checkout ${checkout.id} was taken over by recovery (${checkout.payment.recoveredBy})`);
  }
}

/**
 * Step 1: authorize the full amount with the buyer's token; a decline is thrown, not returned.
 * A PSP that answers "pending" moves the attempt to `authorization_pending` and is reported with
 * `pending: true`; once the callback resumed the wait, this step runs again and learns the result
 * from the PSP's status (GET authorization), never by authorizing a second time.
 */
export async function authorizePayment(deps: SagaDependencies, { checkoutId }: StepInput): Promise<AuthorizePaymentOutput> {
  const checkout = await loadCheckout(deps, checkoutId);
  const payment = requirePayment(checkout);
  assertNotRecovered(checkout);
  const recorded = authorizationOf(payment);
  if (recorded !== undefined) {
    return {
      pspReference: recorded.pspReference,
      authorizedAmount: recorded.amount,
      inventoryConfirmationRequired: payment.inventoryConfirmation === 'pending' || payment.inventoryConfirmation === 'confirmed',
    };
  }
  if (checkout.status !== 'processing') {
    throw new PspRejectedError(`Checkout ${checkoutId} is ${checkout.status}, not processing: nothing to authorize`);
  }
  const merchant = await deps.merchants.getMerchant(checkout.merchantId);
  const confirmationRequired = Boolean(
    merchant?.settings.inventoryConfirmationEnabled && merchant.settings.inventoryConfirmationUrl,
  );
  const authorization = await askPspToAuthorize(deps, checkout, payment);
  if (authorization.pending === true) {
    await recordAttempt(
      deps,
      checkout,
      payment,
      { type: 'authorization_pending', pspReference: authorization.pspReference },
      {
        type: 'authorization_pending',
        data: { psp_reference: authorization.pspReference },
      },
    );
    return {
      pspReference: authorization.pspReference,
      authorizedAmount: 0,
      inventoryConfirmationRequired: confirmationRequired,
      pending: true,
    };
  }
  // The authorization becomes the checkout's financial instrument (held by the saga until it captured or voided).
  const instruments = instrumentDependencies(deps);
  const instrument = instruments
    ? await openCheckoutInstrument(instruments, {
        checkoutId,
        merchantId: checkout.merchantId,
        pspReference: authorization.pspReference,
        authorizedAmount: authorization.authorizedAmount,
        currency: checkout.currency,
      })
    : undefined;
  const authorized = recordAttemptEvent(
    payment,
    { type: 'authorized', pspReference: authorization.pspReference, amount: authorization.authorizedAmount },
    new Date().toISOString(),
  );
  if (authorized.transition.kind === 'refused') throw new PspRejectedError(authorized.transition.reason);
  await deps.checkouts.updatePayment(
    checkoutId,
    {
      ...authorized.payment,
      inventoryConfirmation: confirmationRequired ? 'pending' : 'not_required',
      ...(instrument !== undefined ? { instrumentId: instrument.id } : {}),
    },
    checkout.version,
    { type: 'authorized', data: { psp_reference: authorization.pspReference, amount: authorization.authorizedAmount } },
  );
  return {
    pspReference: authorization.pspReference,
    authorizedAmount: authorization.authorizedAmount,
    inventoryConfirmationRequired: confirmationRequired,
  };
}

/**
 * The PSP's answer for the current attempt: the pending authorization's result from its status,
 * or an authorization with the key `<checkout>:authorize`. A decline is recorded (timeline and
 * attempt `failed`) and rethrown; a timeout leaves the attempt `outcome_unknown` (the PSP may
 * have authorized: the same-key retry, or VoidAuthorization's look-up by reference, settles it).
 */
async function askPspToAuthorize(deps: SagaDependencies, checkout: Checkout, payment: CheckoutPayment): Promise<AuthorizeOutput> {
  const pendingReference = pendingAuthorizationOf(payment);
  try {
    if (pendingReference !== undefined) return pendingResult(checkout.id, await deps.gateway.getAuthorization(pendingReference));
    return await deps.gateway.authorize({
      reference: checkout.id,
      paymentToken: payment.paymentToken,
      amount: checkout.amount,
      currency: checkout.currency,
      idempotencyKey: pspIdempotencyKey(checkout.id, 'authorize'),
    });
  } catch (error) {
    if (error instanceof PaymentDeclinedError) {
      await deps.checkouts.appendEvent(
        {
          checkoutId: checkout.id,
          type: 'authorization_declined',
          at: new Date().toISOString(),
          data: { decline_code: error.message },
        },
        `${checkout.id}:authorization_declined`,
      );
      await recordAttempt(deps, checkout, payment, { type: 'declined', failureCode: error.message });
    }
    if (error instanceof PspTimeoutError && pendingReference === undefined)
      await recordAttempt(deps, checkout, payment, { type: 'outcome_unknown' });
    throw error;
  }
}

/**
 * Moves the current attempt by `event` and stores it (with `timeline` when given); writes nothing
 * when the attempt already stands there (a re-run) or the machine refuses the move.
 */
async function recordAttempt(
  deps: Pick<SagaDependencies, 'checkouts'>,
  checkout: Checkout,
  payment: CheckoutPayment,
  event: AttemptEvent,
  timeline?: Parameters<SagaDependencies['checkouts']['updatePayment']>[3],
): Promise<void> {
  const { payment: next, transition } = recordAttemptEvent(payment, event, new Date().toISOString());
  if (transition.kind !== 'moved') return;
  await deps.checkouts.updatePayment(checkout.id, next, checkout.version, timeline);
}

/**
 * The final result of a pending authorization, from the PSP's own status: still pending (wait
 * again), authorized, declined (PaymentDeclinedError) or voided meanwhile (PspRejectedError).
 */
function pendingResult(
  checkoutId: string,
  view: PspAuthorizationView,
): { pspReference: string; authorizedAmount: number; pending?: boolean } {
  const state = view.state;
  if (view.reference !== checkoutId)
    throw new PspRejectedError(`Authorization ${view.id} belongs to ${view.reference}, not ${checkoutId}`);
  switch (state) {
    case 'pending':
      return { pspReference: view.id, authorizedAmount: 0, pending: true };
    case 'authorized':
      return { pspReference: view.id, authorizedAmount: view.amount };
    case 'declined':
      throw new PaymentDeclinedError('card_declined');
    default:
      throw new PspRejectedError(`The pending authorization ${view.id} ended ${view.pspStatus}`);
  }
}

// ---- ConfirmInventory ---------------------------------------------------------------------------

/** The ConfirmInventory Task's TimeoutSeconds (statemachines/checkout.asl.json), counted from state entry. */
export const INVENTORY_STEP_BUDGET_MS = 10_000;
/** Kept back from the merchant for reading the checkout and writing the answer before the Task times out. */
export const INVENTORY_RECORD_RESERVE_MS = 500;

export interface ConfirmInventoryInput extends StepInput {
  /** `$$.State.EnteredTime` (ISO 8601), passed by the ASL's Parameters; absent: the step starts now. */
  stateEnteredTime?: string;
}

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

/**
 * Step 2: one signed POST to the merchant (never retried; the merchant may already have blocked
 * stock), given the time left until inventoryAnswerDeadline. Confirmed returns; every other
 * outcome is recorded and thrown as its typed error. Past the deadline nothing is written (the
 * Task has timed out or is about to, and the state machine is voiding): the step throws
 * InventoryTimeoutError, without calling the merchant when the time was gone before the call.
 */
export async function confirmInventory(
  deps: SagaDependencies,
  { checkoutId, stateEnteredTime }: ConfirmInventoryInput,
): Promise<{ confirmed: true; latencyMs: number }> {
  const deadline = inventoryAnswerDeadline(stateEnteredTime);
  const checkout = await loadCheckout(deps, checkoutId);
  const payment = requirePayment(checkout);
  const merchant = await deps.merchants.getMerchant(checkout.merchantId);
  const url = merchant?.settings.inventoryConfirmationUrl;
  if (!merchant || !url) {
    throw new InventoryUnreachableError('The merchant has no inventory confirmation URL configured');
  }
  const signingSecret = await deps.cipher.decrypt(merchant.signingSecretCiphertext);
  const timeLeftMs = deadline - Date.now();
  if (timeLeftMs <= 0) {
    throw new InventoryTimeoutError(
      'The inventory confirmation step had no time left to call the merchant (the 10 s count from the step start)',
    );
  }
  await deps.checkouts.appendEvent({
    checkoutId,
    type: 'inventory_confirmation_sent',
    at: new Date().toISOString(),
    data: { url },
  });
  const decision = await deps.confirmer.confirmInventory(
    url,
    {
      merchant_key: merchant.merchantKey,
      merchant_order_ref: checkout.merchantOrderRef,
      order_ref: checkout.id,
      amount: toMajorUnitsNumber(checkout.amount, checkout.currency),
      amount_minor: checkout.amount,
      currency: checkout.currency,
      items: checkout.items.map((item) => ({
        sku: item.sku,
        ...(item.name ? { name: item.name } : {}),
        quantity: item.quantity,
      })),
    },
    signingSecret,
    {
      timeoutMs: deadline - Date.now(),
      ...(merchant.settings.allowedPorts !== undefined ? { allowedPorts: merchant.settings.allowedPorts } : {}),
    },
  );
  if (Date.now() > deadline) {
    throw new InventoryTimeoutError(
      `The merchant's answer came after the step's 10 s (${decision.outcome}); nothing was recorded`,
    );
  }
  const current = await loadCheckout(deps, checkoutId);
  if (decision.outcome === 'confirmed') {
    await deps.checkouts.updatePayment(
      checkoutId,
      { ...payment, ...current.payment, inventoryConfirmation: 'confirmed' },
      current.version,
      {
        type: 'inventory_confirmed',
        data: { latency_ms: decision.latencyMs, http_status: decision.httpStatus },
      },
    );
    return { confirmed: true, latencyMs: decision.latencyMs };
  }
  await deps.checkouts.updatePayment(
    checkoutId,
    { ...payment, ...current.payment, inventoryConfirmation: 'rejected' },
    current.version,
    {
      type: 'inventory_rejected',
      data: {
        failure_reason: decision.reason,
        message: decision.message,
        latency_ms: decision.latencyMs,
        ...(decision.httpStatus !== undefined ? { http_status: decision.httpStatus } : {}),
      },
    },
  );
  switch (decision.reason) {
    case 'inventory_rejected':
      throw new InventoryRejectedError(decision.message);
    case 'inventory_timeout':
      throw new InventoryTimeoutError(decision.message);
    case 'inventory_unreachable':
      throw new InventoryUnreachableError(decision.message);
  }
}

// ---- CapturePayment -----------------------------------------------------------------------------

/**
 * Step 3a: capture the full amount once; refuses unless inventory was confirmed or not required.
 * A manual-capture checkout passes the very same checks and then is not captured: the
 * authorization is handed to the merchant instead (holdForManualCapture).
 */
export async function capturePayment(
  deps: SagaDependencies,
  { checkoutId }: StepInput,
): Promise<{ capturedAmount: number; held?: true }> {
  const checkout = await loadCheckout(deps, checkoutId);
  const payment = requirePayment(checkout);
  if (payment.capturedAmount >= checkout.amount) return { capturedAmount: payment.capturedAmount };
  const authorization = authorizationOf(payment);
  if (authorization === undefined) throw new PspRejectedError(`Checkout ${checkoutId} has no authorization to capture`);
  if (isVoided(payment)) throw new PspRejectedError(`Checkout ${checkoutId}'s authorization was voided`);
  if (payment.inventoryConfirmation !== 'confirmed' && payment.inventoryConfirmation !== 'not_required') {
    throw new PspRejectedError(
      `Checkout ${checkoutId} cannot be captured: inventory confirmation is ${payment.inventoryConfirmation ?? 'unknown'}`,
    );
  }
  assertNotRecovered(checkout);
  if (captureMethodOf(checkout) === 'manual') return await holdForManualCapture(deps, checkout, payment);
  const amount = checkout.amount - payment.capturedAmount;
  let capture: { amount: number; pspOperationId: string };
  try {
    capture = await captureAtPsp(deps, checkout, payment, authorization.pspReference, amount);
  } catch (error) {
    if (!(error instanceof PspTimeoutError || error instanceof PspUnavailableError)) throw error;
    // Unknown outcome: ask the PSP what happened instead of sending the capture again blindly.
    const resolved = await resolveCaptureByStatus(deps, checkout, payment, authorization.pspReference, error);
    if (resolved === undefined) throw error; // the PSP says not captured: the same-key retry is safe
    capture = resolved;
  }
  const current = await loadCheckout(deps, checkoutId);
  const capturedTotal = payment.capturedAmount + capture.amount;
  // The PSP took the money: the amount is recorded even if the attempt's machine refused the move.
  const { payment: captured } = recordAttemptEvent(
    { ...(current.payment ?? payment), capturedAmount: capturedTotal },
    { type: 'captured', capturedTotal },
    new Date().toISOString(),
  );
  await deps.checkouts.updatePayment(checkoutId, captured, current.version, {
    type: 'captured',
    data: { amount: capture.amount, psp_operation_id: capture.pspOperationId },
  });
  return { capturedAmount: capturedTotal };
}

/**
 * Manual capture's hand-over, called once inventory is confirmed (or not required): one
 * transaction makes the checkout's instrument `active` (the merchant may now _capture / _revoke
 * it) and writes the expiry watch (warning and expiry times from the authorization time); then the
 * checkout records `authorizationExpiresAt` with an `authorization_held` timeline row. Both writes
 * are idempotent, so a re-run (or the reconciliation sweep finishing a crashed saga) completes it.
 */
export async function holdForManualCapture(
  deps: SagaDependencies,
  checkout: Checkout,
  payment: CheckoutPayment,
): Promise<{ capturedAmount: number; held: true }> {
  if (payment.authorizationExpiresAt !== undefined) return { capturedAmount: payment.capturedAmount, held: true };
  if (deps.instruments === undefined || deps.authorizationHolds === undefined || payment.instrumentId === undefined) {
    throw new PspRejectedError(
      `Checkout ${checkout.id} asks for manual capture, but no financial instrument holds its authorization`,
    );
  }
  const instrument = await deps.instruments.getInstrument(payment.instrumentId);
  if (instrument === undefined)
    throw new PspRejectedError(`Instrument ${payment.instrumentId} of checkout ${checkout.id} does not exist`);
  const { warnAt, expiresAt } = authorizationDeadlines(
    instrument.createdAt,
    deps.authorizationPolicy ?? DEFAULT_AUTHORIZATION_POLICY,
  );
  await deps.authorizationHolds.holdAuthorization(
    {
      instrumentId: instrument.id,
      checkoutId: checkout.id,
      merchantId: checkout.merchantId,
      authorizedAt: instrument.createdAt,
      warnAt,
      expiresAt,
      stage: 'held',
    },
    new Date(),
  );
  const current = await loadCheckout(deps, checkout.id);
  const currentPayment = current.payment ?? payment;
  if (currentPayment.authorizationExpiresAt === undefined) {
    await deps.checkouts.updatePayment(checkout.id, { ...currentPayment, authorizationExpiresAt: expiresAt }, current.version, {
      type: 'authorization_held',
      data: {
        amount: instrument.capturableAmount,
        instrument_id: instrument.id,
        expires_at: expiresAt,
        expiring_warning_at: warnAt,
      },
    });
  }
  return { capturedAmount: currentPayment.capturedAmount, held: true };
}

/** The one capture call (through the checkout's instrument when there is one), keyed `<checkout>:capture`. */
async function captureAtPsp(
  deps: SagaDependencies,
  checkout: Checkout,
  payment: CheckoutPayment,
  pspReference: string,
  amount: number,
): Promise<{ amount: number; pspOperationId: string }> {
  const instruments = instrumentDependencies(deps);
  let capture: { amount: number; pspOperationId: string };
  if (instruments !== undefined && payment.instrumentId !== undefined) {
    // Same PSP call and key, but the instrument's capturable amount is reserved first and the
    // refundable amount credited after: the merchant can refund through the instrument API.
    const recorded = await runSagaOperation(instruments, {
      instrumentId: payment.instrumentId,
      step: 'capture',
      amount,
      pspIdempotencyKey: pspIdempotencyKey(checkout.id, 'capture'),
    });
    capture = {
      amount: recorded.operation.pspAmount,
      pspOperationId: recorded.operation.pspOperationId ?? recorded.operation.id,
    };
  } else {
    capture = await deps.gateway.capture({
      reference: checkout.id,
      pspReference,
      amount,
      currency: checkout.currency,
      idempotencyKey: pspIdempotencyKey(checkout.id, 'capture'),
    });
  }
  return capture;
}

/**
 * A capture whose answer was lost (timeout, 5xx): records the unknown outcome on the timeline,
 * then reads the authorization at the PSP. Captured there: the capture is settled from that truth
 * (the instrument's pending operation too) and returned. Not captured: undefined (the caller's
 * retry reuses the idempotency key, so it can never capture twice). The status read failing
 * leaves the outcome unknown: the original error is rethrown by the caller.
 */
export async function resolveCaptureByStatus(
  deps: SagaDependencies,
  checkout: Checkout,
  payment: CheckoutPayment,
  pspReference: string,
  cause: Error,
): Promise<{ amount: number; pspOperationId: string } | undefined> {
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
    view = await deps.gateway.getAuthorization(pspReference);
  } catch {
    return undefined;
  }
  const expected = checkout.amount - payment.capturedAmount;
  const capturedAtPsp = view.capturedAmount - payment.capturedAmount;
  if (capturedAtPsp < expected) return undefined;
  await settleSagaOperationFromPsp(deps, payment.instrumentId, 'saga_capture', 'succeeded');
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

/**
 * Settles the saga's pending instrument operation (`saga_capture` / `saga_void`) from what the
 * PSP's status says happened, when the PSP's own answer was lost. No-op without an instrument or
 * when the operation is absent or already settled.
 */
export async function settleSagaOperationFromPsp(
  deps: SagaDependencies,
  instrumentId: string | undefined,
  operationId: 'saga_capture' | 'saga_void',
  outcome: 'succeeded' | 'failed',
): Promise<void> {
  if (deps.instruments === undefined || instrumentId === undefined) return;
  const instrument = await deps.instruments.getInstrument(instrumentId);
  const operation = instrument?.operations[operationId];
  if (instrument === undefined || operation === undefined || operation.status !== 'pending') return;
  const now = new Date();
  await deps.instruments.settleOperation(
    {
      instrumentId,
      operationId,
      change: settlementChange(operation, outcome),
      patch: {
        status: outcome,
        settledAt: now.toISOString(),
        ...(outcome === 'failed' ? { failureCode: 'psp_error', failureMessage: 'Resolved by PSP status query' } : {}),
      },
    },
    now,
  );
}

// ---- VoidAuthorization --------------------------------------------------------------------------

/** Compensation: release the authorization. Never captures or refunds; a no-op if nothing is held. */
export async function voidAuthorization(
  deps: SagaDependencies,
  { checkoutId }: StepInput,
): Promise<{ voided: boolean; skipped?: string }> {
  const checkout = await loadCheckout(deps, checkoutId);
  const payment = checkout.payment;
  if (payment?.recoveredBy !== undefined) return { voided: isVoided(payment), skipped: 'recovered' };
  const authorization = authorizationOf(payment);
  if (payment !== undefined && authorization === undefined && !isVoided(payment)) {
    // Pending, or an answer we never got: void whatever the PSP holds under our reference.
    const released = await voidUnrecordedAuthorizations(deps, checkout, payment);
    if (released > 0) return { voided: true };
  }
  if (payment === undefined || authorization === undefined) return { voided: false, skipped: 'not_authorized' };
  if (isVoided(payment)) return { voided: true };
  if (payment.capturedAmount > 0) return { voided: false, skipped: 'already_captured' };
  const instruments = instrumentDependencies(deps);
  let result: { amount: number; pspOperationId: string };
  if (instruments !== undefined && payment.instrumentId !== undefined) {
    // The instrument is revoked (capturable -> 0) before the PSP void, restored if the PSP refuses.
    const recorded = await runSagaOperation(instruments, {
      instrumentId: payment.instrumentId,
      step: 'void',
      pspIdempotencyKey: pspIdempotencyKey(checkout.id, 'void'),
    });
    result = { amount: recorded.operation.pspAmount, pspOperationId: recorded.operation.pspOperationId ?? recorded.operation.id };
  } else {
    result = await deps.gateway.voidAuthorization({
      reference: checkout.id,
      pspReference: authorization.pspReference,
      idempotencyKey: pspIdempotencyKey(checkout.id, 'void'),
    });
  }
  const { payment: voided } = recordAttemptEvent(payment, { type: 'voided' }, new Date().toISOString());
  await deps.checkouts.updatePayment(checkoutId, voided, checkout.version, {
    type: 'voided',
    data: { amount: result.amount, psp_operation_id: result.pspOperationId },
  });
  return { voided: true };
}

/**
 * Voids authorizations the checkout never recorded: the pending one (its result never came), or
 * any the PSP filed under the checkout id although its answer was lost (found by reference, when
 * the gateway can look up). Same idempotency key as every void of this checkout. Returns how many.
 */
async function voidUnrecordedAuthorizations(
  deps: SagaDependencies,
  checkout: Checkout,
  payment: CheckoutPayment,
): Promise<number> {
  const candidates = new Set<string>();
  const pending = pendingAuthorizationOf(payment);
  if (pending !== undefined) candidates.add(pending);
  if (deps.gateway.findAuthorizations !== undefined) {
    for (const view of await deps.gateway.findAuthorizations(checkout.id)) {
      if (view.state === 'pending' || (view.state === 'authorized' && view.capturedAmount === 0)) candidates.add(view.id);
    }
  }
  let released = 0;
  for (const pspReference of candidates) {
    try {
      const result = await deps.gateway.voidAuthorization({
        reference: checkout.id,
        pspReference,
        idempotencyKey: pspIdempotencyKey(checkout.id, 'void'),
      });
      released += 1;
      const current = await loadCheckout(deps, checkout.id);
      const { payment: voided } = recordAttemptEvent(
        current.payment ?? payment,
        { type: 'voided', pspReference },
        new Date().toISOString(),
      );
      await deps.checkouts.updatePayment(checkout.id, voided, current.version, {
        type: 'voided',
        data: { amount: result.amount, psp_operation_id: result.pspOperationId, psp_reference: pspReference, unrecorded: true },
      });
    } catch (error) {
      if (!(error instanceof PspRejectedError)) throw error; // already voided or not voidable: nothing held
    }
  }
  return released;
}

// ---- RecordOutcome ------------------------------------------------------------------------------

export interface OutcomeInput extends StepInput {
  outcome: { status: 'succeeded' } | { status: 'failed'; reason: FailureReason; cause?: string };
}

const DEFAULT_FAILURE_MESSAGES: Record<FailureReason, string> = {
  payment_declined: 'The payment was declined',
  inventory_rejected: 'The merchant could not confirm the inventory',
  inventory_timeout: 'The merchant did not confirm the inventory within 10 s',
  inventory_unreachable: "The merchant's inventory confirmation endpoint could not be reached",
  psp_error: 'The payment provider could not complete the payment',
  expired: 'The checkout expired',
};

/**
 * A Task's error Cause: on AWS a JSON string `{"errorType","errorMessage",...}` written by the
 * Lambda runtime; in the local engine the error message itself. Returns the human message.
 */
export function messageFromCause(cause: string | undefined): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed && typeof parsed.errorMessage === 'string') {
      return parsed.errorMessage.slice(0, 500);
    }
  } catch {
    // not JSON: the local engine passes the message as is
  }
  return cause.slice(0, 500);
}

/**
 * Step 4: the terminal status, by a conditional write from `processing`. Refuses `succeeded`
 * unless the full amount was captured (automatic capture) or the authorization was handed to the
 * merchant after the inventory confirmation and is not voided (manual capture), and `failed`
 * while money stays captured. Running it again after the status is terminal returns the recorded status.
 */
export async function recordOutcome(
  deps: SagaDependencies,
  { checkoutId, outcome }: OutcomeInput,
): Promise<{ status: CheckoutStatus }> {
  const checkout = await loadCheckout(deps, checkoutId);
  if (checkout.status !== 'processing') return { status: checkout.status };
  if (checkout.payment?.recoveredBy !== undefined) return { status: checkout.status }; // the sweep records it
  const captured = checkout.payment?.capturedAmount ?? 0;
  if (outcome.status === 'succeeded') {
    const held = captured !== checkout.amount && isHeldForManualCapture(checkout);
    if (captured !== checkout.amount && !held) {
      throw new PspRejectedError(`Refusing to mark ${checkoutId} succeeded: captured ${captured} of ${checkout.amount}`);
    }
    const updated = await deps.checkouts.transitionCheckout({
      checkoutId,
      from: ['processing'],
      to: 'succeeded',
      expectedVersion: checkout.version,
      event: held
        ? {
            type: 'succeeded',
            data: {
              capture_method: 'manual',
              captured_amount: captured,
              authorization_expires_at: checkout.payment?.authorizationExpiresAt,
            },
          }
        : { type: 'succeeded' },
    });
    return { status: updated.status };
  }
  const message = messageFromCause(outcome.cause) ?? DEFAULT_FAILURE_MESSAGES[outcome.reason];
  const payment =
    checkout.payment === undefined
      ? undefined
      : failUnansweredAttempt(checkout.payment, outcome.reason, new Date().toISOString());
  const updated = await deps.checkouts.transitionCheckout({
    checkoutId,
    from: ['processing'],
    to: 'failed',
    expectedVersion: checkout.version,
    patch: {
      failureReason: outcome.reason,
      failureMessage: message,
      ...(payment !== undefined && payment !== checkout.payment ? { payment } : {}),
    },
    event: { type: 'failed', data: { failure_reason: outcome.reason, message, captured_amount: captured } },
  });
  return { status: updated.status };
}

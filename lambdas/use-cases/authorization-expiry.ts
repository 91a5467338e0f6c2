/**
 * The authorization-expiry sweep: manual-capture authorizations do not last (the PSP accepts
 * captures up to 7 days after the authorization), so every hold the saga handed to a merchant is
 * watched (lambdas/domain/authorization-hold.ts). Run by the reconciliation-sweep handler on its
 * schedule (EventBridge on AWS, a timer locally), it reads only the holds that are due (a sparse
 * index, no table scan) and for each:
 *   - at the warning time: publishes `authorization.expiring` once (event id from the instrument
 *     and type) and records an `authorization_expiring` timeline row;
 *   - at the expiry time: applies the merchant's `expired_authorization_action` to what is still
 *     capturable (a checkout that did not succeed is always voided), through the instrument use
 *     cases (void = revoke, capture = capture the rest), under a lease, with fixed operation ids so a re-run resumes instead of acting twice; then
 *     records an `authorization_expired` row and publishes `payment.voided` | `payment.captured`
 *     (plus the instrument's own `financial_instrument.transaction.*`);
 *   - a hold the merchant already captured or revoked in full is closed without an event.
 */
import {
  DEFAULT_EXPIRED_AUTHORIZATION_ACTION,
  nextHoldStep,
  paymentWithInstrumentBalances,
  type ExpiredAuthorizationAction,
} from '../domain/authorization-hold';
import type { FinancialInstrument } from '../domain/instrument-model';
import type { Checkout } from '../domain/model';
import { ConflictError, NotFoundError, PaymentDeclinedError, PspRejectedError, ValidationError } from '../errors';
import type { AuthorizationHold } from '../domain/authorization-hold';
import type { AuthorizationHoldStore } from '../ports/authorization-holds';
import type { CheckoutRepository } from '../ports/checkouts';
import type { EventPublisher } from '../ports/events';
import type { InstrumentRepository } from '../ports/instruments';
import type { MerchantRepository } from '../ports/merchants';
import type { ConnectorGateways, PaymentGateway } from '../ports/payments';
import type { RenderCheckout } from './payment-ledger';
import {
  EXPIRY_CAPTURE_OPERATION_ID,
  EXPIRY_VOID_OPERATION_ID,
  runExpiryOperation,
  type OperationResult,
} from './financial-instruments';

export interface AuthorizationExpiryDependencies {
  checkouts: CheckoutRepository;
  merchants: MerchantRepository;
  instruments: InstrumentRepository;
  gateway: PaymentGateway;
  /** Every connector's gateway: each hold is settled at its instrument's connector. */
  gateways: ConnectorGateways;
  holds: AuthorizationHoldStore;
  publisher: EventPublisher;
  /** The checkout as the API shows it (`data.object` of the events). */
  renderCheckout: RenderCheckout;
  /** This sweep's identity (Lambda request id, local timer id), for the lease. */
  owner: string;
  /** How long a claim keeps other sweeps off a hold. */
  leaseMs: number;
  now?: () => Date;
  log?: (message: string, extra?: Record<string, unknown>) => void;
}

export interface AuthorizationExpiryReport {
  due: number;
  warned: number;
  expired: { instrumentId: string; checkoutId: string; action: ExpiredAuthorizationAction; outcome: 'succeeded' | 'failed' }[];
  /** Holds closed because nothing was left to capture (the merchant captured or revoked it all). */
  closed: number;
  errors: number;
}

/** One pass over the due holds; per-hold failures are logged and left for the next pass. */
export async function runAuthorizationExpirySweep(
  deps: AuthorizationExpiryDependencies,
  options: { limit?: number } = {},
): Promise<AuthorizationExpiryReport> {
  const report: AuthorizationExpiryReport = { due: 0, warned: 0, expired: [], closed: 0, errors: 0 };
  const due = await deps.holds.listDueHolds(clock(deps), options.limit ?? 100);
  report.due = due.length;
  for (const instrumentId of due) {
    try {
      await sweepHold(deps, instrumentId, report);
    } catch (error) {
      report.errors += 1;
      deps.log?.('authorization expiry failed for a hold', {
        instrumentId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return report;
}

function clock(deps: AuthorizationExpiryDependencies): Date {
  return deps.now?.() ?? new Date();
}

/** Whether anything is still held for the merchant on the instrument. */
function holdsMoney(instrument: FinancialInstrument | undefined): instrument is FinancialInstrument {
  return instrument !== undefined && instrument.status === 'active' && instrument.capturableAmount > 0;
}

/** Whether an earlier pass already started the expiry action (it must be resumed and reported, not dropped). */
function expiryStarted(instrument: FinancialInstrument | undefined): boolean {
  return (
    instrument?.operations[EXPIRY_VOID_OPERATION_ID] !== undefined ||
    instrument?.operations[EXPIRY_CAPTURE_OPERATION_ID] !== undefined
  );
}

async function sweepHold(
  deps: AuthorizationExpiryDependencies,
  instrumentId: string,
  report: AuthorizationExpiryReport,
): Promise<void> {
  const hold = await deps.holds.getHold(instrumentId);
  if (hold === undefined) return;
  const step = nextHoldStep(hold, clock(deps));
  if (step === 'none' || step === 'wait') return;
  const instrument = await deps.instruments.getInstrument(instrumentId);
  const resuming = expiryStarted(instrument);
  if (!resuming && !holdsMoney(instrument)) {
    if (await deps.holds.advanceHold(instrumentId, hold.stage, 'done', clock(deps), 'nothing_held')) report.closed += 1;
    return;
  }
  const checkout = await deps.checkouts.getCheckout(hold.checkoutId);
  if (checkout === undefined || instrument === undefined)
    throw new NotFoundError(`Checkout ${hold.checkoutId} of hold ${instrumentId} does not exist`);
  // Only a succeeded checkout may be captured at expiry; anything else (a saga that failed after the
  // hand-over) is released, whatever the merchant's default.
  const action = checkout.status === 'succeeded' ? await expiryActionOf(deps, hold.merchantId) : 'void';
  if (hold.stage === 'held') {
    await publishExpiring(deps, hold, checkout, instrument, action);
    report.warned += 1;
  }
  if (step !== 'expire') return;
  const now = clock(deps);
  if (!(await deps.holds.claimHold(instrumentId, deps.owner, now, new Date(now.getTime() + deps.leaseMs)))) return;
  if (!resuming && action === 'void' && instrument.pendingCaptures > 0) return; // a merchant capture is in flight: revoke after it settled
  const outcome = await applyExpiryAction(deps, hold, action);
  if (outcome === 'nothing_held') {
    if (await deps.holds.advanceHold(instrumentId, 'warned', 'done', clock(deps), 'nothing_held')) report.closed += 1;
    return;
  }
  await deps.holds.advanceHold(instrumentId, 'warned', 'done', clock(deps), outcome === 'succeeded' ? action : 'failed');
  report.expired.push({ instrumentId, checkoutId: hold.checkoutId, action, outcome });
}

async function expiryActionOf(deps: AuthorizationExpiryDependencies, merchantId: string): Promise<ExpiredAuthorizationAction> {
  const merchant = await deps.merchants.getMerchant(merchantId);
  return merchant?.settings.expiredAuthorizationAction ?? DEFAULT_EXPIRED_AUTHORIZATION_ACTION;
}

/** The checkout with the instrument's balances, rendered as the API shows it. */
function renderHeld(
  deps: AuthorizationExpiryDependencies,
  checkout: Checkout,
  instrument: FinancialInstrument,
): Record<string, unknown> {
  const payment = checkout.payment === undefined ? undefined : paymentWithInstrumentBalances(checkout.payment, instrument);
  return deps.renderCheckout(payment === undefined ? checkout : { ...checkout, payment }, instrument);
}

/** `authorization.expiring`, once per hold (event id from the instrument and type), then stage warned. */
async function publishExpiring(
  deps: AuthorizationExpiryDependencies,
  hold: AuthorizationHold,
  checkout: Checkout,
  instrument: FinancialInstrument,
  action: ExpiredAuthorizationAction,
): Promise<void> {
  const now = clock(deps);
  await deps.checkouts.appendEvent(
    {
      checkoutId: hold.checkoutId,
      type: 'authorization_expiring',
      at: now.toISOString(),
      data: {
        instrument_id: hold.instrumentId,
        expires_at: hold.expiresAt,
        capturable_amount: instrument.capturableAmount,
        expired_authorization_action: action,
      },
    },
    `${hold.checkoutId}:authorization_expiring`,
  );
  await deps.publisher.publishEvent({
    merchantId: hold.merchantId,
    type: 'authorization.expiring',
    objectId: hold.checkoutId,
    checkoutId: hold.checkoutId,
    data: { object: renderHeld(deps, checkout, instrument), expires_at: hold.expiresAt, expired_authorization_action: action },
    sourceKey: `${hold.instrumentId}:authorization.expiring`,
    occurredAt: now,
  });
  await deps.holds.advanceHold(hold.instrumentId, 'held', 'warned', now);
}

/**
 * The merchant's default on what is still capturable, through the instrument. A definitive PSP or
 * ledger refusal ends the hold as `failed` (recorded on the timeline); a transient failure is
 * thrown so the next pass resumes the same operation.
 */
async function applyExpiryAction(
  deps: AuthorizationExpiryDependencies,
  hold: AuthorizationHold,
  action: ExpiredAuthorizationAction,
): Promise<'succeeded' | 'failed' | 'nothing_held'> {
  let result: OperationResult;
  try {
    result = await runExpiryOperation(
      {
        instruments: deps.instruments,
        gateway: deps.gateway,
        events: deps.publisher,
        gateways: deps.gateways,
        ...(deps.now ? { now: deps.now } : {}),
      },
      { instrumentId: hold.instrumentId, action },
    );
  } catch (error) {
    if (!(
      error instanceof PspRejectedError ||
      error instanceof PaymentDeclinedError ||
      error instanceof ConflictError ||
      error instanceof ValidationError
    ))
      throw error;
    // The merchant may have captured or revoked it all between our read and the reservation.
    if (!holdsMoney(await deps.instruments.getInstrument(hold.instrumentId))) return 'nothing_held';
    await deps.checkouts.appendEvent(
      {
        checkoutId: hold.checkoutId,
        type: 'authorization_expired',
        at: clock(deps).toISOString(),
        data: { action, outcome: 'failed', error: error.message.slice(0, 300) },
      },
      `${hold.checkoutId}:authorization_expired`,
    );
    return 'failed';
  }
  const { operation, instrument } = result;
  const now = clock(deps);
  await deps.checkouts.appendEvent(
    {
      checkoutId: hold.checkoutId,
      type: 'authorization_expired',
      at: now.toISOString(),
      data: {
        action,
        outcome: 'succeeded',
        amount: operation.pspAmount,
        instrument_id: instrument.id,
        operation_id: operation.id,
        psp_operation_id: operation.pspOperationId ?? null,
      },
    },
    `${hold.checkoutId}:authorization_expired`,
  );
  const checkout = await deps.checkouts.getCheckout(hold.checkoutId);
  if (checkout !== undefined && operation.pspAmount > 0) {
    const type = operation.kind === 'capture' ? 'payment.captured' : 'payment.voided';
    await deps.publisher.publishEvent({
      merchantId: hold.merchantId,
      type,
      objectId: hold.checkoutId,
      checkoutId: hold.checkoutId,
      data: { object: renderHeld(deps, checkout, instrument) },
      sourceKey: `${hold.instrumentId}:${operation.id}:${type}`,
      occurredAt: now,
    });
  }
  return 'succeeded';
}

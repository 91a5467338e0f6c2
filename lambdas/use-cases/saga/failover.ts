/**
 * Failover inside the AuthorizePayment step (DESIGN Part 2 "Routing and failover"). A `pm_`
 * payment keeps its ordered connector list as `payment.route`; when the merchant's routing has
 * `failover: true` and the current attempt ends failed for a failover reason, the next connector
 * of the route gets a NEW attempt (its own `att_` id, its own PSP idempotency key) in the same
 * step run:
 *
 * - PSP unavailable (503, connection refused): the attempt ends `failed` / `psp_unavailable`;
 * - timeout: the attempt is `outcome_unknown` and is settled from that PSP's truth (status query
 *   by our reference) BEFORE anything else starts: authorized there -> that attempt is the one
 *   (no second authorization); nothing there -> `failed` / `psp_timeout`, then the next connector;
 * - soft decline (`do_not_honor`, `processing_error`, `try_again_later`): the next connector.
 *
 * Hard declines, unknown codes, the last connector of the route and `failover: false` keep the
 * single-connector behaviour: the error goes to the state machine (retry of transient errors with
 * the same key, decline routed to the failure Task). Failover attempts belong to the same try, so they
 * never count against `max_payment_attempts`.
 *
 * The loop lives in the Lambda, not in the ASL: every move is a conditional write on the checkout's
 * version (attempt failed + next attempt appended in ONE write), and each attempt's PSP key is
 * derived from its stored id, so a step that crashes between attempts and runs again resumes at the
 * stored current attempt: a same-key replay at its PSP, or the settlement of an `outcome_unknown`
 * one, never a second authorization.
 */
import { connectorOf, attemptOf, canStartAttempt, newAttempt, recordAttemptEvent } from '../../domain/payment-attempt';
import { generateAttemptId } from '../../domain/ids';
import type { Checkout, CheckoutPayment, Merchant } from '../../domain/model';
import { tryNumberOf, tryScopedKey } from '../../domain/payment-tries';
import { DEFAULT_ROUTING, shouldFailOver, type AttemptFailureKind, type RoutingConfig } from '../../domain/routing';
import { AttemptTransitionError, PspTimeoutError, PspUnavailableError } from '../../errors';
import type { AuthorizeOutput, PspAuthorizationView } from '../../ports/payments';
import { gatewayFor } from '../connector-gateways';
import { settlePaymentSource, type PaymentSourceDependencies } from '../payment-source';
import { loadCheckout, requirePayment, type SagaPorts } from './shared';

export type FailoverPorts = Pick<SagaPorts, 'checkouts' | 'gateway' | 'gateways'> & PaymentSourceDependencies;

/**
 * One authorization call for the checkout's current attempt (AuthorizePayment's), recording declines
 * and timeouts. `mayFailOver`: a soft decline here moves on to the next connector, so the payment
 * method's CVC must survive it (the next PSP needs it; it is destroyed after the try's last answer).
 */
export type AuthorizeCurrentAttempt = (
  checkout: Checkout,
  payment: CheckoutPayment,
  options: { mayFailOver: boolean },
) => Promise<AuthorizeOutput>;

export interface FailoverResult {
  /** The checkout as stored after the last attempt started (its version is the one to write on). */
  checkout: Checkout;
  payment: CheckoutPayment;
  /** The PSP's answer for the current attempt (authorized, pending or a challenge). */
  authorization: AuthorizeOutput;
}

/**
 * The PSP idempotency key of the current attempt's `suffix` call: `<checkout>[:t<n>]:<suffix>` for
 * the first attempt of a try (Part 1's names), `<checkout>[:t<n>]:<att_id>:<suffix>` for a failover
 * attempt. Stable across re-runs, since the attempt id is stored before the call.
 */
export function attemptScopedKey(checkoutId: string, payment: CheckoutPayment, suffix: string): string {
  const attempt = attemptOf(payment);
  const scoped = attempt.failoverFrom === undefined ? suffix : `${attempt.id}:${suffix}`;
  return tryScopedKey(checkoutId, tryNumberOf(payment), scoped);
}

/** The connector after the current attempt's in the payment's route, if any. */
export function nextConnectorOf(payment: Pick<CheckoutPayment, 'route' | 'attempts'>): string | undefined {
  const route = payment.route ?? [];
  const index = route.indexOf(connectorOf(payment));
  return index < 0 ? undefined : route[index + 1];
}

function connectorsLeft(payment: Pick<CheckoutPayment, 'route' | 'attempts'>): number {
  const route = payment.route ?? [];
  const index = route.indexOf(connectorOf(payment));
  return index < 0 ? 0 : route.length - index - 1;
}

/**
 * Why the current attempt failed, as failover sees it, from the error and the stored attempt: a
 * decline is recorded (`failed` with its code), a timeout left it `outcome_unknown`, an unavailable
 * PSP left it `authorizing`. Anything else (pending-result errors, store errors, refusals): undefined.
 */
export function failureOf(error: unknown, payment: CheckoutPayment): AttemptFailureKind | 'timed_out' | undefined {
  const attempt = attemptOf(payment);
  if (attempt.status === 'failed' && attempt.failureCode !== undefined) return { kind: 'declined', code: attempt.failureCode };
  if (error instanceof PspUnavailableError && attempt.status === 'authorizing') return { kind: 'unavailable' };
  if (error instanceof PspTimeoutError && attempt.status === 'outcome_unknown') return 'timed_out';
  return undefined;
}

/**
 * Runs `authorizeOnce` for the current attempt and, while the routing allows it, fails over to the
 * next connector of the route. Returns the answer of the attempt that got one (authorized, pending
 * or a challenge); throws the last attempt's error otherwise (the checkout's failure_reason is the
 * last attempt's).
 */
export async function authorizeWithFailover(
  deps: FailoverPorts,
  start: Checkout,
  merchant: Pick<Merchant, 'routing'> | undefined,
  authorizeOnce: AuthorizeCurrentAttempt,
): Promise<FailoverResult> {
  const routing: RoutingConfig = merchant?.routing ?? DEFAULT_ROUTING;
  let checkout = start;
  for (;;) {
    const payment = requirePayment(checkout);
    // A crashed run may have recorded a soft decline without starting the next attempt: start it now.
    const recorded = failureOf(undefined, payment);
    if (recorded !== undefined && recorded !== 'timed_out' && shouldFailOver(routing, recorded, connectorsLeft(payment))) {
      checkout = await startNextAttempt(
        deps,
        checkout,
        payment,
        recorded.kind === 'declined' ? recorded.code : 'psp_unavailable',
      );
      continue;
    }
    // A timed-out attempt (this run's, or a crashed run's) is settled before anything else starts.
    if (
      attemptOf(payment).status === 'outcome_unknown' &&
      shouldFailOver(routing, { kind: 'timed_out_not_authorized' }, connectorsLeft(payment))
    ) {
      const settled = await settleFromPspTruth(deps, checkout, payment);
      if (settled === 'unsettled') throw new PspTimeoutError(`The timed-out attempt of ${checkout.id} could not be settled`);
      if (settled !== undefined) return { checkout, payment, authorization: settled };
      checkout = await startNextAttempt(deps, checkout, payment, 'psp_timeout');
      continue;
    }
    try {
      const mayFailOver = routing.failover && connectorsLeft(payment) > 0;
      return { checkout, payment, authorization: await authorizeOnce(checkout, payment, { mayFailOver }) };
    } catch (error) {
      const stored = await loadCheckout(deps, checkout.id);
      const storedPayment = requirePayment(stored);
      const failure = failureOf(error, storedPayment);
      if (failure === undefined) throw error;
      const kind: AttemptFailureKind = failure === 'timed_out' ? { kind: 'timed_out_not_authorized' } : failure;
      if (!shouldFailOver(routing, kind, connectorsLeft(storedPayment))) throw error;
      // A timeout is settled at the top of the loop; the others move on now.
      checkout =
        failure === 'timed_out'
          ? stored
          : await startNextAttempt(deps, stored, storedPayment, kind.kind === 'declined' ? kind.code : 'psp_unavailable');
    }
  }
}

/**
 * The `outcome_unknown` attempt's result from its PSP's own books (authorizations filed under the
 * checkout id that no other attempt names): authorized or pending there -> that answer; nothing
 * -> undefined ("not authorized"); a connector that cannot look up -> 'unsettled' (no failover).
 */
async function settleFromPspTruth(
  deps: FailoverPorts,
  checkout: Checkout,
  payment: CheckoutPayment,
): Promise<AuthorizeOutput | undefined | 'unsettled'> {
  const attempt = attemptOf(payment);
  const gateway = gatewayFor(deps, attempt.connector, checkout.merchantId);
  if (gateway.findAuthorizations === undefined) return 'unsettled';
  const named = new Set(payment.attempts.filter((other) => other.id !== attempt.id).map((other) => other.pspReference));
  const views = (await gateway.findAuthorizations(checkout.id)).filter(
    (view) => view.reference === checkout.id && !named.has(view.id),
  );
  const held = views.find((view) => view.state === 'authorized') ?? views.find((view) => view.state === 'pending');
  if (held === undefined) return undefined;
  if (held.state === 'authorized') await settlePaymentSource(deps, checkout, payment);
  return answerOf(held);
}

function answerOf(view: PspAuthorizationView): AuthorizeOutput {
  if (view.state === 'pending') {
    return view.nextAction !== undefined
      ? { pspReference: view.id, authorizedAmount: 0, nextAction: view.nextAction }
      : { pspReference: view.id, authorizedAmount: 0, pending: true };
  }
  return {
    pspReference: view.id,
    authorizedAmount: view.amount,
    ...(view.authentication !== undefined ? { authentication: view.authentication } : {}),
  };
}

/**
 * Ends the current attempt `failed` (unless a decline already did) and appends the next
 * connector's attempt, in one conditional write (timeline `payment_started` naming the failover).
 */
async function startNextAttempt(
  deps: Pick<SagaPorts, 'checkouts'>,
  checkout: Checkout,
  payment: CheckoutPayment,
  failureCode: string,
): Promise<Checkout> {
  const at = new Date().toISOString();
  const from = attemptOf(payment);
  const connector = nextConnectorOf(payment);
  if (connector === undefined) throw new AttemptTransitionError(`Checkout ${checkout.id} has no connector left to fail over to`);
  let ended = payment;
  if (from.status !== 'failed') {
    const moved = recordAttemptEvent(payment, { type: 'failed', failureCode }, at);
    if (moved.transition.kind === 'refused') throw new AttemptTransitionError(moved.transition.reason);
    ended = moved.payment;
  }
  if (!canStartAttempt(ended.attempts))
    throw new AttemptTransitionError(`Checkout ${checkout.id}: an earlier attempt still holds or awaits money`);
  const next = {
    ...newAttempt({ id: generateAttemptId(), connector, amount: checkout.amount, currency: checkout.currency, at }),
    failoverFrom: from.id,
  };
  return deps.checkouts.updatePayment(
    checkout.id,
    { ...ended, attempts: [...ended.attempts, next] },
    checkout.version,
    {
      type: 'payment_started',
      data: { connector, attempt: next.id, failover_from: from.connector, failover_reason: failureCode },
    },
    checkout,
  );
}

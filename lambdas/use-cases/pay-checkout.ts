/**
 * The buyer's two calls: pay (open -> processing, start the saga) and the pending page's status
 * poll. Pay is safe under double clicks, lost-response retries and concurrent calls: the status
 * change is one conditional write, and every caller that finds the checkout `processing` asks the
 * workflow to start the execution named after the checkout, which starts at most one.
 * It pays with a single-use PSP token or a vaulted payment method (`pm_...`, checked here against
 * the checkout before anything moves; the saga's AuthorizePayment step has the vault reveal it).
 */
import { openChallengeOf } from '../domain/payment-attempt';
import { toNextActionView } from '../domain/three-d-secure';
import { expireIfDue } from '../domain/checkout-expiry';
import { generateAttemptId } from '../domain/ids';
import { createHash } from 'node:crypto';
import type { Checkout, CheckoutStatus, FailureReason, PayRequestRecord } from '../domain/model';
import type { PaymentMethod } from '../domain/payment-method';
import { newAttempt } from '../domain/payment-attempt';
import { executionNameForTry, paymentForNextTry, tryNumberOf } from '../domain/payment-tries';
import { ConflictError, InvalidTransitionError, NotFoundError } from '../errors';
import { checkPaymentMethodForPayment } from './card-vault';
import type { CardVault } from '../ports/card-vault';
import type { CheckoutRepository } from '../ports/checkouts';
import type { MerchantRepository } from '../ports/merchants';
import type { PaymentWorkflow } from '../ports/workflow';
import { planPaymentRoute } from './payment-route';

export interface PayDependencies {
  checkouts: CheckoutRepository;
  workflow: PaymentWorkflow;
  connector: string;
  /** The vault's metadata read (no decryption): checks a `pm_` before the checkout moves. */
  paymentMethods?: Pick<CardVault, 'getPaymentMethod'>;
  /** The merchant's routing rules: a `pm_` payment's connectors (absent: `connector` only). */
  merchants?: Pick<MerchantRepository, 'getMerchant'>;
  now?: () => Date;
}

/** Exactly one of `paymentToken` and `paymentMethodId` (the API layer enforces it). */
export interface PayCheckoutInput {
  checkoutId: string;
  /** The checkout as the caller just read it strongly (authentication did): saves reading it again. */
  loaded?: Checkout;
  /**
   * The request's Idempotency-Key, as a digest of (scope, key) (payRequestMark): recorded on the
   * checkout by the write that starts the try, so a retry, a concurrent duplicate or a retry after
   * a crash before StartExecution answers the same again, with no idempotency record written.
   */
  requestMark?: string;
  paymentToken?: string;
  paymentMethodId?: string;
  /** Merchant-initiated: only with the merchant key and a payment method saved on the checkout's customer. */
  offSession?: boolean;
  /** The buyer's "save my card" choice (absent: the checkout's own save_payment_method decides). */
  savePaymentMethod?: boolean;
}

export interface CheckoutStatusView {
  id: string;
  object: 'checkout_status';
  /** `requires_action` while a 3-D Secure challenge is open (the checkout itself stays `processing`). */
  status: CheckoutStatus | 'requires_action';
  failure_reason: FailureReason | null;
  failure_message: string | null;
  /** Why the last try failed (the buyer may try another card while the checkout is open). */
  last_payment_error: { code: string; message: string } | null;
  redirect_url: string | null;
  /** The buyer's 3-D Secure step while `requires_action`, else null. */
  next_action: ReturnType<typeof toNextActionView> | null;
}

/** The first try's execution name (later tries: executionNameForTry, lambdas/domain/payment-tries.ts). */
export function executionNameFor(checkoutId: string, tryNumber = 1): string {
  return executionNameForTry(checkoutId, tryNumber);
}

/** The digest of a pay request's (scope, Idempotency-Key) that the checkout records (128 bits, base64url). */
export function payRequestMark(scope: string, idempotencyKey: string): string {
  return createHash('sha256').update(`${scope}\n${idempotencyKey}`).digest().subarray(0, 16).toString('base64url');
}

export interface PayCheckoutAnswer {
  statusCode: 200 | 202;
  body: CheckoutStatusView;
  /**
   * With `requestMark`: `recorded` when this request's write carried the mark, `replayed` when
   * the checkout already held it (the answer is the first one again, byte for byte).
   */
  idempotency?: 'recorded' | 'replayed';
}

/**
 * Starts payment of an open checkout. Returns 202 + `processing` for the first call and for
 * every duplicate while the saga runs; a terminal checkout answers 200 with its status and
 * redirect; an expired or canceled one is a 409.
 */
export async function payCheckout(deps: PayDependencies, input: PayCheckoutInput): Promise<PayCheckoutAnswer> {
  const now = deps.now?.() ?? new Date();
  let checkout = input.loaded?.id === input.checkoutId ? input.loaded : await load(deps, input.checkoutId);
  const earlier = recordedRequest(checkout, input.requestMark);
  if (earlier !== undefined) return await answerAgain(deps, checkout, earlier);
  let recorded = false;
  checkout = await expireIfDue(deps.checkouts, checkout, now);
  if (checkout.status === 'open') {
    const paymentMethod =
      input.paymentMethodId !== undefined
        ? await checkPaymentMethod(deps, checkout, input.paymentMethodId, input.offSession, now)
        : undefined;
    // A `pm_` is routed by the merchant's rules; a token pays through the default connector only.
    const plan =
      paymentMethod !== undefined && deps.merchants !== undefined
        ? await planPaymentRoute({ merchants: deps.merchants }, checkout, paymentMethod)
        : { route: [deps.connector], threeDsRequired: false };
    const route = plan.route;
    const connector = route[0] ?? deps.connector;
    // A checkout reopened after a declined try keeps its earlier attempts: this is the next try.
    const payment = paymentForNextTry(checkout.payment, {
      ...paidWith(input),
      ...(paymentMethod !== undefined ? { route } : {}),
      ...(plan.threeDsRequired ? { threeDsRequired: true as const } : {}),
      attempt: newAttempt({
        id: generateAttemptId(),
        connector,
        amount: checkout.amount,
        currency: checkout.currency,
        at: now.toISOString(),
      }),
    });
    try {
      checkout = await deps.checkouts.transitionCheckout({
        checkoutId: checkout.id,
        from: ['open'],
        to: 'processing',
        current: checkout,
        patch: { payment },
        ...(input.requestMark !== undefined
          ? { payRequest: payRequestRecord(checkout, input.requestMark, tryNumberOf(payment)) }
          : {}),
        event: {
          type: 'payment_started',
          data: {
            connector,
            ...(input.paymentMethodId !== undefined ? { payment_method: input.paymentMethodId } : {}),
            ...(input.offSession === true ? { off_session: true } : {}),
          },
        },
      });
      recorded = input.requestMark !== undefined;
    } catch (error) {
      if (!(error instanceof InvalidTransitionError)) throw error;
      checkout = await load(deps, input.checkoutId); // a concurrent pay won the write
      // A concurrent duplicate with the same key won it: answer as it does.
      const winner = recordedRequest(checkout, input.requestMark);
      if (winner !== undefined) return await answerAgain(deps, checkout, winner);
    }
  }
  if (checkout.status === 'processing') {
    await startTry(deps, checkout);
    return { statusCode: 202, body: statusView(checkout), ...(recorded ? { idempotency: 'recorded' as const } : {}) };
  }
  if (checkout.status === 'succeeded' || checkout.status === 'failed') {
    return { statusCode: 200, body: statusView(checkout) };
  }
  throw new ConflictError(`Checkout ${checkout.id} is ${checkout.status} and can no longer be paid`, {
    code: 'checkout_not_payable',
  });
}

/** Starts the try's execution; its name is the checkout's and the try's, so a repeat starts nothing new. */
async function startTry(deps: PayDependencies, checkout: Checkout): Promise<void> {
  await deps.workflow.startPayment({
    name: executionNameForTry(checkout.id, tryNumberOf(checkout.payment)),
    input: { checkoutId: checkout.id },
  });
}

function recordedRequest(checkout: Checkout, mark: string | undefined): PayRequestRecord | undefined {
  return mark === undefined ? undefined : checkout.payRequests?.find((request) => request.mark === mark);
}

/**
 * What the checkout records of a pay request that moves it to processing: the mark, the try, and
 * the parts of the 202 answer that come from the checkout as it was (a reopened checkout's last
 * error), since a later write may change them. Absent parts were null in the answer.
 */
function payRequestRecord(checkout: Checkout, mark: string, tryNumber: number): PayRequestRecord {
  return {
    mark,
    tryNumber,
    ...(checkout.failureReason !== undefined ? { failureReason: checkout.failureReason } : {}),
    ...(checkout.failureMessage !== undefined ? { failureMessage: checkout.failureMessage } : {}),
    ...(checkout.lastPaymentError !== undefined ? { lastPaymentError: checkout.lastPaymentError } : {}),
  };
}

/**
 * The answer of a pay request the checkout already records: the 202 of its write again (the try it
 * started, `processing`, no action yet, no redirect). While that try is still the checkout's
 * processing one the execution is started again first: the request (or its process) may have
 * stopped between the write and StartExecution, and the same name and input start it at most once.
 */
async function answerAgain(deps: PayDependencies, checkout: Checkout, request: PayRequestRecord): Promise<PayCheckoutAnswer> {
  if (checkout.status === 'processing' && tryNumberOf(checkout.payment) === request.tryNumber) await startTry(deps, checkout);
  const { payment: _payment, failureReason: _reason, failureMessage: _message, lastPaymentError: _error, ...rest } = checkout;
  const asAnswered: Checkout = {
    ...rest,
    status: 'processing',
    ...(request.failureReason !== undefined ? { failureReason: request.failureReason } : {}),
    ...(request.failureMessage !== undefined ? { failureMessage: request.failureMessage } : {}),
    ...(request.lastPaymentError !== undefined ? { lastPaymentError: request.lastPaymentError } : {}),
  };
  return { statusCode: 202, body: statusView(asAnswered), idempotency: 'replayed' };
}

/** What the checkout's payment records it is paid with: the token, or the payment method (and off-session). */
function paidWith(input: PayCheckoutInput): {
  paymentToken?: string;
  paymentMethodId?: string;
  offSession?: boolean;
  saveDeclined?: true;
} {
  if (input.paymentMethodId === undefined) return input.paymentToken !== undefined ? { paymentToken: input.paymentToken } : {};
  return {
    paymentMethodId: input.paymentMethodId,
    ...(input.offSession === true ? { offSession: true } : {}),
    ...(input.savePaymentMethod === false ? { saveDeclined: true as const } : {}),
  };
}

/** The `pm_` may pay this checkout (404 unknown or foreign, 422 refused), before anything moves. */
async function checkPaymentMethod(
  deps: PayDependencies,
  checkout: Checkout,
  paymentMethodId: string,
  offSession: boolean | undefined,
  now: Date,
): Promise<PaymentMethod> {
  if (deps.paymentMethods === undefined)
    throw new NotFoundError(`No payment method ${paymentMethodId}`, { param: 'payment_method' });
  return await checkPaymentMethodForPayment(
    { vault: deps.paymentMethods },
    {
      merchantId: checkout.merchantId,
      paymentMethodId,
      checkoutId: checkout.id,
      ...(checkout.customerId !== undefined ? { customerId: checkout.customerId } : {}),
      offSession: offSession === true,
      now,
    },
  );
}

/** The pending page's poll: the status, and where to send the buyer once it is terminal. */
export async function getCheckoutStatus(
  deps: Pick<PayDependencies, 'checkouts' | 'now'>,
  checkoutId: string,
  /** The checkout as authentication just read it (strongly): the poll reads nothing more. */
  loaded?: Checkout,
): Promise<CheckoutStatusView> {
  const read = loaded?.id === checkoutId ? loaded : await load(deps, checkoutId);
  const checkout = await expireIfDue(deps.checkouts, read, deps.now?.() ?? new Date());
  return statusView(checkout);
}

async function load(deps: Pick<PayDependencies, 'checkouts'>, checkoutId: string): Promise<Checkout> {
  const checkout = await deps.checkouts.getCheckout(checkoutId);
  if (!checkout) throw new NotFoundError(`No checkout ${checkoutId}`, { param: 'id' });
  return checkout;
}

/** success_url / failure_url with `checkout_id` (and `failure_reason`) added, once terminal. */
export function redirectUrlFor(checkout: Checkout): string | null {
  if (checkout.status === 'succeeded') return withParams(checkout.successUrl, { checkout_id: checkout.id });
  if (checkout.status === 'failed' || checkout.status === 'expired' || checkout.status === 'canceled') {
    return withParams(checkout.failureUrl, {
      checkout_id: checkout.id,
      failure_reason: checkout.failureReason ?? checkout.status,
    });
  }
  return null;
}

function withParams(base: string, params: Record<string, string>): string {
  const url = new URL(base);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}

export function statusView(checkout: Checkout): CheckoutStatusView {
  const open = checkout.status === 'processing' ? openChallengeOf(checkout.payment) : undefined;
  return {
    id: checkout.id,
    object: 'checkout_status',
    status: open === undefined ? checkout.status : 'requires_action',
    failure_reason: checkout.failureReason ?? null,
    failure_message: checkout.failureMessage ?? null,
    last_payment_error: checkout.lastPaymentError ?? null,
    redirect_url: redirectUrlFor(checkout),
    next_action: open === undefined ? null : toNextActionView(open),
  };
}

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
import type { Checkout, CheckoutStatus, FailureReason } from '../domain/model';
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

/**
 * Starts payment of an open checkout. Returns 202 + `processing` for the first call and for
 * every duplicate while the saga runs; a terminal checkout answers 200 with its status and
 * redirect; an expired or canceled one is a 409.
 */
export async function payCheckout(
  deps: PayDependencies,
  input: PayCheckoutInput,
): Promise<{ statusCode: 200 | 202; body: CheckoutStatusView }> {
  const now = deps.now?.() ?? new Date();
  let checkout = await load(deps, input.checkoutId);
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
    try {
      checkout = await deps.checkouts.transitionCheckout({
        checkoutId: checkout.id,
        from: ['open'],
        to: 'processing',
        patch: {
          // A checkout reopened after a declined try keeps its earlier attempts: this is the next try.
          payment: paymentForNextTry(checkout.payment, {
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
          }),
        },
        event: {
          type: 'payment_started',
          data: {
            connector,
            ...(input.paymentMethodId !== undefined ? { payment_method: input.paymentMethodId } : {}),
            ...(input.offSession === true ? { off_session: true } : {}),
          },
        },
      });
    } catch (error) {
      if (!(error instanceof InvalidTransitionError)) throw error;
      checkout = await load(deps, input.checkoutId); // a concurrent pay won the write
    }
  }
  if (checkout.status === 'processing') {
    await deps.workflow.startPayment({
      name: executionNameForTry(checkout.id, tryNumberOf(checkout.payment)),
      input: { checkoutId: checkout.id },
    });
    return { statusCode: 202, body: statusView(checkout) };
  }
  if (checkout.status === 'succeeded' || checkout.status === 'failed') {
    return { statusCode: 200, body: statusView(checkout) };
  }
  throw new ConflictError(`Checkout ${checkout.id} is ${checkout.status} and can no longer be paid`, {
    code: 'checkout_not_payable',
  });
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
): Promise<CheckoutStatusView> {
  const checkout = await expireIfDue(deps.checkouts, await load(deps, checkoutId), deps.now?.() ?? new Date());
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

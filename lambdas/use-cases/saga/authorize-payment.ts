/**
 * The saga's AuthorizePayment step: authorize the full amount with the buyer's token; a decline
 * is thrown, not returned. A PSP that answers "pending" moves the attempt to
 * `authorization_pending` and throws AuthorizationPendingError (an open 3-D Secure challenge:
 * AuthenticationActionRequiredError), each after recording what the wait needs; the ASL's Catch
 * routes them to the wait states, so the success path has no Choice state. Once the callback resumed the
 * wait, this step runs again and learns the result from the PSP's status (GET authorization),
 * never by authorizing a second time. The authorization becomes the checkout's financial
 * instrument (held by the saga until it captured or voided).
 */
import type { Checkout, CheckoutPayment } from '../../domain/model';
import {
  authorizationOf,
  connectorOf,
  openChallengeOf,
  pendingAuthorizationOf,
  recordAttemptEvent,
} from '../../domain/payment-attempt';
import { gatewayFor, instrumentPorts } from '../connector-gateways';
import {
  AttemptTransitionError,
  AuthenticationActionRequiredError,
  AuthorizationPendingError,
  CheckoutNotProcessingError,
  PspRejectedError,
  PspTimeoutError,
} from '../../errors';
import type { AuthorizeOutput, PspAuthorizationView } from '../../ports/payments';
import { openCheckoutInstrument } from '../financial-instruments';
import { paymentSourceFor, settlePaymentSource, type PaymentSourceDependencies } from '../payment-source';
import { asAuthenticationError, declineFromPsp, isRecordedDecline, threeDSecureRequest } from '../three-d-secure';
import { isSoftDecline } from '../../domain/routing';
import { attemptScopedKey, authorizeWithFailover } from './failover';
import { assertNotRecovered, loadCheckout, recordAttempt, requirePayment, type SagaPorts, type StepInput } from './shared';

/** `vault` (lambdas/use-cases/payment-source.ts) only in this step's function: it reveals a `pm_`'s card. */
export type AuthorizePaymentPorts = Pick<
  SagaPorts,
  'checkouts' | 'merchants' | 'gateway' | 'gateways' | 'instruments' | 'challengeReturnUrl'
> &
  PaymentSourceDependencies;

export interface AuthorizePaymentOutput {
  pspReference: string;
  authorizedAmount: number;
  inventoryConfirmationRequired: boolean;
}

export async function authorizePayment(deps: AuthorizePaymentPorts, { checkoutId }: StepInput): Promise<AuthorizePaymentOutput> {
  let checkout = await loadCheckout(deps, checkoutId);
  let payment = requirePayment(checkout);
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
    throw new CheckoutNotProcessingError(`Checkout ${checkoutId} is ${checkout.status}, not processing: nothing to authorize`);
  }
  const merchant = await deps.merchants.getMerchant(checkout.merchantId);
  const confirmationRequired = Boolean(
    merchant?.settings.inventoryConfirmationEnabled && merchant.settings.inventoryConfirmationUrl,
  );
  // Failover to the route's next connector (lambdas/use-cases/saga/failover.ts); the last attempt's checkout and payment.
  const tried = await authorizeWithFailover(deps, checkout, merchant, (current, currentPayment, options) =>
    askPspToAuthorize(deps, current, currentPayment, options),
  );
  ({ checkout, payment } = tried);
  const authorization = tried.authorization;
  if (authorization.nextAction !== undefined) {
    const event = {
      type: 'action_required' as const,
      pspReference: authorization.pspReference,
      nextAction: authorization.nextAction,
    };
    await recordAttempt(deps, checkout, payment, event, {
      type: 'requires_action',
      data: { psp_reference: authorization.pspReference, next_action: authorization.nextAction.type },
    });
    throw new AuthenticationActionRequiredError(
      `Checkout ${checkoutId}: 3-D Secure challenge open (${authorization.nextAction.type}) for ${authorization.pspReference}`,
    );
  }
  if (authorization.pending === true) {
    await recordAttempt(
      deps,
      checkout,
      payment,
      { type: 'authorization_pending', pspReference: authorization.pspReference },
      { type: 'authorization_pending', data: { psp_reference: authorization.pspReference } },
    );
    throw new AuthorizationPendingError(
      `Checkout ${checkoutId}: the PSP answered pending for ${authorization.pspReference}; its result comes by callback`,
    );
  }
  const authorized = recordAttemptEvent(
    payment,
    {
      type: 'authorized',
      pspReference: authorization.pspReference,
      amount: authorization.authorizedAmount,
      ...(authorization.authentication !== undefined ? { authentication: authorization.authentication } : {}),
    },
    new Date().toISOString(),
  );
  if (authorized.transition.kind === 'refused') throw new AttemptTransitionError(authorized.transition.reason);
  const instrument = await openCheckoutInstrument(instrumentPorts(deps), {
    checkoutId,
    merchantId: checkout.merchantId,
    pspReference: authorization.pspReference,
    authorizedAmount: authorization.authorizedAmount,
    currency: checkout.currency,
    connector: connectorOf(payment),
  });
  await deps.checkouts.updatePayment(
    checkoutId,
    {
      ...authorized.payment,
      inventoryConfirmation: confirmationRequired ? 'pending' : 'not_required',
      instrumentId: instrument.id,
    },
    checkout.version,
    { type: 'authorized', data: { psp_reference: authorization.pspReference, amount: authorization.authorizedAmount } },
    checkout,
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
async function askPspToAuthorize(
  deps: Pick<SagaPorts, 'checkouts' | 'gateway' | 'gateways' | 'challengeReturnUrl'> & PaymentSourceDependencies,
  checkout: Checkout,
  payment: CheckoutPayment,
  { mayFailOver }: { mayFailOver: boolean } = { mayFailOver: false },
): Promise<AuthorizeOutput> {
  const pendingReference = pendingAuthorizationOf(payment);
  const gateway = gatewayFor(deps, connectorOf(payment), checkout.merchantId);
  try {
    if (pendingReference !== undefined) return pendingResult(checkout, await gateway.getAuthorization(pendingReference));
    const source = await paymentSourceFor(deps, checkout, payment);
    const answer = await gateway.authorize({
      reference: checkout.id,
      source,
      amount: checkout.amount,
      currency: checkout.currency,
      idempotencyKey: attemptScopedKey(checkout.id, payment, 'authorize'),
      threeDSecure: threeDSecureRequest(deps, checkout, {
        offSession: source.cardOnFile?.initiator === 'merchant',
        required: payment.threeDsRequired === true, // a routing rule's "three_ds":"required"
      }),
    });
    await settlePaymentSource(deps, checkout, payment, answer);
    return answer;
  } catch (caught) {
    const error = asAuthenticationError(caught);
    if (isRecordedDecline(error)) {
      // A soft decline that fails over keeps the CVC for the next connector (lambdas/use-cases/saga/failover.ts).
      if (!(mayFailOver && isSoftDecline(error.message))) await settlePaymentSource(deps, checkout, payment);
      await deps.checkouts.appendEvent(
        {
          checkoutId: checkout.id,
          type: 'authorization_declined',
          at: new Date().toISOString(),
          data: { decline_code: error.message },
        },
        attemptScopedKey(checkout.id, payment, 'authorization_declined'),
      );
      await recordAttempt(deps, checkout, payment, { type: 'declined', failureCode: error.message });
    }
    if (error instanceof PspTimeoutError && pendingReference === undefined)
      await recordAttempt(deps, checkout, payment, { type: 'outcome_unknown' });
    throw error;
  }
}

/**
 * The final result of a pending authorization, from the PSP's own status: still pending (wait
 * again), authorized, declined (PaymentDeclinedError) or ended otherwise at the PSP (PspRejectedError).
 */
function pendingResult(checkout: Checkout, view: PspAuthorizationView): AuthorizeOutput {
  if (view.reference !== checkout.id)
    throw new PspRejectedError(`Authorization ${view.id} belongs to ${view.reference}, not ${checkout.id}`);
  const challenge = openChallengeOf(checkout.payment);
  switch (view.state) {
    case 'pending':
      if (challenge !== undefined) return { pspReference: view.id, authorizedAmount: 0, nextAction: challenge };
      return { pspReference: view.id, authorizedAmount: 0, pending: true };
    case 'authorized':
      return {
        pspReference: view.id,
        authorizedAmount: view.amount,
        ...(view.authentication !== undefined ? { authentication: view.authentication } : {}),
      };
    case 'declined':
      throw declineFromPsp(view.failureCode);
    default:
      throw new PspRejectedError(`The pending authorization ${view.id} ended ${view.pspStatus}`);
  }
}

/**
 * Paying a checkout: POST /v1/checkouts/{id}/pay (open -> processing, start the saga; duplicates
 * get the same answer and start nothing new) and GET /v1/checkouts/{id}/status (the pending
 * page's poll). The buyer's browser pays with the checkout's client secret, with a PSP token or a
 * vaulted `pm_`; the merchant pays with its secret key, also off-session (merchant-initiated) with
 * a payment method saved on the checkout's customer.
 */
import { DEFAULT_CONNECTOR_ID } from '../connectors/connector-ids';
import { createSfnPaymentWorkflowFromEnv } from '../adapters/sfn-payment-workflow';
import type { Checkout } from '../domain/model';
import { ForbiddenError, ValidationError } from '../errors';
import { apiDependencies } from '../shared/api-wiring';
import { assertOwnedBy, requireClientCheckout, type Principal } from '../shared/auth';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { parseInput } from '../shared/validation';
import { payCheckoutInputSchema } from '../shared/request-schemas';
import { checkoutRepository } from '../shared/checkout-wiring';
import { merchantRepository } from '../shared/wiring';
import { getCheckoutStatus, payCheckout, payRequestMark, type PayDependencies } from '../use-cases/pay-checkout';
// The vault's module loads on the first payment with a `pm_` (a chunk of its own): a payment with a
// PSP token never reads a payment method, so its cold start does not load the vault.
import { cardVault } from '../shared/card-vault-lazy';
const payDependencies: PayDependencies = {
  checkouts: checkoutRepository,
  workflow: createSfnPaymentWorkflowFromEnv(),
  connector: DEFAULT_CONNECTOR_ID,
  paymentMethods: cardVault,
  merchants: merchantRepository,
};

/** The checkout the caller may pay: the client secret's own, or the merchant's (another merchant's is 404). */
async function payableCheckout(principal: Principal, checkoutId: string | undefined): Promise<Checkout> {
  if (principal.kind === 'merchant')
    return assertOwnedBy(await checkoutRepository.getCheckout(checkoutId ?? ''), principal.merchant);
  return requireClientCheckout(principal);
}

async function pay(request: ApiRequest): Promise<ApiResult> {
  const input = parseInput(payCheckoutInputSchema(), request.body);
  if ((input.payment_token === undefined) === (input.payment_method === undefined)) {
    throw new ValidationError('Send exactly one of payment_token and payment_method', {
      code: 'parameter_missing',
      param: input.payment_token === undefined ? 'payment_method' : 'payment_token',
    });
  }
  if (input.off_session === true) {
    if (request.principal.kind !== 'merchant')
      throw new ForbiddenError('An off-session payment needs your secret key; a client secret pays on-session only', {
        code: 'off_session_not_allowed',
        param: 'off_session',
      });
    if (input.payment_method === undefined)
      throw new ValidationError('An off-session payment needs a saved payment_method', {
        status: 422,
        code: 'parameter_missing',
        param: 'payment_method',
      });
  }
  const checkout = await payableCheckout(request.principal, request.pathParameters['id']);
  const answer = await payCheckout(payDependencies, {
    checkoutId: checkout.id,
    // Authentication (or the merchant's ownership check) read it strongly a moment ago.
    loaded: checkout,
    ...(request.idempotencyKey !== undefined
      ? { requestMark: payRequestMark(request.idempotencyKey.scope, request.idempotencyKey.key) }
      : {}),
    ...(input.payment_token !== undefined ? { paymentToken: input.payment_token } : {}),
    ...(input.payment_method !== undefined ? { paymentMethodId: input.payment_method } : {}),
    ...(input.off_session === true ? { offSession: true } : {}),
    ...(input.save_payment_method !== undefined ? { savePaymentMethod: input.save_payment_method } : {}),
  });
  return {
    statusCode: answer.statusCode,
    body: answer.body,
    ...(answer.idempotency !== undefined ? { idempotency: answer.idempotency } : {}),
  };
}

async function status(request: ApiRequest): Promise<ApiResult> {
  const checkout = requireClientCheckout(request.principal);
  return { statusCode: 200, body: await getCheckoutStatus(payDependencies, checkout.id, checkout) };
}

export const handler = createApiHandler(
  {
    // The checkout's own write records the Idempotency-Key: no idempotency record on the way.
    'POST /v1/checkouts/{id}/pay': { auth: ['client', 'merchant'], handle: pay, recordsIdempotencyOnResource: true },
    'GET /v1/checkouts/{id}/status': { auth: ['client'], handle: status },
  },
  apiDependencies,
);

/**
 * The buyer's browser endpoints, authenticated with the checkout's client secret:
 * POST /v1/checkouts/{id}/pay (open -> processing, start the saga; duplicates get the same
 * answer and start nothing new) and GET /v1/checkouts/{id}/status (the pending page's poll).
 */
import { DEFAULT_CONNECTOR_ID } from '../connectors/registry';
import { createSfnPaymentWorkflowFromEnv } from '../adapters/sfn-payment-workflow';
import { apiDependencies } from '../shared/api-wiring';
import { requireClientCheckout } from '../shared/auth';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { parseInput } from '../shared/validation';
import { payCheckoutInputSchema } from '../shared/request-schemas';
import { checkoutRepository } from '../shared/wiring';
import { getCheckoutStatus, payCheckout, type PayDependencies } from '../use-cases/pay-checkout';

const payDependencies: PayDependencies = {
  checkouts: checkoutRepository,
  workflow: createSfnPaymentWorkflowFromEnv(),
  connector: DEFAULT_CONNECTOR_ID,
};

async function pay(request: ApiRequest): Promise<ApiResult> {
  const checkout = requireClientCheckout(request.principal);
  const input = parseInput(payCheckoutInputSchema, request.body);
  const answer = await payCheckout(payDependencies, { checkoutId: checkout.id, paymentToken: input.payment_token });
  return { statusCode: answer.statusCode, body: answer.body };
}

async function status(request: ApiRequest): Promise<ApiResult> {
  const checkout = requireClientCheckout(request.principal);
  return { statusCode: 200, body: await getCheckoutStatus(payDependencies, checkout.id) };
}

export const handler = createApiHandler(
  {
    'POST /v1/checkouts/{id}/pay': { auth: ['client'], handle: pay },
    'GET /v1/checkouts/{id}/status': { auth: ['client'], handle: status },
  },
  apiDependencies,
);

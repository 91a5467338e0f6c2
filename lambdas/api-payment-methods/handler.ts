/**
 * The vault function: every route that reads or destroys vaulted cards, and the only API function
 * bound to the card vault (its table, GenerateDataKey on the vault key, GenerateMac on the
 * fingerprint key; no kms:Decrypt: nothing here ever reads a card back).
 * - POST /v1/payment_methods (merchant key, or the checkout's `cs_` client secret with
 *   `"checkout":"chk_..."` in the body): checks and vaults a card -> 201 `pm_...`.
 * - GET /v1/payment_methods/{id}, POST /v1/payment_methods/{id}/detach (merchant).
 * - GET /v1/customers/{id}/payment_methods, DELETE /v1/customers/{id} (merchant; the delete
 *   crypto-shreds the customer's saved cards).
 * Unknown or another merchant's ids are 404. Card numbers are never logged or answered.
 */
import { CUSTOMER_ID_PATTERN } from '../domain/customer';
import { PAYMENT_METHOD_ID_PATTERN } from '../domain/payment-method';
import { ConflictError, NotFoundError } from '../errors';
import { apiDependencies } from '../shared/api-wiring';
import { assertOwnedBy, type Principal } from '../shared/auth';
import { requireMerchant } from '../shared/auth';
import { cardVault, savedPaymentMethods } from '../shared/card-vault-wiring';
import { customerRepository } from '../shared/customer-wiring';
import { toCustomerView, toPaymentMethodView } from '../shared/customer-views';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { CHECKOUT_ID_PATTERN, createPaymentMethodInputSchema, detachPaymentMethodInputSchema } from '../shared/request-schemas';
import { parseInput } from '../shared/validation';
import { toListView } from '../shared/views';
import { checkoutRepository } from '../shared/checkout-wiring';
import { deleteCustomer, tokenizeCard } from '../use-cases/card-vault';

/** The checkout a client secret pays, or the merchant's own checkout it names; undefined for none. */
async function checkoutFor(
  principal: Principal,
  named: string | undefined,
): Promise<{ merchantId: string; checkoutId?: string }> {
  if (principal.kind === 'client') {
    const checkout = principal.checkout;
    if (checkout.status !== 'open') {
      throw new ConflictError(`The checkout is ${checkout.status}; cards can only be added while it is open`, {
        code: 'checkout_not_open',
      });
    }
    return { merchantId: checkout.merchantId, checkoutId: checkout.id };
  }
  const merchant = requireMerchant(principal);
  if (named === undefined) return { merchantId: merchant.id };
  const checkout = assertOwnedBy(
    CHECKOUT_ID_PATTERN.test(named) ? await checkoutRepository.getCheckout(named) : undefined,
    merchant,
  );
  return { merchantId: merchant.id, checkoutId: checkout.id };
}

async function createPaymentMethod(request: ApiRequest): Promise<ApiResult> {
  const input = parseInput(createPaymentMethodInputSchema(), request.body);
  const owner = await checkoutFor(request.principal, input.checkout);
  const paymentMethod = await tokenizeCard(
    { vault: cardVault },
    {
      merchantId: owner.merchantId,
      ...(owner.checkoutId !== undefined ? { checkoutId: owner.checkoutId } : {}),
      card: {
        number: input.card.number,
        expMonth: input.card.exp_month,
        expYear: input.card.exp_year,
        ...(input.card.cvc !== undefined ? { cvc: input.card.cvc } : {}),
      },
      now: request.now,
    },
  );
  return { statusCode: 201, body: toPaymentMethodView(paymentMethod) };
}

function paymentMethodIdOf(request: ApiRequest): string {
  const id = request.pathParameters['id'] ?? '';
  if (!PAYMENT_METHOD_ID_PATTERN.test(id)) throw new NotFoundError(`No payment method ${id.slice(0, 80)}`, { param: 'id' });
  return id;
}

function customerIdOf(request: ApiRequest): string {
  const id = request.pathParameters['id'] ?? '';
  if (!CUSTOMER_ID_PATTERN.test(id)) throw new NotFoundError(`No customer ${id.slice(0, 80)}`, { param: 'id' });
  return id;
}

async function getPaymentMethod(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const id = paymentMethodIdOf(request);
  const paymentMethod = await cardVault.getPaymentMethod(merchant.id, id);
  if (paymentMethod === undefined) throw new NotFoundError(`No payment method ${id}`, { param: 'id' });
  return { statusCode: 200, body: toPaymentMethodView(paymentMethod) };
}

async function detachPaymentMethod(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  parseInput(detachPaymentMethodInputSchema(), request.body);
  const paymentMethod = await savedPaymentMethods.detachPaymentMethod(merchant.id, paymentMethodIdOf(request), request.now);
  return { statusCode: 200, body: toPaymentMethodView(paymentMethod) };
}

async function listCustomerPaymentMethods(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const id = customerIdOf(request);
  const customer = await customerRepository.getCustomer(merchant.id, id);
  if (customer === undefined) throw new NotFoundError(`No customer ${id}`, { param: 'id' });
  const paymentMethods =
    customer.status === 'active' ? await savedPaymentMethods.listCustomerPaymentMethods(merchant.id, id) : [];
  return { statusCode: 200, body: toListView(paymentMethods.map(toPaymentMethodView), undefined) };
}

async function removeCustomer(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const { customer } = await deleteCustomer(
    { customers: customerRepository, savedPaymentMethods },
    { merchantId: merchant.id, customerId: customerIdOf(request), now: request.now },
  );
  return { statusCode: 200, body: toCustomerView(customer) };
}

export const handler = createApiHandler(
  {
    'POST /v1/payment_methods': {
      auth: ['merchant', 'client'],
      handle: createPaymentMethod,
      clientCheckoutFromBody: (body) =>
        typeof body['checkout'] === 'string' && CHECKOUT_ID_PATTERN.test(body['checkout']) ? body['checkout'] : undefined,
    },
    'GET /v1/payment_methods/{id}': { auth: ['merchant'], handle: getPaymentMethod },
    'POST /v1/payment_methods/{id}/detach': { auth: ['merchant'], handle: detachPaymentMethod },
    'GET /v1/customers/{id}/payment_methods': { auth: ['merchant'], handle: listCustomerPaymentMethods },
    'DELETE /v1/customers/{id}': { auth: ['merchant'], handle: removeCustomer },
  },
  apiDependencies,
);

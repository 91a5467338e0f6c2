/**
 * A merchant's customers: POST /v1/customers (`cus_...`) and GET /v1/customers/{id}. Another
 * merchant's customer is 404. The routes that touch saved cards (list, DELETE with its
 * crypto-shredding) are served by the vault function, lambdas/api-payment-methods, because only it
 * may read the vault table.
 */
import { CUSTOMER_ID_PATTERN, type Customer } from '../domain/customer';
import { generateCustomerId } from '../domain/ids';
import { NotFoundError } from '../errors';
import { apiDependencies } from '../shared/api-wiring';
import { requireMerchant } from '../shared/auth';
import { customerRepository } from '../shared/customer-wiring';
import { toCustomerView } from '../shared/customer-views';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { createCustomerInputSchema } from '../shared/request-schemas';
import { parseInput } from '../shared/validation';

async function createCustomer(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const input = parseInput(createCustomerInputSchema(), request.body);
  const customer: Customer = {
    id: generateCustomerId(),
    merchantId: merchant.id,
    ...(input.email !== undefined ? { email: input.email } : {}),
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
    status: 'active',
    createdAt: request.now.toISOString(),
  };
  await customerRepository.createCustomer(customer);
  return { statusCode: 201, body: toCustomerView(customer) };
}

async function getCustomer(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const id = request.pathParameters['id'] ?? '';
  const customer = CUSTOMER_ID_PATTERN.test(id) ? await customerRepository.getCustomer(merchant.id, id) : undefined;
  if (customer === undefined) throw new NotFoundError(`No customer ${id.slice(0, 80)}`, { param: 'id' });
  return { statusCode: 200, body: toCustomerView(customer) };
}

export const handler = createApiHandler(
  {
    'POST /v1/customers': { auth: ['merchant'], handle: createCustomer },
    'GET /v1/customers/{id}': { auth: ['merchant'], handle: getCustomer },
  },
  apiDependencies,
);

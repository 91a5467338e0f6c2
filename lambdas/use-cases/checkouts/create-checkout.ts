/**
 * Create a checkout (POST /v1/checkouts).
 *
 * Primary course:
 * 1. Resolve the return URLs (explicit, else the merchant's defaults; neither is a 422).
 * 2. Build the open checkout with a fresh client secret, of which only the hash is kept.
 * 3. Store it and claim its merchant_order_ref in one transaction (DuplicateOrderRefError if taken),
 *    with the request's completed Idempotency-Key record when the caller gives one (one write).
 * 4. Return the checkout and the client secret (shown in this answer only).
 */
import { NotFoundError, ValidationError } from '../../errors';
import { generateCheckoutId, generateClientSecret, sha256Hex } from '../../domain/ids';
import type { Checkout, CheckoutItem, Merchant } from '../../domain/model';
import type { CheckoutRepository } from '../../ports/checkouts';
import type { CustomerRepository } from '../../ports/customers';
import type { TransactionCompanion } from '../../ports/idempotency';
import { CHECKOUT_EXPIRY, type CreateCheckoutInput } from '../../shared/validation';

export interface CreateCheckoutDependencies {
  checkouts: CheckoutRepository;
  /** Checks `customer: "cus_..."` (the merchant's, active); without it a cus_ id is refused. */
  customers?: Pick<CustomerRepository, 'getCustomer'>;
}

export interface CreatedCheckout {
  checkout: Checkout;
  clientSecret: string;
}

export async function createCheckout(
  deps: CreateCheckoutDependencies,
  input: {
    merchant: Merchant;
    request: CreateCheckoutInput;
    now: Date;
    /** Another write to land in the create's own transaction, built from the new checkout (the Idempotency-Key record of its answer). */
    companion?: (created: CreatedCheckout) => Promise<TransactionCompanion>;
  },
): Promise<CreatedCheckout> {
  if (typeof input.request.customer === 'string') await assertActiveCustomer(deps, input.merchant.id, input.request.customer);
  const clientSecret = generateClientSecret();
  const checkout = toCheckoutRecord(input.request, input.merchant, clientSecret, input.now);
  const companion = await input.companion?.({ checkout, clientSecret });
  await deps.checkouts.createCheckout(checkout, companion !== undefined ? { companion } : undefined);
  return { checkout, clientSecret };
}

/** Unknown, another merchant's or deleted: 404 with `param: customer`. */
async function assertActiveCustomer(deps: CreateCheckoutDependencies, merchantId: string, customerId: string): Promise<void> {
  const customer = await deps.customers?.getCustomer(merchantId, customerId);
  if (customer === undefined || customer.status !== 'active') {
    throw new NotFoundError(`No customer ${customerId}`, { param: 'customer' });
  }
}

/** Explicit return URLs win; otherwise the merchant's defaults; neither is a 422. */
function resolveReturnUrl(
  explicit: string | undefined,
  fallback: string | undefined,
  param: 'success_url' | 'failure_url',
): string {
  const url = explicit ?? fallback;
  if (url === undefined) {
    throw new ValidationError(`${param} is required (or set default_${param} in /v1/settings)`, {
      param,
      code: 'parameter_missing',
      status: 422,
    });
  }
  return url;
}

function toCheckoutRecord(input: CreateCheckoutInput, merchant: Merchant, clientSecret: string, now: Date): Checkout {
  const createdAt = now.toISOString();
  const expiresIn = input.expires_in_seconds ?? CHECKOUT_EXPIRY.defaultSeconds;
  const items: CheckoutItem[] = input.items.map((item) => ({
    sku: item.sku,
    quantity: item.quantity,
    ...(item.name !== undefined ? { name: item.name } : {}),
    ...(item.unit_amount !== undefined ? { unitAmount: item.unit_amount } : {}),
  }));
  return {
    id: generateCheckoutId(),
    merchantId: merchant.id,
    merchantOrderRef: input.merchant_order_ref,
    amount: input.amount,
    currency: input.currency,
    items,
    ...(typeof input.customer === 'object' ? { customer: { ...input.customer } } : {}),
    ...(typeof input.customer === 'string' ? { customerId: input.customer } : {}),
    ...(input.save_payment_method === true ? { savePaymentMethod: true } : {}),
    successUrl: resolveReturnUrl(input.success_url, merchant.settings.defaultSuccessUrl, 'success_url'),
    failureUrl: resolveReturnUrl(input.failure_url, merchant.settings.defaultFailureUrl, 'failure_url'),
    status: 'open',
    clientSecretHash: sha256Hex(clientSecret),
    createdAt,
    updatedAt: createdAt,
    expiresAt: new Date(now.getTime() + expiresIn * 1000).toISOString(),
    ...(input.capture_method === 'manual' ? { captureMethod: 'manual' as const } : {}),
    ...(input.max_payment_attempts !== undefined ? { maxPaymentAttempts: input.max_payment_attempts } : {}),
    ...(input.metadata !== undefined && Object.keys(input.metadata).length > 0 ? { metadata: { ...input.metadata } } : {}),
    version: 1,
  };
}

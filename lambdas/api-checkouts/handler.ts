/**
 * The merchant's checkout API: create (POST /v1/checkouts), read (GET /v1/checkouts/{id}, also
 * the buyer's public view with the client secret), look up by merchant_order_ref or list
 * (GET /v1/checkouts), and cancel while open (POST /v1/checkouts/{id}/cancel). Open checkouts
 * past `expires_at` are expired lazily by a conditional write whenever they are read or acted on.
 */
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from '../errors';
import { paymentWithInstrumentBalances } from '../domain/authorization-hold';
import { expireIfDue } from '../domain/checkout-expiry';
import { generateCheckoutId, generateClientSecret, sha256Hex } from '../domain/ids';
import type { Checkout, CheckoutItem, Merchant } from '../domain/model';
import { apiConfig, apiDependencies } from '../shared/api-wiring';
import { assertOwnedBy, requireMerchant } from '../shared/auth';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import {
  CHECKOUT_EXPIRY,
  createCheckoutInputSchema,
  listCheckoutsQuerySchema,
  parseInput,
  type CreateCheckoutInput,
} from '../shared/validation';
import { toCheckoutView, toListView, toPublicCheckoutView } from '../shared/views';
import { checkoutQueries, checkoutRepository, instrumentRepository, merchantRepository } from '../shared/wiring';

const createCheckoutSchema = createCheckoutInputSchema({ allowHttpUrls: apiConfig.allowHttpMerchantUrls });
const DEFAULT_LIST_LIMIT = 10;

/** The merchant's full view with the timeline, after lazy expiry. */
async function fullView(checkout: Checkout, now: Date) {
  const current = await withHeldBalances(await expireIfDue(checkoutRepository, checkout, now));
  const events = await checkoutRepository.listEvents(current.id);
  return toCheckoutView(current, { checkoutBaseUrl: apiConfig.publicCheckoutBaseUrl, events });
}

/**
 * A manual-capture checkout after the hand-over: the merchant captures and revokes on the
 * instrument, so its balances are the payment's truth (captured, capturable, voided). Lists show
 * the saga's record (one read per checkout would be too costly there).
 */
async function withHeldBalances(checkout: Checkout): Promise<Checkout> {
  const payment = checkout.payment;
  if (checkout.captureMethod !== 'manual' || payment?.authorizationExpiresAt === undefined || payment.instrumentId === undefined)
    return checkout;
  const instrument = await instrumentRepository.getInstrument(payment.instrumentId);
  return instrument === undefined ? checkout : { ...checkout, payment: paymentWithInstrumentBalances(payment, instrument) };
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
    ...(input.customer !== undefined ? { customer: { ...input.customer } } : {}),
    successUrl: resolveReturnUrl(input.success_url, merchant.settings.defaultSuccessUrl, 'success_url'),
    failureUrl: resolveReturnUrl(input.failure_url, merchant.settings.defaultFailureUrl, 'failure_url'),
    status: 'open',
    clientSecretHash: sha256Hex(clientSecret),
    createdAt,
    updatedAt: createdAt,
    expiresAt: new Date(now.getTime() + expiresIn * 1000).toISOString(),
    ...(input.capture_method === 'manual' ? { captureMethod: 'manual' as const } : {}),
    ...(input.metadata !== undefined && Object.keys(input.metadata).length > 0 ? { metadata: { ...input.metadata } } : {}),
    version: 1,
  };
}

/** POST /v1/checkouts: the client secret is in this response only (we keep its hash). */
async function createCheckout(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const input = parseInput(createCheckoutSchema, request.body);
  const clientSecret = generateClientSecret();
  const checkout = toCheckoutRecord(input, merchant, clientSecret, request.now);
  await checkoutRepository.createCheckout(checkout);
  const body = toCheckoutView(checkout, {
    checkoutBaseUrl: apiConfig.publicCheckoutBaseUrl,
    clientSecret,
    events: [{ checkoutId: checkout.id, type: 'created', at: checkout.createdAt }],
  });
  return { statusCode: 201, body };
}

/** GET /v1/checkouts/{id}: full view for the owning merchant, public view for the browser. */
async function getCheckout(request: ApiRequest): Promise<ApiResult> {
  const { principal } = request;
  if (principal.kind === 'client') {
    const checkout = await expireIfDue(checkoutRepository, principal.checkout, request.now);
    const merchant = await merchantRepository.getMerchant(checkout.merchantId);
    return { statusCode: 200, body: toPublicCheckoutView(checkout, merchant?.name ?? '') };
  }
  const merchant = requireMerchant(principal);
  const checkout = assertOwnedBy(await checkoutRepository.getCheckout(request.pathParameters['id'] ?? ''), merchant);
  return { statusCode: 200, body: await fullView(checkout, request.now) };
}

/** GET /v1/checkouts: one checkout by merchant_order_ref, or the newest checkouts (paged). */
async function listCheckouts(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const query = parseInput(listCheckoutsQuerySchema, request.query);
  if (query.merchant_order_ref !== undefined) {
    const checkout = await checkoutRepository.findCheckoutByOrderRef(merchant.id, query.merchant_order_ref);
    if (checkout === undefined)
      throw new NotFoundError('No checkout with this merchant_order_ref', { param: 'merchant_order_ref' });
    return { statusCode: 200, body: await fullView(checkout, request.now) };
  }
  const page = await checkoutQueries.listCheckoutsByMerchant(merchant.id, {
    limit: query.limit ?? DEFAULT_LIST_LIMIT,
    ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
  });
  const data = [];
  for (const checkout of page.checkouts) {
    const current = await expireIfDue(checkoutRepository, checkout, request.now);
    data.push(toCheckoutView(current, { checkoutBaseUrl: apiConfig.publicCheckoutBaseUrl }));
  }
  return { statusCode: 200, body: toListView(data, page.nextCursor) };
}

/** POST /v1/checkouts/{id}/cancel: only while open; a conditional write plus a timeline row. */
async function cancelCheckout(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const stored = assertOwnedBy(await checkoutRepository.getCheckout(request.pathParameters['id'] ?? ''), merchant);
  const checkout = await expireIfDue(checkoutRepository, stored, request.now);
  const notOpen = (status: string): ConflictError =>
    new ConflictError(`Only an open checkout can be canceled; this one is ${status}`, { code: 'checkout_not_open' });
  if (checkout.status !== 'open') throw notOpen(checkout.status);
  let canceled: Checkout;
  try {
    canceled = await checkoutRepository.transitionCheckout({
      checkoutId: checkout.id,
      from: ['open'],
      to: 'canceled',
      event: { type: 'canceled', at: request.now.toISOString() },
    });
  } catch (error) {
    if (error instanceof InvalidTransitionError) {
      const fresh = await checkoutRepository.getCheckout(checkout.id);
      throw notOpen(fresh?.status ?? 'gone');
    }
    throw error;
  }
  return { statusCode: 200, body: await fullView(canceled, request.now) };
}

export const handler = createApiHandler(
  {
    'POST /v1/checkouts': { auth: ['merchant'], handle: createCheckout },
    'GET /v1/checkouts': { auth: ['merchant'], handle: listCheckouts },
    'GET /v1/checkouts/{id}': { auth: ['merchant', 'client'], handle: getCheckout },
    'POST /v1/checkouts/{id}/cancel': { auth: ['merchant'], handle: cancelCheckout },
  },
  apiDependencies,
);

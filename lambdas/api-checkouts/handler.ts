/**
 * The merchant's checkout API: create (POST /v1/checkouts), read (GET /v1/checkouts/{id}, also
 * the buyer's public view with the client secret), look up by merchant_order_ref or list
 * (GET /v1/checkouts), and cancel while open (POST /v1/checkouts/{id}/cancel). Open checkouts
 * past `expires_at` are expired lazily by a conditional write whenever they are read or acted on.
 * Each route parses, calls its use case (lambdas/use-cases/checkouts/) and shapes the answer.
 */
import { apiConfig, apiDependencies } from '../shared/api-wiring';
import { requireMerchant } from '../shared/auth';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { builtOnFirstUse, createCheckoutInputSchema, listCheckoutsQuerySchema, parseInput } from '../shared/validation';
import { toCheckoutView, toListView, toPublicCheckoutView } from '../shared/views';
import { customerRepository } from '../shared/customer-wiring';
import { checkoutRepository } from '../shared/checkout-wiring';
import { DynamoCheckoutListing } from '../adapters/dynamo-checkout-listing';
import { documentClient, merchantRepository, storeConfig } from '../shared/wiring';
import { cancelCheckout } from '../use-cases/checkouts/cancel-checkout';
import type { CheckoutDetails } from '../use-cases/checkouts/checkout-details';
import { createCheckout, type CreatedCheckout } from '../use-cases/checkouts/create-checkout';
import { getCheckout } from '../use-cases/checkouts/get-checkout';
import { listCheckouts } from '../use-cases/checkouts/list-checkouts';
import { checkoutWebhookRows } from '../domain/webhook-result-events';
import type { Checkout } from '../domain/model';
import type { EventStore } from '../ports/events';
import type { InstrumentRepository } from '../ports/instruments';
import { importOnce } from '../shared/import-once';

const createCheckoutSchema = builtOnFirstUse(() => createCheckoutInputSchema({ allowHttpUrls: apiConfig.allowHttpMerchantUrls }));
/**
 * Read only: the checkout's result events, for the webhook rows of the merchant's timeline (GET of
 * one checkout by its merchant). The event store is imported on that first read, as a chunk of its
 * own: the create and the buyer's reads (the payment's path) never need it.
 */
const loadResultEvents = importOnce(
  async (): Promise<EventStore> =>
    new (await import('../adapters/dynamo-event-store')).DynamoEventStore(documentClient, storeConfig.tableName),
);
/**
 * Read only, too: the instrument of a paid checkout, for the ledger in the merchant's views (GET,
 * list, cancel). The repository is imported on that first read, as a chunk of its own: the create
 * never reads an instrument (issue 14: bundle bytes read at a cold start).
 */
const loadInstruments = importOnce(async () => (await import('../shared/instrument-wiring')).instrumentRepository);
const instruments: Pick<InstrumentRepository, 'getInstrument'> = {
  getInstrument: async (id) => (await loadInstruments()).getInstrument(id),
};
const deps = {
  checkouts: checkoutRepository,
  customers: customerRepository,
  queries: new DynamoCheckoutListing(documentClient, storeConfig.tableName),
  instruments,
  merchants: merchantRepository,
  webhookRows: async (checkout: Checkout) => checkoutWebhookRows(await loadResultEvents(), checkout),
};
const checkoutBaseUrl = apiConfig.publicCheckoutBaseUrl;

/** The merchant's full view with the timeline. */
function fullView({ checkout, instrument, events }: CheckoutDetails) {
  return toCheckoutView(checkout, { checkoutBaseUrl, instrument, events });
}

/** POST /v1/checkouts: the client secret is in this response only (we keep its hash). */
async function create(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const input = parseInput(createCheckoutSchema(), request.body);
  // With an Idempotency-Key the answer is built first and its record lands in the create's own transaction.
  let answer: ApiResult | undefined;
  const recording = request.idempotency;
  const created = await createCheckout(deps, {
    merchant,
    request: input,
    now: request.now,
    ...(recording !== undefined
      ? { companion: async (fresh: CreatedCheckout) => recording.recordWith((answer = createdAnswer(fresh))) }
      : {}),
  });
  return answer ?? createdAnswer(created);
}

function createdAnswer({ checkout, clientSecret }: CreatedCheckout): ApiResult {
  const body = toCheckoutView(checkout, {
    checkoutBaseUrl,
    clientSecret,
    instrument: undefined, // a new checkout has no payment yet
    events: [{ checkoutId: checkout.id, type: 'created', at: checkout.createdAt }],
  });
  return { statusCode: 201, body };
}

/** GET /v1/checkouts/{id}: full view for the owning merchant, public view for the browser. */
async function get(request: ApiRequest): Promise<ApiResult> {
  const { principal, now } = request;
  const found = await getCheckout(
    deps,
    principal.kind === 'client'
      ? { reader: 'buyer', checkout: principal.checkout, now }
      : { reader: 'merchant', merchant: requireMerchant(principal), checkoutId: request.pathParameters['id'] ?? '', now },
  );
  if (found.reader === 'buyer') return { statusCode: 200, body: toPublicCheckoutView(found.checkout, found.merchantName) };
  return { statusCode: 200, body: fullView(found) };
}

/** GET /v1/checkouts: one checkout by merchant_order_ref, or the newest checkouts (paged). */
async function list(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const query = parseInput(listCheckoutsQuerySchema(), request.query);
  const result = await listCheckouts(deps, {
    merchantId: merchant.id,
    ...(query.merchant_order_ref !== undefined ? { merchantOrderRef: query.merchant_order_ref } : {}),
    ...(query.limit !== undefined ? { limit: query.limit } : {}),
    ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    now: request.now,
  });
  if (result.kind === 'found') return { statusCode: 200, body: fullView(result) };
  const data = result.checkouts.map(({ checkout, instrument }) => toCheckoutView(checkout, { checkoutBaseUrl, instrument }));
  return { statusCode: 200, body: toListView(data, result.nextCursor) };
}

/** POST /v1/checkouts/{id}/cancel: only while open; a conditional write plus a timeline row. */
async function cancel(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const details = await cancelCheckout(deps, { merchant, checkoutId: request.pathParameters['id'] ?? '', now: request.now });
  return { statusCode: 200, body: fullView(details) };
}

export const handler = createApiHandler(
  {
    'POST /v1/checkouts': { auth: ['merchant'], handle: create, carriesIdempotencyRecord: true },
    'GET /v1/checkouts': { auth: ['merchant'], handle: list },
    'GET /v1/checkouts/{id}': { auth: ['merchant', 'client'], handle: get },
    'POST /v1/checkouts/{id}/cancel': { auth: ['merchant'], handle: cancel },
  },
  apiDependencies,
);

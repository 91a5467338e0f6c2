/**
 * The demo merchant backend: a separate loopback HTTP server that plays the merchant in local
 * runs, demos and tests. It answers Paystep's signed inventory-confirmation requests by blocking
 * real stock (store.ts), turns Paystep's signed result webhooks into sold or released stock,
 * starts purchases by creating checkouts at Paystep (`POST /buy`), and can be told to misbehave
 * per product (slow, 500, redirect) so tests can prove the saga's timeouts and compensations.
 * A buyer who gives an email buys as a Paystep customer (created on the first order) with
 * `save_payment_method`, and `POST /renewals` charges a renewal of such an order off-session with
 * the customer's saved card and the merchant's secret key, like a subscription would.
 * Browsers get HTML pages (pages.ts) on the same paths: `/` is the shop and `/orders` the order
 * list when the request accepts text/html; everything else (fetch, curl, tests) gets the JSON.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { isRecord, listen, parseJson, readBody, sendJson, sendText, Timers } from '../sandbox-psp/http-io';
import { DEFAULT_PRODUCTS, DemoStore, parseProducts, type DemoOrder, type DemoOrderItem, type DemoProduct } from './store';
import { sendPage, wantsHtml } from '../web/html';
import { renderBuyErrorPage, renderOrderRowsFragment, renderOrdersPage, renderResultPage, renderShopPage } from './pages';

export type { DemoProduct, DemoProductBehavior, DemoOrder } from './store';

export interface DemoMerchantSettings {
  /** Paystep API base URL, e.g. http://127.0.0.1:3000 (no /v1). */
  paystepApiUrl: string;
  /** The merchant's Paystep secret key (sk_test_...), used by POST /buy. */
  secretKey: string;
  /** Verifies inventory-confirmation requests (Standard Webhooks, whsec_...). */
  signingSecret: string;
  /** Verifies result webhooks (the webhook endpoint's whsec_...). */
  webhookSecret: string;
}

export interface StartDemoMerchantOptions extends Partial<DemoMerchantSettings> {
  port?: number;
  host?: string;
  /** Initial catalogue; default DEFAULT_PRODUCTS (USD items and one KRW item). */
  products?: DemoProduct[];
}

export interface DemoMerchant {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Sets settings learned after start (Paystep onboarding returns the keys after both servers run). */
  configure(patch: Partial<DemoMerchantSettings>): void;
}

const PAYSTEP_TIMEOUT_MS = 10_000;
/** The shop's Buy button lets the buyer try up to 3 cards (another card after a decline). */
const DEMO_MAX_PAYMENT_ATTEMPTS = 3;

/**
 * Starts the demo merchant on loopback. Without a signing/webhook secret it accepts unsigned
 * requests (handy before onboarding); once configured, a bad or missing signature is 401.
 */
export async function startDemoMerchant(options: StartDemoMerchantOptions = {}): Promise<DemoMerchant> {
  const store = new DemoStore(options.products ?? DEFAULT_PRODUCTS);
  const timers = new Timers();
  const settings: Partial<DemoMerchantSettings> = {};
  let confirmationVerifier: Webhook | undefined;
  let webhookVerifier: Webhook | undefined;
  let orderCounter = 0;
  let selfUrl = '';

  const configure = (patch: Partial<DemoMerchantSettings>): void => {
    // Build verifiers first so a malformed secret throws here, not on the first request.
    const nextConfirmation = patch.signingSecret !== undefined ? verifierFor(patch.signingSecret) : confirmationVerifier;
    const nextWebhook = patch.webhookSecret !== undefined ? verifierFor(patch.webhookSecret) : webhookVerifier;
    confirmationVerifier = nextConfirmation;
    webhookVerifier = nextWebhook;
    for (const [key, value] of Object.entries(patch)) {
      if (value !== undefined) settings[key as keyof DemoMerchantSettings] = value;
    }
  };
  configure({
    ...(options.paystepApiUrl !== undefined ? { paystepApiUrl: options.paystepApiUrl } : {}),
    ...(options.secretKey !== undefined ? { secretKey: options.secretKey } : {}),
    ...(options.signingSecret !== undefined ? { signingSecret: options.signingSecret } : {}),
    ...(options.webhookSecret !== undefined ? { webhookSecret: options.webhookSecret } : {}),
  });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://demo-merchant.local');
    const method = request.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const route = `${method} ${path}`;

    switch (route) {
      case 'POST /inventory-confirmation':
        await handleConfirmation(request, response);
        return;
      case 'POST /webhooks':
        await handleWebhook(request, response);
        return;
      case 'GET /products':
        sendJson(response, 200, { products: store.listProducts() });
        return;
      case 'PUT /admin/products': {
        const body = parseJson(await readBody(request));
        try {
          store.replaceProducts(parseProducts(body));
        } catch (error) {
          sendError(response, 400, 'invalid_products', (error as Error).message);
          return;
        }
        sendJson(response, 200, { products: store.listProducts() });
        return;
      }
      case 'GET /orders': {
        if (wantsHtml(header(request, 'accept'))) {
          sendPage(response, 200, renderOrdersPage(store.listOrders()));
          return;
        }
        const ref = url.searchParams.get('order_ref') ?? url.searchParams.get('merchant_order_ref');
        const orders = store
          .listOrders()
          .filter((order) => ref === null || order.order_ref === ref || order.merchant_order_ref === ref);
        sendJson(response, 200, { orders });
        return;
      }
      case 'POST /buy':
        await handleBuy(request, response);
        return;
      case 'POST /renewals':
        await handleRenewal(request, response);
        return;
      case 'GET /order-rows':
        sendText(response, 200, renderOrderRowsFragment(store.listOrders()), {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
        });
        return;
      case 'GET /thanks':
      case 'GET /sorry':
        await handleReturnPage(path === '/thanks' ? 'thanks' : 'sorry', url, response);
        return;
      case 'GET /':
        if (wantsHtml(header(request, 'accept'))) {
          sendPage(response, 200, renderShopPage(store.listProducts(), paystepOrigin()));
          return;
        }
        sendJson(response, 200, { ok: true, service: 'demo-merchant' });
        return;
      case 'GET /health':
        sendJson(response, 200, { ok: true, service: 'demo-merchant' });
        return;
      default: {
        if (path.startsWith('/orders/') && method === 'GET') {
          const order = store.findOrder(decodeURIComponent(path.slice('/orders/'.length)));
          if (order === undefined) sendError(response, 404, 'order_not_found', 'No such order');
          else sendJson(response, 200, order);
          return;
        }
        sendError(response, 404, 'route_not_found', `No route for ${route}`);
      }
    }
  };

  const handleConfirmation = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const raw = await readBody(request);
    if (confirmationVerifier !== undefined && !verifies(confirmationVerifier, raw, request)) {
      sendJson(response, 401, { reason: 'Invalid signature' });
      return;
    }
    const input = parseConfirmation(parseJson(raw));
    if (typeof input === 'string') {
      sendJson(response, 400, { reason: input });
      return;
    }
    // Decided (and stock blocked) now; answered after the product's delay, if any.
    const answer = store.confirmInventory(input);
    if (!(await timers.sleep(answer.delayMs))) return;
    const headers: Record<string, string> = {};
    if (answer.contentType !== undefined) headers['content-type'] = answer.contentType;
    if (answer.location !== undefined) headers['location'] = answer.location;
    sendText(response, answer.status, answer.body, headers);
  };

  const handleWebhook = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const raw = await readBody(request);
    if (webhookVerifier !== undefined && !verifies(webhookVerifier, raw, request)) {
      sendError(response, 401, 'invalid_signature', 'The webhook signature does not verify');
      return;
    }
    const event = parseJson(raw);
    const webhookId =
      header(request, 'webhook-id') ?? (isRecord(event) && typeof event['id'] === 'string' ? event['id'] : undefined);
    if (!isRecord(event) || typeof event['type'] !== 'string' || webhookId === undefined) {
      sendError(response, 400, 'invalid_event', 'Expected a JSON event with type, and a webhook-id header');
      return;
    }
    const data = isRecord(event['data']) ? event['data'] : {};
    const object = isRecord(data['object']) ? data['object'] : data;
    const checkoutId = typeof object['id'] === 'string' ? object['id'] : undefined;
    const merchantOrderRef = typeof object['merchant_order_ref'] === 'string' ? object['merchant_order_ref'] : undefined;
    store.applyWebhook({
      webhookId,
      type: event['type'],
      ...(checkoutId !== undefined ? { checkoutId } : {}),
      ...(merchantOrderRef !== undefined ? { merchantOrderRef } : {}),
    });
    response.writeHead(204);
    response.end();
  };

  /** The Paystep origin the shop's Buy form redirects to (its CSP form-action must allow it). */
  const paystepOrigin = (): string | undefined => {
    try {
      return settings.paystepApiUrl !== undefined ? new URL(settings.paystepApiUrl).origin : undefined;
    } catch {
      return undefined;
    }
  };

  /**
   * POST /buy. JSON in, JSON out (scripts and tests; optional `max_payment_attempts`); an HTML form
   * post (the shop's Buy button, max_payment_attempts 3) gets a 303 to the hosted checkout instead,
   * or an error page.
   */
  const handleBuy = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const contentType = (header(request, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    const fromForm = contentType === 'application/x-www-form-urlencoded';
    const raw = await readBody(request);
    let body: unknown;
    if (fromForm) {
      const form = new URLSearchParams(raw);
      const formQuantity = form.get('quantity');
      const formEmail = form.get('email')?.trim();
      body = {
        sku: form.get('sku') ?? undefined,
        ...(formQuantity !== null && formQuantity !== '' ? { quantity: Number(formQuantity) } : {}),
        ...(formEmail ? { email: formEmail } : {}),
        // The shop's buyers may try another card after a decline (scripts choose with the JSON field).
        max_payment_attempts: DEMO_MAX_PAYMENT_ATTEMPTS,
      };
    } else {
      body = parseJson(raw);
    }
    const fail = (status: number, code: string, message: string, param?: string): void => {
      if (fromForm) sendPage(response, status, renderBuyErrorPage(status, message));
      else sendError(response, status, code, message, param);
    };
    if (!isRecord(body)) {
      fail(400, 'invalid_json', 'Body must be a JSON object');
      return;
    }
    const sku = body['sku'];
    const quantity = body['quantity'] ?? 1;
    const product = typeof sku === 'string' ? store.getProduct(sku) : undefined;
    if (product === undefined) {
      fail(400, 'unknown_product', 'sku must name a product from GET /products', 'sku');
      return;
    }
    if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 1 || quantity > 1000) {
      fail(400, 'invalid_quantity', 'quantity must be an integer from 1 to 1000', 'quantity');
      return;
    }
    const email = body['email'];
    if (email !== undefined && (typeof email !== 'string' || !/^[^\s@]{1,64}@[^\s@]{1,190}$/.test(email))) {
      fail(400, 'invalid_email', 'email must be an email address', 'email');
      return;
    }
    if (settings.paystepApiUrl === undefined || settings.secretKey === undefined) {
      fail(503, 'not_configured', 'The demo merchant has no Paystep API URL or secret key yet');
      return;
    }
    let customer: { id: string; email: string } | undefined;
    if (email !== undefined) {
      try {
        const address = email.toLowerCase();
        customer = { id: await customerFor(address), email: address };
      } catch (error) {
        fail(502, 'paystep_error', (error as Error).message);
        return;
      }
    }
    orderCounter += 1;
    const merchantOrderRef = `demo-${orderCounter}-${randomBytes(4).toString('hex')}`;
    const items: DemoOrderItem[] = [{ sku: product.sku, name: product.name, quantity }];
    const amount = product.unit_amount * quantity;
    const refQuery = `?merchant_order_ref=${encodeURIComponent(merchantOrderRef)}`;
    const checkoutRequest = {
      merchant_order_ref: merchantOrderRef,
      amount,
      currency: product.currency,
      items: [{ sku: product.sku, name: product.name, quantity, unit_amount: product.unit_amount }],
      ...(customer !== undefined
        ? { customer: customer.id, save_payment_method: true }
        : isRecord(body['customer'])
          ? { customer: body['customer'] }
          : {}),
      success_url: `${selfUrl}/thanks${refQuery}`,
      failure_url: `${selfUrl}/sorry${refQuery}`,
      // Another card after a decline: the shop's Buy button allows 3 cards; a script may ask for its own count.
      ...(typeof body['max_payment_attempts'] === 'number' ? { max_payment_attempts: body['max_payment_attempts'] } : {}),
    };
    let status: number;
    let created: unknown;
    try {
      const answer = await fetch(`${settings.paystepApiUrl.replace(/\/+$/, '')}/v1/checkouts`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${settings.secretKey}`,
          'idempotency-key': `buy-${merchantOrderRef}`,
        },
        body: JSON.stringify(checkoutRequest),
        redirect: 'manual',
        signal: AbortSignal.timeout(PAYSTEP_TIMEOUT_MS),
      });
      status = answer.status;
      created = parseJson(await answer.text());
    } catch (error) {
      fail(502, 'paystep_unreachable', `Paystep did not answer: ${(error as Error).name}`);
      return;
    }
    if (status < 200 || status > 299 || !isRecord(created) || typeof created['id'] !== 'string') {
      if (fromForm) {
        fail(502, 'paystep_error', `Paystep refused the checkout (HTTP ${status})`);
        return;
      }
      sendJson(response, 502, {
        error: {
          code: 'paystep_error',
          message: `Paystep refused the checkout (HTTP ${status})`,
          paystep_status: status,
          paystep_error: isRecord(created) ? (created['error'] ?? null) : null,
        },
      });
      return;
    }
    store.recordPendingOrder({
      merchantOrderRef,
      checkoutId: created['id'],
      items,
      amountMinor: amount,
      currency: product.currency,
      ...(customer !== undefined ? { customer } : {}),
    });
    if (fromForm) {
      const target = created['checkout_url'];
      if (typeof target !== 'string') {
        fail(502, 'paystep_error', 'Paystep returned no checkout_url');
        return;
      }
      // The URL's #fragment carries the client secret to the hosted page; browsers keep it across the 303.
      response.writeHead(303, { location: target, 'cache-control': 'no-store', 'content-length': '0' });
      response.end();
      return;
    }
    sendJson(response, 200, {
      checkout_id: created['id'],
      checkout_url: created['checkout_url'] ?? null,
      client_secret: created['client_secret'] ?? null,
      merchant_order_ref: merchantOrderRef,
      customer: customer?.id ?? null,
    });
  };

  /** One call to Paystep with the merchant's secret key: the status and the parsed JSON answer. */
  const callPaystep = async (
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    idempotencyKey?: string,
  ): Promise<{ status: number; json: unknown }> => {
    if (settings.paystepApiUrl === undefined || settings.secretKey === undefined)
      throw new Error('The demo merchant has no Paystep API URL or secret key yet');
    const answer = await fetch(`${settings.paystepApiUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${settings.secretKey}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(idempotencyKey !== undefined ? { 'idempotency-key': idempotencyKey } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(PAYSTEP_TIMEOUT_MS),
    });
    return { status: answer.status, json: parseJson(await answer.text()) };
  };

  /** Concurrent first orders of one email share one customer creation. */
  const customerCreations = new Map<string, Promise<string>>();
  /** The buyer's Paystep customer, created at Paystep on the buyer's first order. */
  const customerFor = async (email: string): Promise<string> => {
    const known = store.customerIdFor(email);
    if (known !== undefined) return known;
    const key = email.toLowerCase();
    let creation = customerCreations.get(key);
    if (creation === undefined) {
      creation = (async () => {
        const created = await callPaystep('POST', '/v1/customers', { email }, `customer-${randomBytes(8).toString('hex')}`);
        if (created.status !== 201 && created.status !== 200)
          throw new Error(`Paystep refused the customer (HTTP ${created.status})`);
        const id = isRecord(created.json) ? created.json['id'] : undefined;
        if (typeof id !== 'string') throw new Error('Paystep returned no customer id');
        store.rememberCustomer(email, id);
        return id;
      })().finally(() => customerCreations.delete(key));
      customerCreations.set(key, creation);
    }
    return await creation;
  };

  /**
   * POST /renewals: charges a renewal of a customer's order off-session. A new checkout for the
   * same customer and items, paid by the merchant itself with the customer's newest saved card
   * (`{"payment_method","off_session":true}` with the secret key); inventory is confirmed and the
   * result webhook lands as for any order. JSON `{"order":"<merchant_order_ref>"}` answers the new
   * checkout; the orders page's form (`order=...`) gets a 303 back to /orders.
   */
  const handleRenewal = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const contentType = (header(request, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    const fromForm = contentType === 'application/x-www-form-urlencoded';
    const raw = await readBody(request);
    const body = fromForm ? { order: new URLSearchParams(raw).get('order') } : parseJson(raw);
    const fail = (status: number, code: string, message: string, param?: string): void => {
      if (fromForm) sendPage(response, status, renderBuyErrorPage(status, message));
      else sendError(response, status, code, message, param);
    };
    const ref = isRecord(body) ? body['order'] : undefined;
    const original = typeof ref === 'string' ? store.findOrder(ref) : undefined;
    if (original === undefined) {
      fail(404, 'order_not_found', 'order must name an order of this shop', 'order');
      return;
    }
    if (original.customer_id === null || original.amount_minor === null || original.currency === null) {
      fail(409, 'not_renewable', 'Only an order of a customer (bought with an email) can be renewed', 'order');
      return;
    }
    if (original.state !== 'sold') {
      fail(409, 'not_renewable', `The order is ${original.state}; only a paid order can be renewed`, 'order');
      return;
    }
    try {
      const renewal = await chargeRenewal(
        original as DemoOrder & { customer_id: string; amount_minor: number; currency: string },
      );
      if (fromForm) {
        response.writeHead(303, { location: '/orders', 'cache-control': 'no-store', 'content-length': '0' });
        response.end();
        return;
      }
      sendJson(response, 200, renewal);
    } catch (error) {
      const failure = error as Error & { status?: number; code?: string };
      fail(failure.status ?? 502, failure.code ?? 'paystep_error', failure.message);
    }
  };

  const chargeRenewal = async (
    original: DemoOrder & { customer_id: string; amount_minor: number; currency: string },
  ): Promise<{ checkout_id: string; merchant_order_ref: string; payment_method: string; status: string }> => {
    const refusal = (status: number, code: string, message: string): Error => Object.assign(new Error(message), { status, code });
    const saved = await callPaystep('GET', `/v1/customers/${encodeURIComponent(original.customer_id)}/payment_methods`);
    const cards = isRecord(saved.json) && Array.isArray(saved.json['data']) ? saved.json['data'] : [];
    const newest = cards.filter(isRecord).at(-1);
    if (saved.status !== 200 || newest === undefined || typeof newest['id'] !== 'string')
      throw refusal(409, 'no_saved_card', 'The customer has no saved card to charge');
    orderCounter += 1;
    const merchantOrderRef = `renewal-${orderCounter}-${randomBytes(4).toString('hex')}`;
    const refQuery = `?merchant_order_ref=${encodeURIComponent(merchantOrderRef)}`;
    const items = original.items.map((item) => {
      const unitAmount = store.getProduct(item.sku)?.unit_amount;
      return {
        sku: item.sku,
        name: item.name ?? item.sku,
        quantity: item.quantity,
        ...(unitAmount !== undefined ? { unit_amount: unitAmount } : {}),
      };
    });
    const created = await callPaystep(
      'POST',
      '/v1/checkouts',
      {
        merchant_order_ref: merchantOrderRef,
        amount: original.amount_minor,
        currency: original.currency,
        items,
        customer: original.customer_id,
        success_url: `${selfUrl}/thanks${refQuery}`,
        failure_url: `${selfUrl}/sorry${refQuery}`,
      },
      `renewal-create-${merchantOrderRef}`,
    );
    const checkoutId = isRecord(created.json) ? created.json['id'] : undefined;
    if (created.status !== 201 || typeof checkoutId !== 'string')
      throw refusal(502, 'paystep_error', `Paystep refused the renewal checkout (HTTP ${created.status})`);
    store.recordPendingOrder({
      merchantOrderRef,
      checkoutId,
      items: original.items,
      amountMinor: original.amount_minor,
      currency: original.currency,
      kind: 'renewal',
      customer: { id: original.customer_id, email: original.customer_email },
      renewalOf: original.merchant_order_ref,
    });
    const paid = await callPaystep(
      'POST',
      `/v1/checkouts/${encodeURIComponent(checkoutId)}/pay`,
      { payment_method: newest['id'], off_session: true },
      `renewal-pay-${merchantOrderRef}`,
    );
    const status = isRecord(paid.json) && typeof paid.json['status'] === 'string' ? paid.json['status'] : undefined;
    if ((paid.status !== 202 && paid.status !== 200) || status === undefined)
      throw refusal(502, 'paystep_error', `Paystep refused the off-session payment (HTTP ${paid.status})`);
    return { checkout_id: checkoutId, merchant_order_ref: merchantOrderRef, payment_method: newest['id'], status };
  };

  /**
   * /thanks and /sorry: the buyer's return pages. The query says which order; the outcome and the
   * reason come from Paystep itself (read with the secret key) and from our own order record, not
   * from the query string, which anyone can edit.
   */
  const handleReturnPage = async (outcome: 'thanks' | 'sorry', url: URL, response: ServerResponse): Promise<void> => {
    const merchantOrderRef = url.searchParams.get('merchant_order_ref');
    const checkoutId = url.searchParams.get('checkout_id');
    const order =
      (checkoutId !== null ? store.findOrder(checkoutId) : undefined) ??
      (merchantOrderRef !== null ? store.findOrder(merchantOrderRef) : undefined);
    let checkout: { status: string; failure_reason: string | null; failure_message: string | null } | undefined;
    const lookupId = checkoutId ?? order?.order_ref ?? null;
    if (
      lookupId !== null &&
      /^chk_[A-Za-z0-9_-]{1,64}$/.test(lookupId) &&
      settings.paystepApiUrl !== undefined &&
      settings.secretKey !== undefined
    ) {
      try {
        const answer = await fetch(`${settings.paystepApiUrl.replace(/\/+$/, '')}/v1/checkouts/${encodeURIComponent(lookupId)}`, {
          headers: { authorization: `Bearer ${settings.secretKey}` },
          redirect: 'manual',
          signal: AbortSignal.timeout(3_000),
        });
        const json = parseJson(await answer.text());
        if (answer.status === 200 && isRecord(json) && typeof json['status'] === 'string') {
          checkout = {
            status: json['status'],
            failure_reason: typeof json['failure_reason'] === 'string' ? json['failure_reason'] : null,
            failure_message: typeof json['failure_message'] === 'string' ? json['failure_message'] : null,
          };
        }
      } catch {
        // Paystep unreachable: the page falls back to our own order record.
      }
    }
    sendPage(
      response,
      200,
      renderResultPage({
        outcome,
        merchantOrderRef,
        order,
        checkout,
        failureReasonParam: url.searchParams.get('failure_reason'),
      }),
    );
  };

  const server = await listen(handle, {
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    onStop: () => timers.cancelAll(),
  });
  selfUrl = server.url;
  return { url: server.url, port: server.port, stop: server.stop, configure };
}

function verifierFor(secret: string): Webhook | undefined {
  return secret === '' ? undefined : new Webhook(secret);
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Standard Webhooks check (HMAC over id.timestamp.body, 5-minute timestamp tolerance). */
function verifies(verifier: Webhook, raw: string, request: IncomingMessage): boolean {
  try {
    verifier.verify(
      raw,
      {
        'webhook-id': header(request, 'webhook-id') ?? '',
        'webhook-timestamp': header(request, 'webhook-timestamp') ?? '',
        'webhook-signature': header(request, 'webhook-signature') ?? '',
      },
      { jsonParse: false },
    );
    return true;
  } catch {
    return false;
  }
}

/** Validates the confirmation body; a string is the reason for a 400. */
function parseConfirmation(body: unknown): Parameters<DemoStore['confirmInventory']>[0] | string {
  if (!isRecord(body)) return 'Body must be a JSON object';
  const orderRef = body['order_ref'];
  const merchantOrderRef = body['merchant_order_ref'];
  if (typeof orderRef !== 'string' || orderRef === '') return 'order_ref is required';
  if (typeof merchantOrderRef !== 'string' || merchantOrderRef === '') return 'merchant_order_ref is required';
  const rawItems = body['items'];
  if (!Array.isArray(rawItems) || rawItems.length === 0) return 'items must be a non-empty array';
  const items: DemoOrderItem[] = [];
  for (const raw of rawItems) {
    if (!isRecord(raw) || typeof raw['sku'] !== 'string' || raw['sku'] === '') return 'every item needs a sku';
    const quantity = raw['quantity'];
    if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 1)
      return `quantity for ${raw['sku']} must be a positive integer`;
    items.push({ sku: raw['sku'], quantity, ...(typeof raw['name'] === 'string' ? { name: raw['name'] } : {}) });
  }
  const amountMinor = body['amount_minor'];
  const currency = body['currency'];
  return {
    order_ref: orderRef,
    merchant_order_ref: merchantOrderRef,
    items,
    ...(typeof amountMinor === 'number' ? { amount_minor: amountMinor } : {}),
    ...(typeof currency === 'string' ? { currency } : {}),
  };
}

function sendError(response: ServerResponse, status: number, code: string, message: string, param?: string): void {
  sendJson(response, status, { error: { code, message, ...(param ? { param } : {}) } });
}

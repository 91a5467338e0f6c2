/**
 * The demo merchant's customers and renewals over real HTTP, against a stand-in for Paystep's API
 * that records every call: a buyer with an email buys as a Paystep customer created once (on the
 * first order, also under concurrent first orders) with `save_payment_method`; a guest buys without
 * one; `POST /renewals` charges a paid customer order again off-session with the customer's newest
 * saved card and the secret key, and the orders page lists the first order and the renewal.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { startDemoMerchant, type DemoMerchant, type DemoOrder } from '../../local/demo-merchant/server';

const signingSecret = `whsec_${randomBytes(24).toString('base64')}`;
const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
}

let merchant: DemoMerchant;
let paystep: Server;
let received: Received[] = [];
let checkoutCounter = 0;
let customerCounter = 0;
/** What the stand-in answers for GET /v1/customers/{id}/payment_methods. */
let savedCards: Record<string, { id: string }[]> = {};

/** A stand-in for Paystep's API: customers, checkouts, pay, and the customer's saved cards. */
function answer(request: Received): { status: number; body: unknown } {
  if (request.method === 'POST' && request.url === '/v1/customers') {
    customerCounter += 1;
    return { status: 201, body: { id: `cus_fake${customerCounter}`, object: 'customer' } };
  }
  if (request.method === 'POST' && request.url === '/v1/checkouts') {
    checkoutCounter += 1;
    const id = `chk_fake${checkoutCounter}`;
    return {
      status: 201,
      body: { id, status: 'open', checkout_url: `http://paystep/checkout/${id}#cs_x`, client_secret: 'cs_x' },
    };
  }
  const pay = /^\/v1\/checkouts\/(chk_[a-z0-9]+)\/pay$/.exec(request.url);
  if (request.method === 'POST' && pay !== null) return { status: 202, body: { id: pay[1], status: 'processing' } };
  const cards = /^\/v1\/customers\/(cus_[a-z0-9]+)\/payment_methods$/.exec(request.url);
  if (request.method === 'GET' && cards !== null) {
    return { status: 200, body: { object: 'list', data: savedCards[cards[1]!] ?? [], has_more: false, next_cursor: null } };
  }
  return { status: 404, body: { error: { code: 'route_not_found', message: 'not here' } } };
}

async function buy(body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${merchant.url}/buy`, { method: 'POST', body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Paystep's signed checkout.succeeded webhook for one checkout. */
async function deliverSucceeded(checkoutId: string, merchantOrderRef: string): Promise<void> {
  const msgId = `msg_${randomBytes(6).toString('hex')}`;
  const now = new Date();
  const body = JSON.stringify({
    type: 'checkout.succeeded',
    id: msgId,
    created: Math.floor(now.getTime() / 1000),
    data: { object: { id: checkoutId, merchant_order_ref: merchantOrderRef, status: 'succeeded' } },
  });
  const response = await fetch(`${merchant.url}/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': msgId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(webhookSecret).sign(msgId, now, body),
    },
    body,
  });
  expect(response.status).toBe(204);
}

async function orders(): Promise<DemoOrder[]> {
  return ((await (await fetch(`${merchant.url}/orders`)).json()) as { orders: DemoOrder[] }).orders;
}

function calls(method: string, url: string | RegExp): Received[] {
  return received.filter((call) => call.method === method && (typeof url === 'string' ? call.url === url : url.test(call.url)));
}

beforeAll(async () => {
  paystep = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    request.on('end', () => {
      const call: Received = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: raw === '' ? undefined : (JSON.parse(raw) as Record<string, unknown>),
      };
      received.push(call);
      const { status, body } = answer(call);
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => paystep.listen(0, '127.0.0.1', resolve));
  const port = (paystep.address() as { port: number }).port;
  merchant = await startDemoMerchant({
    signingSecret,
    webhookSecret,
    paystepApiUrl: `http://127.0.0.1:${port}`,
    secretKey: 'sk_test_demo',
  });
});

afterAll(async () => {
  await merchant.stop();
  await new Promise((resolve) => paystep.close(resolve));
});

beforeEach(() => {
  received = [];
  savedCards = {};
});

describe('demo merchant customers', () => {
  it('creates the Paystep customer on the first order only, even for concurrent first orders, and asks to save the card', async () => {
    // Prepare
    const email = `ada-${randomBytes(3).toString('hex')}@example.com`;

    // Act: two first orders at the same moment, then a third later (the email in another case)
    const first = await Promise.all([buy({ sku: 'mug', email }), buy({ sku: 'tshirt', email })]);
    const third = await buy({ sku: 'mug', email: email.toUpperCase() });

    // Assess
    for (const bought of [...first, third]) expect(bought.status).toBe(200);
    const creations = calls('POST', '/v1/customers');
    expect(creations).toHaveLength(1);
    expect(creations[0]!.body).toEqual({ email });
    expect(creations[0]!.headers.authorization).toBe('Bearer sk_test_demo');
    const customerId = first[0]!.json['customer'];
    expect(customerId).toMatch(/^cus_fake\d+$/);
    expect(new Set([...first, third].map((bought) => bought.json['customer']))).toEqual(new Set([customerId]));
    for (const checkout of calls('POST', '/v1/checkouts')) {
      expect(checkout.body).toMatchObject({ customer: customerId, save_payment_method: true });
    }
    const mine = (await orders()).filter((order) => order.customer_email === email);
    expect(mine).toHaveLength(3);
    expect(mine.every((order) => order.kind === 'order' && order.customer_id === customerId)).toBe(true);
  });

  it('sells to a guest (no email) without a customer or a saved card, and refuses a malformed email', async () => {
    // Act
    const guest = await buy({ sku: 'mug' });
    const malformed = await buy({ sku: 'mug', email: 'not an email' });

    // Assess
    expect(guest.status).toBe(200);
    expect(guest.json['customer']).toBeNull();
    expect(calls('POST', '/v1/customers')).toHaveLength(0);
    const [checkout] = calls('POST', '/v1/checkouts');
    expect(checkout!.body).not.toHaveProperty('customer');
    expect(checkout!.body).not.toHaveProperty('save_payment_method');
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ error: { code: 'invalid_email', param: 'email' } });
  });
});

describe('POST /renewals', () => {
  it("charges a paid customer order again off-session with the customer's newest saved card; the orders page lists both", async () => {
    // Prepare: a customer's first order, paid (the webhook arrived), with two saved cards
    const email = `grace-${randomBytes(3).toString('hex')}@example.com`;
    const first = await buy({ sku: 'mug', quantity: 2, email });
    const firstRef = first.json['merchant_order_ref'] as string;
    await deliverSucceeded(first.json['checkout_id'] as string, firstRef);
    savedCards[first.json['customer'] as string] = [{ id: 'pm_older' }, { id: 'pm_newest' }];
    received = [];

    // Act
    const response = await fetch(`${merchant.url}/renewals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ order: firstRef }),
    });
    const renewal = (await response.json()) as Record<string, string>;
    const page = await (await fetch(`${merchant.url}/orders`, { headers: { accept: 'text/html' } })).text();

    // Assess: a new checkout for the same customer and items, paid by the merchant off-session
    expect(response.status).toBe(200);
    expect(renewal).toMatchObject({ payment_method: 'pm_newest', status: 'processing' });
    expect(renewal['merchant_order_ref']).toMatch(/^renewal-\d+-[0-9a-f]+$/);
    const [created] = calls('POST', '/v1/checkouts');
    expect(created!.body).toMatchObject({
      merchant_order_ref: renewal['merchant_order_ref'],
      amount: 2500,
      currency: 'USD',
      customer: first.json['customer'],
      items: [{ sku: 'mug', quantity: 2 }],
    });
    expect(created!.body).not.toHaveProperty('save_payment_method');
    const [paid] = calls('POST', `/v1/checkouts/${renewal['checkout_id']}/pay`);
    expect(paid!.headers.authorization).toBe('Bearer sk_test_demo');
    expect(paid!.headers['idempotency-key']).toBe(`renewal-pay-${renewal['merchant_order_ref']}`);
    expect(paid!.body).toEqual({ payment_method: 'pm_newest', off_session: true });
    const renewed = (await orders()).find((order) => order.merchant_order_ref === renewal['merchant_order_ref']);
    expect(renewed).toMatchObject({ kind: 'renewal', renewal_of: firstRef, state: 'pending', customer_email: email });
    expect(page).toContain(`<tr data-order="${firstRef}" data-kind="order">`);
    expect(page).toContain(`<tr data-order="${renewal['merchant_order_ref']}" data-kind="renewal">`);
    expect(page).toContain(`Renewal of ${firstRef}`);
    expect(page).toContain(`data-renew="${firstRef}"`);
  });

  it('refuses to renew a guest order, an unpaid order, an unknown order, or a customer without a saved card', async () => {
    // Prepare
    const guest = await buy({ sku: 'mug' });
    const unpaid = await buy({ sku: 'mug', email: `unpaid-${randomBytes(3).toString('hex')}@example.com` });
    const cardless = await buy({ sku: 'mug', email: `cardless-${randomBytes(3).toString('hex')}@example.com` });
    await deliverSucceeded(cardless.json['checkout_id'] as string, cardless.json['merchant_order_ref'] as string);
    received = [];
    const renew = async (order: unknown): Promise<{ status: number; code: unknown }> => {
      const response = await fetch(`${merchant.url}/renewals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ order }),
      });
      return { status: response.status, code: ((await response.json()) as { error: { code: string } }).error.code };
    };

    // Act
    const answers = [
      await renew(guest.json['merchant_order_ref']),
      await renew(unpaid.json['merchant_order_ref']),
      await renew('no-such-order'),
      await renew(cardless.json['merchant_order_ref']),
    ];

    // Assess: nothing was created or paid at Paystep
    expect(answers).toEqual([
      { status: 409, code: 'not_renewable' },
      { status: 409, code: 'not_renewable' },
      { status: 404, code: 'order_not_found' },
      { status: 409, code: 'no_saved_card' },
    ]);
    expect(calls('POST', /^\/v1\/checkouts/)).toHaveLength(0);
  });
});

/**
 * The demo merchant over real HTTP: Standard Webhooks-signed inventory confirmations block stock
 * all-or-nothing (also under 50 concurrent requests), result webhooks sell or release it once per
 * webhook-id, per-product behaviours simulate bad merchants, and POST /buy creates a checkout.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { startDemoMerchant, type DemoMerchant, type DemoOrder, type DemoProduct } from '../../local/demo-merchant/server';

const signingSecret = `whsec_${randomBytes(24).toString('base64')}`;
const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
let merchant: DemoMerchant;
let counter = 0;

const catalogue = (overrides: Partial<DemoProduct>[] = []): DemoProduct[] => [
  { sku: 'tshirt', name: 'T-shirt', unit_amount: 2500, currency: 'USD', stock: 10, blocked: 0, sold: 0 },
  { sku: 'mug', name: 'Mug', unit_amount: 1250, currency: 'USD', stock: 3, blocked: 0, sold: 0 },
  ...overrides.map((product, index) => ({
    sku: `special-${index}`,
    name: 'Special',
    unit_amount: 100,
    currency: 'USD',
    stock: 5,
    blocked: 0,
    sold: 0,
    ...product,
  })),
];

function signedPost(
  path: string,
  payload: unknown,
  secret: string,
  msgId = `msg_${randomBytes(6).toString('hex')}`,
  signal?: AbortSignal,
): Promise<Response> {
  const body = JSON.stringify(payload);
  const now = new Date();
  return fetch(`${merchant.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': msgId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(msgId, now, body),
    },
    body,
    redirect: 'manual',
    ...(signal ? { signal } : {}),
  });
}

function confirmation(
  items: { sku: string; quantity: number }[],
  orderRef = `chk_${(counter += 1)}_${randomBytes(3).toString('hex')}`,
) {
  return {
    merchant_key: 'mk_test',
    merchant_order_ref: `order-${orderRef}`,
    order_ref: orderRef,
    amount: 25,
    amount_minor: 2500,
    currency: 'USD',
    items,
  };
}

function resultEvent(type: 'checkout.succeeded' | 'checkout.failed', orderRef: string) {
  return {
    type,
    id: `evt_${randomBytes(6).toString('hex')}`,
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: orderRef,
        merchant_order_ref: `order-${orderRef}`,
        status: type === 'checkout.succeeded' ? 'succeeded' : 'failed',
        failure_reason: type === 'checkout.failed' ? 'payment_declined' : null,
      },
    },
  };
}

async function product(sku: string): Promise<DemoProduct> {
  const { products } = (await (await fetch(`${merchant.url}/products`)).json()) as { products: DemoProduct[] };
  return products.find((candidate) => candidate.sku === sku) as DemoProduct;
}

async function order(ref: string): Promise<DemoOrder | undefined> {
  const { orders } = (await (await fetch(`${merchant.url}/orders?order_ref=${ref}`)).json()) as { orders: DemoOrder[] };
  return orders[0];
}

async function replaceCatalogue(products: DemoProduct[]): Promise<void> {
  const response = await fetch(`${merchant.url}/admin/products`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ products }),
  });
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  merchant = await startDemoMerchant({ signingSecret, webhookSecret });
});

afterAll(async () => {
  await merchant.stop();
});

beforeEach(async () => {
  await replaceCatalogue(catalogue());
});

describe('inventory confirmation', () => {
  it('blocks stock for a signed request and answers 200 with an empty body', async () => {
    // Prepare
    const request = confirmation([
      { sku: 'tshirt', quantity: 3 },
      { sku: 'mug', quantity: 1 },
    ]);
    // Act
    const response = await signedPost('/inventory-confirmation', request, signingSecret);
    // Assess
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    expect(await product('tshirt')).toMatchObject({ stock: 7, blocked: 3, sold: 0 });
    expect(await product('mug')).toMatchObject({ stock: 2, blocked: 1 });
    expect(await order(request.order_ref)).toMatchObject({
      state: 'blocked',
      merchant_order_ref: request.merchant_order_ref,
      items: request.items,
    });
  });

  it('is idempotent per order_ref: a second call answers 200 and blocks nothing more', async () => {
    // Prepare
    const request = confirmation([{ sku: 'tshirt', quantity: 2 }]);
    await signedPost('/inventory-confirmation', request, signingSecret);
    // Act
    const again = await signedPost('/inventory-confirmation', request, signingSecret);
    // Assess
    expect(again.status).toBe(200);
    expect(await product('tshirt')).toMatchObject({ stock: 8, blocked: 2 });
  });

  it('answers 401 to a bad or missing signature and blocks nothing', async () => {
    // Prepare
    const request = confirmation([{ sku: 'tshirt', quantity: 1 }]);
    const wrongSecret = `whsec_${randomBytes(24).toString('base64')}`;
    // Act
    const badlySigned = await signedPost('/inventory-confirmation', request, wrongSecret);
    const unsigned = await fetch(`${merchant.url}/inventory-confirmation`, { method: 'POST', body: JSON.stringify(request) });
    // Assess
    expect([badlySigned.status, unsigned.status]).toEqual([401, 401]);
    expect(await product('tshirt')).toMatchObject({ stock: 10, blocked: 0 });
  });

  it('answers 409 with the reason and blocks nothing when one item is short (all or nothing)', async () => {
    // Prepare
    const request = confirmation([
      { sku: 'tshirt', quantity: 1 },
      { sku: 'mug', quantity: 4 },
    ]);
    // Act
    const response = await signedPost('/inventory-confirmation', request, signingSecret);
    // Assess
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({ reason: 'Insufficient inventory for mug' });
    expect(await product('tshirt')).toMatchObject({ stock: 10, blocked: 0 });
    expect(await product('mug')).toMatchObject({ stock: 3, blocked: 0 });
    expect(await order(request.order_ref)).toMatchObject({
      state: 'rejected',
      rejection_reason: 'Insufficient inventory for mug',
    });
  });

  it('50 concurrent confirmations for 10 units: exactly 10 succeed, stock ends at 0', async () => {
    // Prepare
    const requests = Array.from({ length: 50 }, () => confirmation([{ sku: 'tshirt', quantity: 1 }]));
    // Act
    const responses = await Promise.all(requests.map((request) => signedPost('/inventory-confirmation', request, signingSecret)));
    // Assess
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 409)).toHaveLength(40);
    expect(await product('tshirt')).toMatchObject({ stock: 0, blocked: 10, sold: 0 });
  });
});

describe('result webhooks', () => {
  it('succeeded moves blocked to sold; failed moves blocked back to stock', async () => {
    // Prepare
    const won = confirmation([{ sku: 'tshirt', quantity: 2 }]);
    const lost = confirmation([{ sku: 'tshirt', quantity: 3 }]);
    await signedPost('/inventory-confirmation', won, signingSecret);
    await signedPost('/inventory-confirmation', lost, signingSecret);
    // Act
    const succeeded = await signedPost('/webhooks', resultEvent('checkout.succeeded', won.order_ref), webhookSecret);
    const failed = await signedPost('/webhooks', resultEvent('checkout.failed', lost.order_ref), webhookSecret);
    // Assess
    expect([succeeded.status, failed.status]).toEqual([204, 204]);
    expect(await product('tshirt')).toMatchObject({ stock: 8, blocked: 0, sold: 2 });
    expect(await order(won.order_ref)).toMatchObject({
      state: 'sold',
      webhooks: [expect.objectContaining({ type: 'checkout.succeeded' })],
    });
    expect(await order(lost.order_ref)).toMatchObject({ state: 'released' });
  });

  it('ignores a redelivery with the same webhook-id (dedupe is by webhook-id, not by body)', async () => {
    // Prepare
    const first = confirmation([{ sku: 'tshirt', quantity: 1 }]);
    const second = confirmation([{ sku: 'tshirt', quantity: 2 }]);
    await signedPost('/inventory-confirmation', first, signingSecret);
    await signedPost('/inventory-confirmation', second, signingSecret);
    const event = resultEvent('checkout.failed', first.order_ref);
    await signedPost('/webhooks', event, webhookSecret, 'msg_dup_1');
    // Act
    const redelivery = await signedPost('/webhooks', event, webhookSecret, 'msg_dup_1');
    const reusedId = await signedPost('/webhooks', resultEvent('checkout.failed', second.order_ref), webhookSecret, 'msg_dup_1');
    // Assess
    expect([redelivery.status, reusedId.status]).toEqual([204, 204]);
    expect((await order(first.order_ref))?.webhooks).toHaveLength(1);
    expect(await order(second.order_ref)).toMatchObject({ state: 'blocked', webhooks: [] });
    expect(await product('tshirt')).toMatchObject({ stock: 8, blocked: 2 });
  });

  it('answers 401 to a webhook signed with the wrong secret', async () => {
    // Prepare
    const request = confirmation([{ sku: 'tshirt', quantity: 1 }]);
    await signedPost('/inventory-confirmation', request, signingSecret);
    // Act
    const response = await signedPost('/webhooks', resultEvent('checkout.succeeded', request.order_ref), signingSecret);
    // Assess
    expect(response.status).toBe(401);
    expect(await product('tshirt')).toMatchObject({ blocked: 1, sold: 0 });
  });

  it('a failed webhook that beats the confirmation closes the order so a late confirmation blocks nothing', async () => {
    // Prepare
    const request = confirmation([{ sku: 'tshirt', quantity: 1 }]);
    await signedPost('/webhooks', resultEvent('checkout.failed', request.order_ref), webhookSecret);
    // Act
    const late = await signedPost('/inventory-confirmation', request, signingSecret);
    // Assess
    expect(late.status).toBe(409);
    expect(await product('tshirt')).toMatchObject({ stock: 10, blocked: 0 });
  });
});

describe('bad-merchant behaviours', () => {
  it('500 with a plain-text body blocks nothing', async () => {
    // Prepare
    await replaceCatalogue(catalogue([{ behavior: { status: 500, body: 'database on fire' } }]));
    const request = confirmation([{ sku: 'special-0', quantity: 1 }]);
    // Act
    const response = await signedPost('/inventory-confirmation', request, signingSecret);
    // Assess
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toBe('database on fire');
    expect(await product('special-0')).toMatchObject({ stock: 5, blocked: 0 });
  });

  it('302 with a Location header', async () => {
    // Prepare
    await replaceCatalogue(catalogue([{ behavior: { status: 302, location: 'http://127.0.0.1:9/elsewhere' } }]));
    // Act
    const response = await signedPost(
      '/inventory-confirmation',
      confirmation([{ sku: 'special-0', quantity: 1 }]),
      signingSecret,
    );
    // Assess
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('http://127.0.0.1:9/elsewhere');
    expect(await product('special-0')).toMatchObject({ blocked: 0 });
  });

  it('a delayed 200 answers late but has already blocked the stock', async () => {
    // Prepare
    await replaceCatalogue(catalogue([{ behavior: { delayMs: 400 } }]));
    const request = confirmation([{ sku: 'special-0', quantity: 2 }]);
    const started = Date.now();
    // Act
    const pending = signedPost('/inventory-confirmation', request, signingSecret);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const blockedBeforeAnswer = (await product('special-0')).blocked;
    const response = await pending;
    // Assess
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(blockedBeforeAnswer).toBe(2);
  });

  it('a caller that gives up early still leaves the late-200 stock blocked until the failed webhook', async () => {
    // Prepare
    await replaceCatalogue(catalogue([{ behavior: { delayMs: 2000, status: 200 } }]));
    const request = confirmation([{ sku: 'special-0', quantity: 1 }]);
    // Act: the caller times out (as Paystep does at 10 s), then Paystep's failed webhook arrives
    const outcome = await signedPost('/inventory-confirmation', request, signingSecret, undefined, AbortSignal.timeout(200)).then(
      () => 'answered',
      (error: Error) => error.name,
    );
    const blockedAfterTimeout = (await product('special-0')).blocked;
    await signedPost('/webhooks', resultEvent('checkout.failed', request.order_ref), webhookSecret);
    // Assess
    expect(outcome).toBe('TimeoutError');
    expect(blockedAfterTimeout).toBe(1);
    expect(await product('special-0')).toMatchObject({ stock: 5, blocked: 0 });
    expect(await order(request.order_ref)).toMatchObject({ state: 'released' });
  });

  it('refuses an invalid catalogue with 400', async () => {
    // Act
    const response = await fetch(`${merchant.url}/admin/products`, {
      method: 'PUT',
      body: JSON.stringify([{ sku: 'x', unit_amount: 1.5, currency: 'USD', stock: 1 }]),
    });
    // Assess
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('unit_amount');
  });
});

describe('POST /buy', () => {
  it('creates a checkout at Paystep with the secret key and the thanks/sorry URLs', async () => {
    // Prepare: a stand-in for Paystep's API that records what it receives
    const received: { headers: IncomingHttpHeaders; body: Record<string, unknown> }[] = [];
    const paystep = createServer((request, response) => {
      let raw = '';
      request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      request.on('end', () => {
        // Only the checkout creation is of interest; anything else (e.g. a page's GET) is a 404.
        if (request.method !== 'POST' || request.url !== '/v1/checkouts') {
          response
            .writeHead(404, { 'content-type': 'application/json' })
            .end('{"error":{"code":"route_not_found","message":"not here"}}');
          return;
        }
        received.push({ headers: request.headers, body: JSON.parse(raw) as Record<string, unknown> });
        response.writeHead(201, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            id: 'chk_fake1',
            status: 'open',
            checkout_url: 'http://paystep/pay/chk_fake1',
            client_secret: 'cs_fake',
          }),
        );
      });
    });
    await new Promise<void>((resolve) => paystep.listen(0, '127.0.0.1', resolve));
    const address = paystep.address() as { port: number };
    merchant.configure({ paystepApiUrl: `http://127.0.0.1:${address.port}`, secretKey: 'sk_test_demo' });
    try {
      // Act
      const response = await fetch(`${merchant.url}/buy`, { method: 'POST', body: JSON.stringify({ sku: 'mug', quantity: 2 }) });
      const body = (await response.json()) as Record<string, string>;
      // Assess
      expect(response.status).toBe(200);
      expect(body).toMatchObject({
        checkout_id: 'chk_fake1',
        checkout_url: 'http://paystep/pay/chk_fake1',
        client_secret: 'cs_fake',
      });
      expect(body['merchant_order_ref']).toMatch(/^demo-\d+-[0-9a-f]+$/);
      const sent = received[0];
      expect(sent?.headers.authorization).toBe('Bearer sk_test_demo');
      expect(sent?.body).toMatchObject({
        merchant_order_ref: body['merchant_order_ref'],
        amount: 2500,
        currency: 'USD',
        items: [{ sku: 'mug', quantity: 2, unit_amount: 1250 }],
      });
      expect(sent?.body['success_url']).toBe(`${merchant.url}/thanks?merchant_order_ref=${body['merchant_order_ref']}`);
      expect(sent?.body['failure_url']).toContain(`${merchant.url}/sorry`);
      expect(await order('chk_fake1')).toMatchObject({ state: 'pending', items: [{ sku: 'mug', quantity: 2 }] });
      const thanks = await fetch(sent?.body['success_url'] as string);
      expect(await thanks.text()).toContain('Thank you');
    } finally {
      await new Promise((resolve) => paystep.close(resolve));
    }
  });
});

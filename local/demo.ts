/**
 * `npm run demo`: starts a throwaway local stack (in memory, random ports), walks two purchases
 * through the demo shop the way a buyer on the hosted page would (Buy -> the card to Paystep's
 * vault -> pay with the `pm_` -> poll the pending page), then the shop's renewal of the first one
 * (the merchant pays a new checkout off-session with the card the customer saved), and prints each
 * checkout's event timeline and the PSP ledger: one success (captured, item sold, card saved), one
 * out-of-stock (voided, merchant's reason shown) and the renewal (captured without the buyer).
 */
import './polyfills';
import { fetchLedger } from './sandbox-psp/client';
import { eventually, PaystepClient, type ApiSchema } from './paystep-client';
import { startLocalStack, type LocalStack } from './stack';

type TimelineRow = NonNullable<ApiSchema<'Checkout'>['events']>[number];

interface Cart {
  checkout_id: string;
  client_secret: string;
  merchant_order_ref: string;
  customer: string | null;
}

async function buy(stack: LocalStack, sku: string, email: string | undefined): Promise<Cart> {
  const response = await fetch(`${stack.merchantUrl}/buy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sku, quantity: 1, ...(email !== undefined ? { email } : {}) }),
  });
  if (!response.ok) throw new Error(`demo shop /buy failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as Cart;
}

/** What the hosted page does with the card: POST /v1/payment_methods with the client secret. */
async function vaultCard(api: PaystepClient, cart: Cart, number: string): Promise<string> {
  const answer = await api.call<{ id?: string; card?: { brand: string; last4: string } }>('POST', '/v1/payment_methods', {
    token: cart.client_secret,
    body: {
      type: 'card',
      card: { number, exp_month: 12, exp_year: new Date().getUTCFullYear() + 1, cvc: '123' },
      checkout: cart.checkout_id,
    },
  });
  if (answer.status !== 201 || answer.body.id === undefined) throw new Error(`vaulting the card failed: ${answer.text}`);
  console.log(`card vaulted: ${answer.body.id} (${answer.body.card?.brand} ending ${answer.body.card?.last4})`);
  return answer.body.id;
}

function describe(row: TimelineRow): string {
  const data = row.data ?? {};
  const details = Object.entries(data)
    .filter(([key]) => key !== 'url')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return details ? `${row.type.padEnd(28)} ${details}` : row.type;
}

/** A buyer's purchase on the hosted page: Buy, vault the card, pay with the `pm_`, wait for the result. */
async function walk(stack: LocalStack, api: PaystepClient, title: string, sku: string, email?: string): Promise<Cart> {
  console.log(`\n=== ${title} (sku ${sku}${email !== undefined ? `, customer ${email}` : ''}) ===`);
  const cart = await buy(stack, sku, email);
  console.log(
    `checkout ${cart.checkout_id} for merchant order ${cart.merchant_order_ref}${cart.customer !== null ? ` (customer ${cart.customer}, save_payment_method)` : ''}`,
  );
  const paymentMethod = await vaultCard(api, cart, '4242424242424242');
  const paid = await api.call<{ status?: string }>('POST', `/v1/checkouts/${cart.checkout_id}/pay`, {
    token: cart.client_secret,
    body: { payment_method: paymentMethod },
  });
  console.log(`pay -> HTTP ${paid.status} ${paid.body.status}`);
  const terminal = await api.waitForTerminal(cart.checkout_id, cart.client_secret, 60_000);
  console.log(
    `result: ${terminal.status}${terminal.failure_reason ? ` (${terminal.failure_reason}: ${terminal.failure_message})` : ''}`,
  );
  console.log(`buyer redirected to: ${terminal.redirect_url}`);
  await report(stack, api, cart.checkout_id);
  return cart;
}

/** Whether the API saves cards on customers and pays off-session (read from its OpenAPI document). */
async function offersRenewals(apiUrl: string): Promise<boolean> {
  const document = (await (await fetch(`${apiUrl}/v1/openapi.json`)).json()) as { paths?: Record<string, { post?: unknown }> };
  const pay = JSON.stringify(document.paths?.['/v1/checkouts/{id}/pay']?.post ?? {});
  const create = JSON.stringify(document.paths?.['/v1/checkouts']?.post ?? {});
  return pay.includes('"off_session"') && create.includes('"save_payment_method"');
}

/** The shop charges a renewal of a customer's paid order itself: off-session, with the saved card. */
async function renew(stack: LocalStack, api: PaystepClient, first: Cart): Promise<void> {
  console.log(`\n=== Renewal of ${first.merchant_order_ref}: the shop charges the saved card off-session ===`);
  const saved = await eventually(
    async () =>
      (
        await api.call<{ data?: { id: string; card: { brand: string; last4: string } }[] }>(
          'GET',
          `/v1/customers/${first.customer}/payment_methods`,
          { token: stack.demoMerchant.secretKey },
        )
      ).body.data ?? [],
    (cards) => cards.length > 0,
    10_000,
  );
  console.log(
    `customer ${first.customer} saved cards: ${saved.map((pm) => `${pm.id} (${pm.card.brand} ending ${pm.card.last4})`).join(', ')}`,
  );
  const response = await fetch(`${stack.merchantUrl}/renewals`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ order: first.merchant_order_ref }),
  });
  const renewal = (await response.json()) as {
    checkout_id: string;
    merchant_order_ref: string;
    payment_method: string;
    status: string;
  };
  if (!response.ok) throw new Error(`demo shop /renewals failed: ${response.status} ${JSON.stringify(renewal)}`);
  console.log(
    `checkout ${renewal.checkout_id} for merchant order ${renewal.merchant_order_ref}, paid by the merchant with ${renewal.payment_method} (off_session) -> ${renewal.status}`,
  );
  const terminal = await eventually(
    async () =>
      (await api.call<{ status: string }>('GET', `/v1/checkouts/${renewal.checkout_id}`, { token: stack.demoMerchant.secretKey }))
        .body,
    (checkout) => ['succeeded', 'failed'].includes(checkout.status),
    60_000,
  );
  console.log(`result: ${terminal.status}`);
  await report(stack, api, renewal.checkout_id);
}

/** The checkout's timeline (once its webhook went out), the PSP's ledger and the merchant's order state. */
async function report(stack: LocalStack, api: PaystepClient, checkoutId: string): Promise<void> {
  const merchant = api.as(stack.demoMerchant.secretKey);
  const timeline = await eventually(
    async () => {
      const { data, error } = await merchant.GET('/v1/checkouts/{id}', { params: { path: { id: checkoutId } } });
      if (data === undefined) throw new Error(`reading checkout ${checkoutId} failed: ${JSON.stringify(error)}`);
      return 'events' in data ? (data.events ?? []) : [];
    },
    (rows) => rows.some((row) => row.type === 'webhook_delivered' || row.type === 'webhook_failed'),
    10_000,
  );
  const start = Date.parse(timeline[0]?.at ?? new Date().toISOString());
  console.log('timeline:');
  for (const row of timeline) {
    console.log(`  +${String(Date.parse(row.at) - start).padStart(5)} ms  ${describe(row)}`);
  }
  const ledger = await fetchLedger(stack.pspUrl, checkoutId);
  console.log('sandbox PSP ledger:');
  for (const op of ledger)
    console.log(
      `  ${op.type.padEnd(9)} ${String(op.amount).padStart(6)} ${op.currency} ${op.status.padEnd(9)} key=${op.idempotency_key}`,
    );
  const orders = await eventually(
    async () =>
      ((await (await fetch(`${stack.merchantUrl}/orders?order_ref=${checkoutId}`)).json()) as { orders: { state: string }[] })
        .orders,
    (list) => list[0]?.state !== 'pending' && list[0]?.state !== 'blocked',
    10_000,
  );
  console.log(`merchant's order state: ${orders[0]?.state ?? 'none'}`);
}

async function main(): Promise<void> {
  console.log('Starting a throwaway local stack (in memory)...');
  const stack = await startLocalStack({
    inMemory: true,
    apiPort: 0,
    pspPort: 0,
    stripeSandboxPort: 0,
    merchantPort: 0,
    log: () => undefined,
  });
  try {
    const api = new PaystepClient(stack.apiUrl);
    await fetch(`${stack.merchantUrl}/admin/products`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { sku: 'mug', name: 'Paystep mug', unit_amount: 1250, currency: 'USD', stock: 5 },
        { sku: 'limited-print', name: 'Limited print', unit_amount: 15000, currency: 'USD', stock: 0 },
      ]),
    });
    const renewals = await offersRenewals(stack.apiUrl);
    const first = await walk(
      stack,
      api,
      renewals ? 'Purchase 1: in stock, a new customer' : 'Purchase 1: in stock',
      'mug',
      renewals ? 'ada@example.com' : undefined,
    );
    await walk(stack, api, 'Purchase 2: out of stock', 'limited-print');
    if (renewals) await renew(stack, api, first);
    else console.log('\n(No renewal: this API does not offer customers on checkouts and off-session payments.)');
  } finally {
    await stack.stop();
  }
  console.log('\nDone: stack stopped.');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

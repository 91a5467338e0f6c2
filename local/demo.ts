/**
 * `npm run demo`: starts a throwaway local stack (in memory, random ports), walks two purchases
 * through the demo shop the way a buyer would (Buy -> tokenize the card at the sandbox PSP ->
 * pay -> poll the pending page) and prints each checkout's event timeline and the PSP ledger:
 * one success (captured, item sold) and one out-of-stock (voided, merchant's reason shown).
 */
import './polyfills';
import { fetchLedger, tokenizeTestCard } from './sandbox-psp/client';
import { eventually, PaystepClient, type ApiSchema } from './paystep-client';
import { startLocalStack, type LocalStack } from './stack';

type TimelineRow = NonNullable<ApiSchema<'Checkout'>['events']>[number];

async function buy(
  stack: LocalStack,
  sku: string,
): Promise<{ checkout_id: string; client_secret: string; merchant_order_ref: string }> {
  const response = await fetch(`${stack.merchantUrl}/buy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sku, quantity: 1 }),
  });
  if (!response.ok) throw new Error(`demo shop /buy failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as { checkout_id: string; client_secret: string; merchant_order_ref: string };
}

function describe(row: TimelineRow): string {
  const data = row.data ?? {};
  const details = Object.entries(data)
    .filter(([key]) => key !== 'url')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return details ? `${row.type.padEnd(28)} ${details}` : row.type;
}

async function walk(stack: LocalStack, api: PaystepClient, title: string, sku: string): Promise<void> {
  console.log(`\n=== ${title} (sku ${sku}) ===`);
  const cart = await buy(stack, sku);
  console.log(`checkout ${cart.checkout_id} for merchant order ${cart.merchant_order_ref}`);
  const token = await tokenizeTestCard(stack.pspUrl, '4242424242424242');
  const paid = await api.pay(cart.checkout_id, cart.client_secret, token);
  console.log(`pay -> HTTP ${paid.status} ${paid.body.status}`);
  const terminal = await api.waitForTerminal(cart.checkout_id, cart.client_secret, 60_000);
  console.log(
    `result: ${terminal.status}${terminal.failure_reason ? ` (${terminal.failure_reason}: ${terminal.failure_message})` : ''}`,
  );
  console.log(`buyer redirected to: ${terminal.redirect_url}`);

  const merchant = api.as(stack.demoMerchant.secretKey);
  const timeline = await eventually(
    async () => {
      const { data, error } = await merchant.GET('/v1/checkouts/{id}', { params: { path: { id: cart.checkout_id } } });
      if (data === undefined) throw new Error(`reading checkout ${cart.checkout_id} failed: ${JSON.stringify(error)}`);
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
  const ledger = await fetchLedger(stack.pspUrl, cart.checkout_id);
  console.log('sandbox PSP ledger:');
  for (const op of ledger)
    console.log(
      `  ${op.type.padEnd(9)} ${String(op.amount).padStart(6)} ${op.currency} ${op.status.padEnd(9)} key=${op.idempotency_key}`,
    );
  const orders = (await (await fetch(`${stack.merchantUrl}/orders?order_ref=${cart.checkout_id}`)).json()) as {
    orders: { state: string }[];
  };
  console.log(`merchant's order state: ${orders.orders[0]?.state ?? 'none'}`);
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
    await walk(stack, api, 'Purchase 1: in stock', 'mug');
    await walk(stack, api, 'Purchase 2: out of stock', 'limited-print');
  } finally {
    await stack.stop();
  }
  console.log('\nDone: stack stopped.');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

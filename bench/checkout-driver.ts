/**
 * What the benchmark and the chaos run do to the stack, over HTTP only, as a merchant's server and
 * a buyer's browser would: set the demo merchant's catalogue, create a checkout (for a customer,
 * too), tokenize a card at the sandbox PSP or vault it at Paystep, pay (with the merchant key
 * off-session, too), and read the checkout's timeline. Plus the small statistics and
 * concurrency helpers both share.
 */
import { tokenizeTestCard } from '../local/sandbox-psp/client';
import type { DemoProduct } from '../local/demo-merchant/store';
import { PaystepClient } from '../local/paystep-client';

/** A product as the demo merchant's admin API accepts it: blocked/sold counts are optional on input. */
export type CatalogueProduct = Omit<DemoProduct, 'blocked' | 'sold'> & Partial<Pick<DemoProduct, 'blocked' | 'sold'>>;

export interface TimelineCheckout {
  id: string;
  amount: number;
  currency: string;
  status: string;
  failure_reason?: string | null;
  events: { type: string; at: string; data?: Record<string, unknown> }[];
}

export const TERMINAL_STATUSES = new Set(['succeeded', 'failed', 'expired', 'canceled']);

/** Replaces the demo merchant's products (stock and misbehaviours). */
export async function setCatalogue(merchantUrl: string, products: CatalogueProduct[]): Promise<void> {
  const response = await fetch(`${merchantUrl}/admin/products`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(products),
  });
  if (response.status !== 200) throw new Error(`setting the demo catalogue failed: ${response.status}`);
}

/** The demo merchant's products as it sees them now. */
export async function readCatalogue(merchantUrl: string): Promise<CatalogueProduct[]> {
  const response = await fetch(`${merchantUrl}/products`);
  return ((await response.json()) as { products: CatalogueProduct[] }).products;
}

/** The demo merchant's order book (for the oversold counts). */
export async function readOrders(merchantUrl: string): Promise<{ order_ref: string | null; state: string; oversold: number }[]> {
  const response = await fetch(`${merchantUrl}/orders`, { headers: { accept: 'application/json' } });
  return ((await response.json()) as { orders: { order_ref: string | null; state: string; oversold: number }[] }).orders;
}

export interface CreatedCheckout {
  id: string;
  clientSecret: string;
}

/** The merchant's server creates a checkout (Idempotency-Key = the order ref, so a retry is safe). */
export async function createCheckout(
  api: PaystepClient,
  secretKey: string,
  input: {
    merchantOrderRef: string;
    sku: string;
    quantity: number;
    unitAmount: number;
    currency: string;
    /** A `cus_...`; with savePaymentMethod the card is saved on it once the checkout succeeds. */
    customer?: string;
    savePaymentMethod?: boolean;
  },
): Promise<CreatedCheckout> {
  const answer = await api.call<{ id?: string; client_secret?: string }>('POST', '/v1/checkouts', {
    token: secretKey,
    idempotencyKey: `create-${input.merchantOrderRef}`,
    body: {
      merchant_order_ref: input.merchantOrderRef,
      amount: input.unitAmount * input.quantity,
      currency: input.currency,
      items: [{ sku: input.sku, name: input.sku, quantity: input.quantity, unit_amount: input.unitAmount }],
      success_url: 'https://shop.example/thanks',
      failure_url: 'https://shop.example/sorry',
      ...(input.customer !== undefined ? { customer: input.customer } : {}),
      ...(input.savePaymentMethod === true ? { save_payment_method: true } : {}),
    },
  });
  if (
    (answer.status !== 200 && answer.status !== 201) ||
    answer.body.id === undefined ||
    answer.body.client_secret === undefined
  ) {
    throw new Error(`create checkout answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  }
  return { id: answer.body.id, clientSecret: answer.body.client_secret };
}

/** The buyer's browser tokenizes the card at the PSP (never through Paystep); `fetchImpl` as in tokenizeTestCard. */
export async function tokenize(
  pspUrl: string,
  card: string,
  fetchImpl?: Parameters<typeof tokenizeTestCard>[2],
): Promise<string> {
  return await tokenizeTestCard(pspUrl, card, fetchImpl);
}

/** The buyer pays with the client secret (POST /v1/checkouts/{id}/pay); throws on anything but 202. */
export async function payCheckout(api: PaystepClient, checkout: CreatedCheckout, token: string): Promise<void> {
  const answer = await api.call('POST', `/v1/checkouts/${checkout.id}/pay`, {
    token: checkout.clientSecret,
    body: { payment_token: token },
  });
  if (answer.status !== 202) throw new Error(`pay answered ${answer.status}: ${answer.text.slice(0, 300)}`);
}

/** The hosted page's way: the card goes to Paystep's vault with the client secret; returns the `pm_...`. */
export async function vaultCard(api: PaystepClient, checkout: CreatedCheckout, card: string): Promise<string> {
  const answer = await api.call<{ id?: string }>('POST', '/v1/payment_methods', {
    token: checkout.clientSecret,
    idempotencyKey: `vault-${checkout.id}`,
    body: {
      type: 'card',
      card: { number: card, exp_month: 12, exp_year: new Date().getUTCFullYear() + 1, cvc: '123' },
      checkout: checkout.id,
    },
  });
  if (answer.status !== 201 || answer.body.id === undefined) {
    throw new Error(`vault answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  }
  return answer.body.id;
}

/**
 * Pays with a JSON body and the given key: the buyer's client secret with `{payment_method}`, or the
 * merchant's secret key with `{payment_method, off_session: true}`. Throws on anything but 202.
 */
export async function payCheckoutWith(
  api: PaystepClient,
  checkoutId: string,
  token: string,
  body: Record<string, unknown>,
): Promise<void> {
  const answer = await api.call('POST', `/v1/checkouts/${checkoutId}/pay`, {
    token,
    idempotencyKey: `pay-${checkoutId}`,
    body,
  });
  if (answer.status !== 202) throw new Error(`pay answered ${answer.status}: ${answer.text.slice(0, 300)}`);
}

/** The merchant's server creates a customer (Idempotency-Key given, so a retry is safe); returns `cus_...`. */
export async function createCustomer(
  api: PaystepClient,
  secretKey: string,
  email: string,
  idempotencyKey: string,
): Promise<string> {
  const answer = await api.call<{ id?: string }>('POST', '/v1/customers', { token: secretKey, idempotencyKey, body: { email } });
  if ((answer.status !== 200 && answer.status !== 201) || answer.body.id === undefined) {
    throw new Error(`create customer answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  }
  return answer.body.id;
}

/** The ids of a customer's saved payment methods, oldest first. */
export async function savedPaymentMethodIds(api: PaystepClient, secretKey: string, customerId: string): Promise<string[]> {
  const answer = await api.call<{ data?: { id: string }[] }>('GET', `/v1/customers/${customerId}/payment_methods`, {
    token: secretKey,
  });
  if (answer.status !== 200) throw new Error(`list payment methods answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  return (answer.body.data ?? []).map((paymentMethod) => paymentMethod.id);
}

/** GET /v1/checkouts/{id} as the merchant (status and events[] timeline). */
export async function readCheckout(api: PaystepClient, secretKey: string, id: string): Promise<TimelineCheckout> {
  const answer = await api.call<TimelineCheckout>('GET', `/v1/checkouts/${id}`, { token: secretKey });
  if (answer.status !== 200) throw new Error(`read checkout answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  return answer.body;
}

/** When the checkout reached a terminal status and when its webhook was delivered (timeline, epoch ms). */
export function timelineMoments(checkout: TimelineCheckout): { terminalAt?: number; webhookDeliveredAt?: number } {
  const terminal = checkout.events.find((event) => TERMINAL_STATUSES.has(event.type));
  const delivered = checkout.events.find(
    (event) => event.type === 'webhook_delivered' && String(event.data?.event_type ?? '').startsWith('checkout.'),
  );
  return {
    ...(terminal !== undefined ? { terminalAt: Date.parse(terminal.at) } : {}),
    ...(delivered !== undefined ? { webhookDeliveredAt: Date.parse(delivered.at) } : {}),
  };
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once. */
export async function runPool(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker()));
}

/** Nearest-rank percentile of `values` (ms); NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: number[]): LatencySummary {
  const round = (value: number): number => Math.round(value * 10) / 10;
  return {
    count: values.length,
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    max: round(values.length === 0 ? Number.NaN : Math.max(...values)),
    mean: round(values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length),
  };
}

/** Reads `--name value` / `--name=value` from argv, else the env var, else the default. */
export function numberOption(argv: string[], flag: string, envName: string, fallback: number): number {
  let raw: string | undefined;
  const index = argv.findIndex((arg) => arg === `--${flag}` || arg.startsWith(`--${flag}=`));
  if (index !== -1) raw = argv[index]?.includes('=') ? argv[index]?.split('=')[1] : argv[index + 1];
  raw ??= process.env[envName];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${flag} / ${envName} must be a positive number, got "${raw}"`);
  return value;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

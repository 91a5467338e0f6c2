/**
 * The demo merchant's inventory and orders: real stock counts that Paystep's inventory
 * confirmation blocks and its result webhooks turn into sold or release. Every state change is
 * one synchronous method, so concurrent confirmations can never oversell (Node runs each to
 * completion): stock moves stock -> blocked -> sold, or blocked -> stock, and never goes negative.
 */

/** How a product makes the merchant misbehave in tests; see `confirmInventory` for the exact rules. */
export interface DemoProductBehavior {
  /** Wait this long before answering (the stock decision is taken on arrival). */
  delayMs?: number;
  /** Answer with this status. 2xx = confirm (stock blocked); anything else = reject (nothing blocked). */
  status?: number;
  /** Response body (default: empty). */
  body?: string;
  /** Content-Type of `body` (default `text/plain; charset=utf-8`). */
  contentType?: string;
  /** Location header (for 3xx behaviours). */
  location?: string;
}

export interface DemoProduct {
  sku: string;
  name: string;
  unit_amount: number; // minor units
  currency: string;
  stock: number; // available
  blocked: number;
  sold: number;
  behavior?: DemoProductBehavior;
}

export type DemoOrderState = 'pending' | 'blocked' | 'sold' | 'released' | 'rejected';

export interface DemoOrderItem {
  sku: string;
  name?: string;
  quantity: number;
}

/** `order`: a buyer's purchase (a guest's, or a customer's first); `renewal`: charged by the merchant off-session. */
export type DemoOrderKind = 'order' | 'renewal';

export interface DemoOrder {
  /** Paystep's checkout id (`order_ref` in the confirmation request). */
  order_ref: string | null;
  merchant_order_ref: string;
  kind: DemoOrderKind;
  /** The Paystep customer (`cus_...`) the order was made for; null for a guest. */
  customer_id: string | null;
  customer_email: string | null;
  /** For a renewal: the merchant_order_ref of the order it renews. */
  renewal_of: string | null;
  items: DemoOrderItem[];
  amount_minor: number | null;
  currency: string | null;
  state: DemoOrderState;
  rejection_reason: string | null;
  created_at: string;
  updated_at: string;
  blocked_at: string | null;
  sold_at: string | null;
  released_at: string | null;
  rejected_at: string | null;
  /** Units sold on a succeeded webhook for which there was no stock left (confirmation disabled). */
  oversold: number;
  webhooks: { id: string; type: string; received_at: string }[];
}

/** What the HTTP layer answers to an inventory confirmation. */
export interface ConfirmationAnswer {
  status: number;
  body: string;
  contentType?: string;
  location?: string;
  delayMs: number;
}

export interface ConfirmationInput {
  merchant_order_ref: string;
  order_ref: string;
  amount_minor?: number;
  currency?: string;
  items: DemoOrderItem[];
}

export interface ResultWebhook {
  webhookId: string;
  type: string;
  checkoutId?: string;
  merchantOrderRef?: string;
}

export type WebhookOutcome = 'applied' | 'duplicate' | 'ignored';

export const DEFAULT_PRODUCTS: readonly DemoProduct[] = [
  { sku: 'tshirt', name: 'Paystep T-shirt', unit_amount: 2500, currency: 'USD', stock: 10, blocked: 0, sold: 0 },
  { sku: 'mug', name: 'Paystep mug', unit_amount: 1250, currency: 'USD', stock: 25, blocked: 0, sold: 0 },
  { sku: 'sticker-pack', name: 'Sticker pack', unit_amount: 499, currency: 'USD', stock: 100, blocked: 0, sold: 0 },
  { sku: 'limited-print', name: 'Limited print (1 left)', unit_amount: 15000, currency: 'USD', stock: 1, blocked: 0, sold: 0 },
  { sku: 'tea-set', name: 'Jeju green tea set', unit_amount: 32000, currency: 'KRW', stock: 20, blocked: 0, sold: 0 },
];

const json = (value: unknown): string => JSON.stringify(value);

export class DemoStore {
  private products = new Map<string, DemoProduct>();
  /** Keyed by order_ref (checkout id) once known, else by `mor:<merchant_order_ref>`. */
  private readonly orders = new Map<string, DemoOrder>();
  private readonly answers = new Map<string, ConfirmationAnswer>();
  private readonly seenWebhookIds = new Set<string>();
  /** The shop's customer accounts: buyer email -> Paystep customer id. */
  private readonly customers = new Map<string, string>();

  constructor(products: readonly DemoProduct[] = DEFAULT_PRODUCTS) {
    this.replaceProducts(products);
  }

  listProducts(): DemoProduct[] {
    return [...this.products.values()].map(cloneProduct);
  }

  /** Replaces the catalogue (tests set stock and behaviours); orders are kept. */
  replaceProducts(products: readonly DemoProduct[]): void {
    this.products = new Map(products.map((product) => [product.sku, cloneProduct(product)]));
  }

  getProduct(sku: string): DemoProduct | undefined {
    const product = this.products.get(sku);
    return product ? cloneProduct(product) : undefined;
  }

  listOrders(): DemoOrder[] {
    return [...this.orders.values()].map(cloneOrder);
  }

  findOrder(ref: string): DemoOrder | undefined {
    const order = this.lookup(ref, ref);
    return order ? cloneOrder(order) : undefined;
  }

  /** The Paystep customer id of a buyer email, if the shop created one. */
  customerIdFor(email: string): string | undefined {
    return this.customers.get(email.toLowerCase());
  }

  rememberCustomer(email: string, customerId: string): void {
    this.customers.set(email.toLowerCase(), customerId);
  }

  /** An order started with POST /buy (or a renewal), before Paystep asks for confirmation. */
  recordPendingOrder(input: {
    merchantOrderRef: string;
    checkoutId: string | null;
    items: DemoOrderItem[];
    amountMinor: number;
    currency: string;
    kind?: DemoOrderKind;
    customer?: { id: string; email: string | null };
    renewalOf?: string;
  }): void {
    const now = new Date().toISOString();
    const order: DemoOrder = {
      ...emptyOrder(input.merchantOrderRef, now),
      order_ref: input.checkoutId,
      items: input.items.map((item) => ({ ...item })),
      amount_minor: input.amountMinor,
      currency: input.currency,
      kind: input.kind ?? 'order',
      customer_id: input.customer?.id ?? null,
      customer_email: input.customer?.email ?? null,
      renewal_of: input.renewalOf ?? null,
    };
    this.orders.set(input.checkoutId ?? `mor:${input.merchantOrderRef}`, order);
  }

  /**
   * Decides an inventory confirmation and applies it at once (the answer may be sent later).
   * Rules, in order:
   * 1. Same order_ref seen before: the first answer again, no delay, nothing blocked twice.
   *    An order already released or sold by a webhook answers 409 "Order ... is closed".
   * 2. The first item whose product has a `behavior` decides (others are ignored):
   *    - `status` set and not 2xx: answer that status with `body` / `contentType` / `location`;
   *      nothing is blocked; the order is `rejected`.
   *    - `status` 2xx or unset: the normal decision below, answered with `body` if set.
   *    - `delayMs`: the answer is sent that much later, but the stock decision is taken now, so a
   *      late 200 still leaves stock blocked (the saga has given up; its failed webhook releases it).
   * 3. Normal decision, all or nothing: every sku known and stock >= quantity (summed per sku)
   *    -> stock moves to blocked, 200 with an empty body; else 409
   *    `{"reason":"Insufficient inventory for <sku>"}` (or "Unknown product <sku>") and nothing moves.
   */
  confirmInventory(input: ConfirmationInput): ConfirmationAnswer {
    const previous = this.answers.get(input.order_ref);
    if (previous !== undefined) return { ...previous, delayMs: 0 };
    const existing = this.lookup(input.order_ref, input.merchant_order_ref);
    if (existing !== undefined && (existing.state === 'released' || existing.state === 'sold')) {
      return {
        status: 409,
        body: json({ reason: `Order ${input.order_ref} is closed (${existing.state})` }),
        contentType: 'application/json',
        delayMs: 0,
      };
    }

    const now = new Date().toISOString();
    const order: DemoOrder = existing ?? emptyOrder(input.merchant_order_ref, now);
    order.order_ref = input.order_ref;
    order.items = input.items.map((item) => ({ ...item }));
    order.amount_minor = input.amount_minor ?? order.amount_minor;
    order.currency = input.currency ?? order.currency;
    order.updated_at = now;
    this.rekey(order);

    const behavior = input.items
      .map((item) => this.products.get(item.sku)?.behavior)
      .find((candidate) => candidate !== undefined);
    const delayMs = Math.max(0, behavior?.delayMs ?? 0);
    let answer: ConfirmationAnswer;
    if (behavior?.status !== undefined && (behavior.status < 200 || behavior.status > 299)) {
      answer = {
        status: behavior.status,
        body: behavior.body ?? '',
        contentType: behavior.contentType ?? 'text/plain; charset=utf-8',
        ...(behavior.location !== undefined ? { location: behavior.location } : {}),
        delayMs,
      };
      this.reject(order, `behavior: HTTP ${behavior.status}`, now);
    } else {
      const shortfall = this.findShortfall(input.items);
      if (shortfall !== undefined) {
        answer = { status: 409, body: json({ reason: shortfall }), contentType: 'application/json', delayMs };
        this.reject(order, shortfall, now);
      } else {
        for (const item of input.items) {
          const product = this.products.get(item.sku) as DemoProduct;
          product.stock -= item.quantity;
          product.blocked += item.quantity;
        }
        order.state = 'blocked';
        order.blocked_at = now;
        answer = {
          status: behavior?.status ?? 200,
          body: behavior?.body ?? '',
          ...(behavior?.body !== undefined ? { contentType: behavior.contentType ?? 'text/plain; charset=utf-8' } : {}),
          delayMs,
        };
      }
    }
    this.answers.set(input.order_ref, { ...answer });
    return answer;
  }

  /**
   * Applies Paystep's result webhook once per `webhook-id`. succeeded: blocked -> sold (or, for an
   * order never blocked because confirmation was off, stock -> sold); failed: blocked -> stock.
   * Orders never seen are recorded (state sold/released, no items) so a late confirmation for them
   * is refused instead of blocking stock forever.
   */
  applyWebhook(webhook: ResultWebhook): WebhookOutcome {
    if (this.seenWebhookIds.has(webhook.webhookId)) return 'duplicate';
    this.seenWebhookIds.add(webhook.webhookId);
    const now = new Date().toISOString();
    let order = this.lookup(webhook.checkoutId, webhook.merchantOrderRef);
    if (order === undefined) {
      if (webhook.merchantOrderRef === undefined && webhook.checkoutId === undefined) return 'ignored';
      order = emptyOrder(webhook.merchantOrderRef ?? '', now);
      order.order_ref = webhook.checkoutId ?? null;
      order.state = 'pending';
      this.rekey(order);
    }
    order.webhooks.push({ id: webhook.webhookId, type: webhook.type, received_at: now });
    order.updated_at = now;

    if (webhook.type === 'checkout.succeeded') {
      if (order.state === 'blocked') {
        this.moveItems(order, 'blocked', 'sold');
      } else if (order.state === 'pending') {
        this.sellFromStock(order);
      } else {
        return 'ignored';
      }
      order.state = 'sold';
      order.sold_at = now;
      return 'applied';
    }
    if (webhook.type === 'checkout.failed') {
      if (order.state === 'blocked') this.moveItems(order, 'blocked', 'stock');
      else if (order.state !== 'pending') return 'ignored';
      order.state = 'released';
      order.released_at = now;
      return 'applied';
    }
    return 'ignored';
  }

  private findShortfall(items: DemoOrderItem[]): string | undefined {
    const wanted = new Map<string, number>();
    for (const item of items) wanted.set(item.sku, (wanted.get(item.sku) ?? 0) + item.quantity);
    for (const [sku, quantity] of wanted) {
      const product = this.products.get(sku);
      if (product === undefined) return `Unknown product ${sku}`;
      if (product.stock < quantity) return `Insufficient inventory for ${sku}`;
    }
    return undefined;
  }

  private reject(order: DemoOrder, reason: string, now: string): void {
    order.state = 'rejected';
    order.rejection_reason = reason;
    order.rejected_at = now;
  }

  private moveItems(order: DemoOrder, from: 'blocked', to: 'sold' | 'stock'): void {
    for (const item of order.items) {
      const product = this.products.get(item.sku);
      if (product === undefined) continue; // catalogue replaced meanwhile
      const quantity = Math.min(item.quantity, product[from]);
      product[from] -= quantity;
      product[to] += quantity;
    }
  }

  private sellFromStock(order: DemoOrder): void {
    for (const item of order.items) {
      const product = this.products.get(item.sku);
      if (product === undefined) continue;
      const quantity = Math.min(item.quantity, product.stock);
      product.stock -= quantity;
      product.sold += quantity;
      order.oversold += item.quantity - quantity;
    }
  }

  private lookup(orderRef: string | undefined, merchantOrderRef: string | undefined): DemoOrder | undefined {
    if (orderRef !== undefined) {
      const byRef = this.orders.get(orderRef);
      if (byRef) return byRef;
    }
    if (merchantOrderRef !== undefined) {
      const pending = this.orders.get(`mor:${merchantOrderRef}`);
      if (pending) return pending;
      for (const order of this.orders.values()) if (order.merchant_order_ref === merchantOrderRef) return order;
    }
    return undefined;
  }

  private rekey(order: DemoOrder): void {
    for (const [key, value] of this.orders) if (value === order) this.orders.delete(key);
    this.orders.set(order.order_ref ?? `mor:${order.merchant_order_ref}`, order);
  }
}

function emptyOrder(merchantOrderRef: string, now: string): DemoOrder {
  return {
    order_ref: null,
    merchant_order_ref: merchantOrderRef,
    kind: 'order',
    customer_id: null,
    customer_email: null,
    renewal_of: null,
    items: [],
    amount_minor: null,
    currency: null,
    state: 'pending',
    rejection_reason: null,
    created_at: now,
    updated_at: now,
    blocked_at: null,
    sold_at: null,
    released_at: null,
    rejected_at: null,
    oversold: 0,
    webhooks: [],
  };
}

function cloneProduct(product: DemoProduct): DemoProduct {
  return { ...product, ...(product.behavior ? { behavior: { ...product.behavior } } : {}) };
}

function cloneOrder(order: DemoOrder): DemoOrder {
  return { ...order, items: order.items.map((item) => ({ ...item })), webhooks: order.webhooks.map((row) => ({ ...row })) };
}

/** Validates a catalogue from PUT /admin/products; throws Error with a readable message. */
export function parseProducts(input: unknown): DemoProduct[] {
  const list = Array.isArray(input) ? input : (input as { products?: unknown } | null)?.products;
  if (!Array.isArray(list)) throw new Error('body must be an array of products or {"products":[...]}');
  const seen = new Set<string>();
  return list.map((raw: unknown, index) => {
    const at = `products[${index}]`;
    if (typeof raw !== 'object' || raw === null) throw new Error(`${at} must be an object`);
    const product = raw as Record<string, unknown>;
    const sku = product['sku'];
    if (typeof sku !== 'string' || sku === '') throw new Error(`${at}.sku must be a non-empty string`);
    if (seen.has(sku)) throw new Error(`${at}.sku ${sku} is duplicated`);
    seen.add(sku);
    const count = (field: string, required: boolean): number => {
      const value = product[field];
      if (value === undefined && !required) return 0;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
        throw new Error(`${at}.${field} must be a non-negative integer`);
      return value;
    };
    const currency = product['currency'];
    if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) throw new Error(`${at}.currency must be an ISO 4217 code`);
    const result: DemoProduct = {
      sku,
      name: typeof product['name'] === 'string' ? product['name'] : sku,
      unit_amount: count('unit_amount', true),
      currency,
      stock: count('stock', true),
      blocked: count('blocked', false),
      sold: count('sold', false),
    };
    const behavior = product['behavior'];
    if (behavior !== undefined && behavior !== null) result.behavior = parseBehavior(behavior, `${at}.behavior`);
    return result;
  });
}

function parseBehavior(raw: unknown, at: string): DemoProductBehavior {
  if (typeof raw !== 'object' || raw === null) throw new Error(`${at} must be an object`);
  const input = raw as Record<string, unknown>;
  const behavior: DemoProductBehavior = {};
  if (input['delayMs'] !== undefined) {
    if (typeof input['delayMs'] !== 'number' || !Number.isInteger(input['delayMs']) || input['delayMs'] < 0)
      throw new Error(`${at}.delayMs must be a non-negative integer`);
    behavior.delayMs = input['delayMs'];
  }
  if (input['status'] !== undefined) {
    if (
      typeof input['status'] !== 'number' ||
      !Number.isInteger(input['status']) ||
      input['status'] < 200 ||
      input['status'] > 599
    )
      throw new Error(`${at}.status must be an HTTP status 200-599`);
    behavior.status = input['status'];
  }
  for (const field of ['body', 'contentType', 'location'] as const) {
    if (input[field] !== undefined) {
      if (typeof input[field] !== 'string') throw new Error(`${at}.${field} must be a string`);
      behavior[field] = input[field];
    }
  }
  return behavior;
}

/**
 * In-memory port fakes for unit tests only (integration and e2e tests use DynamoDB Local and the
 * real state machine). They keep the same contract: conditional status moves, version checks.
 */
import type { Checkout, CheckoutEvent, Merchant } from '../../lambdas/domain/model';
import { ConcurrentModificationError, InvalidTransitionError } from '../../lambdas/errors';
import type {
  AuthorizeInput,
  CaptureInput,
  CheckoutRepository,
  CheckoutTransition,
  InventoryConfirmationRequest,
  InventoryConfirmer,
  InventoryDecision,
  MerchantRepository,
  PaymentGateway,
  RefundInput,
  SecretCipher,
  VoidInput,
  WebhookEndpoint,
  WebhookEndpointRepository,
  WebhookMessage,
  WebhookSender,
} from '../../lambdas/ports';

export class FakeCheckouts implements CheckoutRepository {
  readonly rows = new Map<string, Checkout>();
  readonly events: CheckoutEvent[] = [];
  private readonly dedupe = new Set<string>();

  async createCheckout(checkout: Checkout): Promise<void> {
    this.rows.set(checkout.id, structuredClone(checkout));
  }
  async getCheckout(id: string): Promise<Checkout | undefined> {
    const row = this.rows.get(id);
    return row ? structuredClone(row) : undefined;
  }
  async findCheckoutByOrderRef(merchantId: string, ref: string): Promise<Checkout | undefined> {
    return [...this.rows.values()].find((c) => c.merchantId === merchantId && c.merchantOrderRef === ref);
  }
  async transitionCheckout(t: CheckoutTransition): Promise<Checkout> {
    const row = this.rows.get(t.checkoutId);
    if (!row || !t.from.includes(row.status)) throw new InvalidTransitionError(`cannot move to ${t.to}`);
    if (t.expectedVersion !== undefined && row.version !== t.expectedVersion) throw new ConcurrentModificationError('version moved');
    const next: Checkout = { ...row, ...t.patch, status: t.to, version: row.version + 1, updatedAt: new Date().toISOString() };
    this.rows.set(row.id, next);
    if (t.event) this.events.push({ checkoutId: row.id, type: t.event.type, at: t.event.at ?? next.updatedAt, ...(t.event.data ? { data: t.event.data } : {}) });
    return structuredClone(next);
  }
  async updatePayment(id: string, payment: NonNullable<Checkout['payment']>, expectedVersion: number, event?: CheckoutTransition['event']): Promise<Checkout> {
    const row = this.rows.get(id);
    if (!row || row.version !== expectedVersion) throw new ConcurrentModificationError('version moved');
    const next = { ...row, payment, version: row.version + 1 };
    this.rows.set(id, next);
    if (event) this.events.push({ checkoutId: id, type: event.type, at: new Date().toISOString(), ...(event.data ? { data: event.data } : {}) });
    return structuredClone(next);
  }
  async appendEvent(event: CheckoutEvent, dedupeKey?: string): Promise<void> {
    if (dedupeKey) {
      if (this.dedupe.has(dedupeKey)) return;
      this.dedupe.add(dedupeKey);
    }
    this.events.push(event);
  }
  async listEvents(id: string): Promise<CheckoutEvent[]> {
    return this.events.filter((e) => e.checkoutId === id);
  }
}

export class FakeMerchants implements MerchantRepository {
  readonly rows = new Map<string, Merchant>();
  async createMerchant(m: Merchant): Promise<void> {
    this.rows.set(m.id, m);
  }
  async getMerchant(id: string): Promise<Merchant | undefined> {
    return this.rows.get(id);
  }
  async findMerchantBySecretKeyHash(hash: string): Promise<Merchant | undefined> {
    return [...this.rows.values()].find((m) => m.secretKeyHash === hash);
  }
  async updateSettings(id: string, settings: Merchant['settings']): Promise<Merchant> {
    const m = { ...this.rows.get(id)!, settings };
    this.rows.set(id, m);
    return m;
  }
}

type Call = { op: 'authorize' | 'capture' | 'void' | 'refund'; key: string; amount?: number };

/** Records calls; replays by idempotency key like a real PSP; behaviour set per test. */
export class FakeGateway implements PaymentGateway {
  readonly connector = 'fake';
  readonly calls: Call[] = [];
  readonly failNext: Partial<Record<Call['op'], Error[]>> = {};
  private fail(op: Call['op']): void {
    const error = this.failNext[op]?.shift();
    if (error) throw error;
  }
  async authorize(i: AuthorizeInput) {
    this.calls.push({ op: 'authorize', key: i.idempotencyKey, amount: i.amount });
    this.fail('authorize');
    return { pspReference: `auth_${i.reference}`, authorizedAmount: i.amount };
  }
  async capture(i: CaptureInput) {
    this.calls.push({ op: 'capture', key: i.idempotencyKey, amount: i.amount });
    this.fail('capture');
    return { pspOperationId: `cap_${i.reference}`, amount: i.amount };
  }
  async voidAuthorization(i: VoidInput) {
    this.calls.push({ op: 'void', key: i.idempotencyKey });
    this.fail('void');
    return { pspOperationId: `void_${i.reference}`, amount: 0 };
  }
  async refund(i: RefundInput) {
    this.calls.push({ op: 'refund', key: i.idempotencyKey, amount: i.amount });
    return { pspOperationId: `ref_${i.reference}`, amount: i.amount };
  }
}

export class FakeConfirmer implements InventoryConfirmer {
  readonly requests: InventoryConfirmationRequest[] = [];
  constructor(public decision: InventoryDecision = { outcome: 'confirmed', latencyMs: 5, httpStatus: 200 }) {}
  async confirmInventory(_url: string, request: InventoryConfirmationRequest): Promise<InventoryDecision> {
    this.requests.push(request);
    return this.decision;
  }
}

/** Reversible and visibly not plaintext: enough to prove callers decrypt before use. */
export const fakeCipher: SecretCipher = {
  encrypt: async (p) => `enc(${p})`,
  decrypt: async (c) => c.replace(/^enc\((.*)\)$/, '$1'),
};

export class FakeWebhookEndpoints implements WebhookEndpointRepository {
  readonly rows: WebhookEndpoint[] = [];
  async createEndpoint(e: WebhookEndpoint): Promise<void> {
    this.rows.push(e);
  }
  async listEndpoints(merchantId: string): Promise<WebhookEndpoint[]> {
    return this.rows.filter((e) => e.merchantId === merchantId);
  }
  async deleteEndpoint(merchantId: string, id: string): Promise<boolean> {
    const i = this.rows.findIndex((e) => e.merchantId === merchantId && e.id === id);
    if (i < 0) return false;
    this.rows.splice(i, 1);
    return true;
  }
}

export class FakeWebhookSender implements WebhookSender {
  readonly sent: { url: string; secret: string; message: WebhookMessage }[] = [];
  answers: boolean[] = [];
  async send(url: string, secret: string, message: WebhookMessage) {
    this.sent.push({ url, secret, message });
    const ok = this.answers.length > 0 ? this.answers.shift()! : true;
    return ok ? { ok, httpStatus: 204, latencyMs: 3 } : { ok, httpStatus: 500, latencyMs: 3, error: 'HTTP 500' };
  }
}

export function aMerchant(overrides: Partial<Merchant> = {}): Merchant {
  return {
    id: 'mer_1',
    name: 'Shop',
    merchantKey: 'mk_1',
    secretKeyHash: 'hash',
    signingSecretCiphertext: 'enc(whsec_signing)',
    settings: { inventoryConfirmationEnabled: true, inventoryConfirmationUrl: 'https://merchant.example/confirm' },
    createdAt: '2026-01-01T00:00:00.000Z',
    version: 1,
    ...overrides,
  };
}

export function aCheckout(overrides: Partial<Checkout> = {}): Checkout {
  return {
    id: 'chk_1',
    merchantId: 'mer_1',
    merchantOrderRef: 'order_ref_456',
    amount: 10050,
    currency: 'USD',
    items: [{ sku: 'sku-1', name: 'Mug', quantity: 2 }],
    successUrl: 'https://merchant.example/ok',
    failureUrl: 'https://merchant.example/ko',
    status: 'open',
    clientSecretHash: 'h',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2999-01-01T00:00:00.000Z',
    version: 1,
    ...overrides,
  };
}

/**
 * In-memory port fakes for unit tests only (integration and e2e tests use DynamoDB Local and the
 * real state machine). They keep the same contract: conditional status moves, version checks.
 */
import type { Checkout, CheckoutEvent, Merchant } from '../../lambdas/domain/model';
import type { BalanceChange, FinancialInstrument, InstrumentOperation } from '../../lambdas/domain/instrument-model';
import { applyChange, guardHolds, type ReservationGuard } from '../../lambdas/domain/instrument-ledger';
import {
  ConcurrentModificationError,
  InstrumentMissingError,
  InvalidTransitionError,
  PspRejectedError,
} from '../../lambdas/errors';
import type { AuthorizationHold } from '../../lambdas/domain/authorization-hold';
import type { PspAuthorizationRecord } from '../../lambdas/domain/psp-outcome';
import type { WebhookDelivery } from '../../lambdas/domain/webhook-delivery';
import type { WebhookEndpoint } from '../../lambdas/domain/webhook-endpoint';
import type { StoredEvent } from '../../lambdas/domain/webhook-events';
import type { AuthorizationHoldStore } from '../../lambdas/ports/authorization-holds';
import type { PspCallbackReceipt, PspCallbackStore } from '../../lambdas/ports/callbacks';
import type { CheckoutRepository, CheckoutTransition } from '../../lambdas/ports/checkouts';
import type { AttemptCompletion, EventListQuery, EventStore, EventWithDeliveries } from '../../lambdas/ports/events';
import type {
  CreateInstrumentResult,
  InstrumentRepository,
  ReserveOperationResult,
  SettleOperationInput,
} from '../../lambdas/ports/instruments';
import type { InventoryConfirmationRequest, InventoryConfirmer, InventoryDecision } from '../../lambdas/ports/inventory';
import type { MerchantRepository } from '../../lambdas/ports/merchants';
import type {
  AuthorizeInput,
  CaptureInput,
  ConnectorGateways,
  PaymentGateway,
  PspAuthorizationView,
  RefundInput,
  VoidInput,
} from '../../lambdas/ports/payments';
import type { SecretCipher } from '../../lambdas/ports/secrets';
import type { WebhookEndpointRepository, WebhookMessage, WebhookSender, WebhookAttempt } from '../../lambdas/ports/webhooks';
import type { TaskTokenResumer } from '../../lambdas/ports/workflow';
import { isForwardTransition } from '../../lambdas/domain/psp-outcome';

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
    if (t.expectedVersion !== undefined && row.version !== t.expectedVersion)
      throw new ConcurrentModificationError('version moved');
    const next: Checkout = {
      ...row,
      ...t.patch,
      ...(t.payRequest !== undefined ? { payRequests: [...(row.payRequests ?? []), t.payRequest] } : {}),
      status: t.to,
      version: row.version + 1,
      updatedAt: new Date().toISOString(),
    };
    this.rows.set(row.id, next);
    if (t.event)
      this.events.push({
        checkoutId: row.id,
        type: t.event.type,
        at: t.event.at ?? next.updatedAt,
        ...(t.event.data ? { data: t.event.data } : {}),
      });
    for (const extra of t.events ?? [])
      this.events.push({
        checkoutId: row.id,
        type: extra.type,
        at: extra.at ?? next.updatedAt,
        ...(extra.data ? { data: extra.data } : {}),
      });
    return structuredClone(next);
  }
  async updatePayment(
    id: string,
    payment: NonNullable<Checkout['payment']>,
    expectedVersion: number,
    event?: CheckoutTransition['event'],
  ): Promise<Checkout> {
    const row = this.rows.get(id);
    if (!row || row.version !== expectedVersion) throw new ConcurrentModificationError('version moved');
    const next = { ...row, payment, version: row.version + 1 };
    this.rows.set(id, next);
    if (event)
      this.events.push({
        checkoutId: id,
        type: event.type,
        at: new Date().toISOString(),
        ...(event.data ? { data: event.data } : {}),
      });
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
  async updateRouting(id: string, routing: NonNullable<Merchant['routing']>): Promise<Merchant> {
    const m = { ...this.rows.get(id)!, routing };
    this.rows.set(id, m);
    return m;
  }
  async updateConnectorAccounts(id: string, connectorAccounts: NonNullable<Merchant['connectorAccounts']>): Promise<Merchant> {
    const m = { ...this.rows.get(id)!, connectorAccounts };
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
    this.fail('refund');
    return { pspOperationId: `ref_${i.reference}`, amount: i.amount };
  }
  /** Authorizations tests register for `authorized`/`captured` instruments; unknown ones are refused like a 404. */
  readonly authorizations = new Map<string, PspAuthorizationView>();
  async getAuthorization(pspReference: string): Promise<PspAuthorizationView> {
    const view = this.authorizations.get(pspReference);
    if (!view) throw new PspRejectedError(`no authorization ${pspReference}`);
    return view;
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
    return this.rows.filter((e) => e.merchantId === merchantId).map((e) => ({ ...e }));
  }
  async deleteEndpoint(merchantId: string, id: string): Promise<boolean> {
    const i = this.rows.findIndex((e) => e.merchantId === merchantId && e.id === id);
    if (i < 0) return false;
    this.rows.splice(i, 1);
    return true;
  }
  async getEndpoint(merchantId: string, id: string): Promise<WebhookEndpoint | undefined> {
    const row = this.rows.find((e) => e.merchantId === merchantId && e.id === id);
    return row ? { ...row } : undefined;
  }
  async rotateSecret(
    merchantId: string,
    id: string,
    rotation: { secretCiphertext: string; previousSecretCiphertext: string; previousSecretExpiresAt: string },
  ): Promise<WebhookEndpoint | undefined> {
    const row = this.rows.find((e) => e.merchantId === merchantId && e.id === id);
    if (!row || row.secretCiphertext !== rotation.previousSecretCiphertext) return undefined;
    Object.assign(row, rotation);
    return { ...row };
  }
  async disableEndpoint(merchantId: string, id: string, reason: string): Promise<void> {
    const row = this.rows.find((e) => e.merchantId === merchantId && e.id === id);
    if (row) Object.assign(row, { status: 'disabled', disabledReason: reason });
  }
}

/** Answers: `true`/`false` (204 / 500) or a full attempt; default 204. */
export class FakeWebhookSender implements WebhookSender {
  readonly sent: { url: string; secret: string; secrets: string[]; message: WebhookMessage }[] = [];
  answers: (boolean | WebhookAttempt)[] = [];
  async send(url: string, secret: string | readonly string[], message: WebhookMessage): Promise<WebhookAttempt> {
    const secrets = typeof secret === 'string' ? [secret] : [...secret];
    this.sent.push({ url, secret: secrets[0]!, secrets, message });
    const answer = this.answers.length > 0 ? this.answers.shift()! : true;
    if (typeof answer !== 'boolean') return answer;
    return answer ? { ok: true, httpStatus: 204, latencyMs: 3 } : { ok: false, httpStatus: 500, latencyMs: 3, error: 'HTTP 500' };
  }
}

/** EventStore with the same lease rules as DynamoEventStore (claim: pending and due; complete: on the token). */
export class FakeEventStore implements EventStore {
  readonly events = new Map<string, StoredEvent>();
  readonly deliveries = new Map<string, WebhookDelivery & { leaseToken?: string }>();
  private key(eventId: string, endpointId: string): string {
    return `${eventId}#${endpointId}`;
  }
  async createEvent(event: StoredEvent, deliveries: readonly WebhookDelivery[]): Promise<boolean> {
    if (this.events.has(event.id)) return false;
    this.events.set(event.id, structuredClone(event));
    for (const d of deliveries) this.deliveries.set(this.key(d.eventId, d.endpointId), structuredClone(d));
    return true;
  }
  /** Ids written by createEvents, per call (to assert that a re-run writes nothing). */
  readonly createdBatches: string[][] = [];
  /** Set to make the next createEvents throw (a crash or store outage before the first attempts are recorded). */
  failNextCreate: Error | undefined;
  async createEvents(entries: readonly { event: StoredEvent; deliveries: readonly WebhookDelivery[] }[]): Promise<string[]> {
    if (this.failNextCreate) {
      const failure = this.failNextCreate;
      this.failNextCreate = undefined;
      throw failure;
    }
    const created: string[] = [];
    for (const { event, deliveries } of entries) if (await this.createEvent(event, deliveries)) created.push(event.id);
    this.createdBatches.push(created);
    return created;
  }
  async getEvents(eventIds: readonly string[]): Promise<EventWithDeliveries[]> {
    const found = await Promise.all(eventIds.map((id) => this.getEvent(id)));
    return found.filter((entry): entry is EventWithDeliveries => entry !== undefined);
  }
  async getEvent(eventId: string, merchantId?: string): Promise<EventWithDeliveries | undefined> {
    const event = this.events.get(eventId);
    if (!event || (merchantId !== undefined && event.merchantId !== merchantId)) return undefined;
    const deliveries = [...this.deliveries.values()]
      .filter((d) => d.eventId === eventId)
      .map(({ leaseToken: _lease, ...d }) => structuredClone(d));
    return { event: structuredClone(event), deliveries };
  }
  async listEvents(merchantId: string, query: EventListQuery): Promise<{ events: EventWithDeliveries[] }> {
    const mine = [...this.events.values()]
      .filter((e) => e.merchantId === merchantId && (query.type === undefined || e.type === query.type))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, query.limit);
    return { events: await Promise.all(mine.map(async (e) => (await this.getEvent(e.id))!)) };
  }
  async listDueDeliveries(now: Date, limit: number): Promise<{ eventId: string; endpointId: string }[]> {
    return [...this.deliveries.values()]
      .filter((d) => d.status === 'pending' && d.nextAttemptAt <= now.toISOString())
      .sort((a, b) => a.nextAttemptAt.localeCompare(b.nextAttemptAt))
      .slice(0, limit)
      .map((d) => ({ eventId: d.eventId, endpointId: d.endpointId }));
  }
  async claimDelivery(
    eventId: string,
    endpointId: string,
    now: Date,
    leaseUntil: Date,
    leaseToken: string,
  ): Promise<WebhookDelivery | undefined> {
    const row = this.deliveries.get(this.key(eventId, endpointId));
    if (!row || row.status !== 'pending' || row.nextAttemptAt > now.toISOString()) return undefined;
    row.nextAttemptAt = leaseUntil.toISOString();
    row.leaseToken = leaseToken;
    const { leaseToken: _lease, ...delivery } = row;
    return structuredClone(delivery);
  }
  async completeAttempt(eventId: string, endpointId: string, leaseToken: string, outcome: AttemptCompletion): Promise<boolean> {
    const row = this.deliveries.get(this.key(eventId, endpointId));
    if (!row || row.leaseToken !== leaseToken) return false;
    delete row.leaseToken;
    Object.assign(row, {
      status: outcome.status,
      attempt: outcome.attempt,
      nextAttemptAt: outcome.nextAttemptAt,
      updatedAt: outcome.now,
    });
    if (outcome.record) row.attempts.push(structuredClone(outcome.record));
    return true;
  }
  async requeueDelivery(eventId: string, endpointId: string, merchantId: string, now: Date): Promise<void> {
    const key = this.key(eventId, endpointId);
    const row = this.deliveries.get(key) ?? {
      eventId,
      endpointId,
      merchantId,
      status: 'pending',
      attempt: 0,
      nextAttemptAt: '',
      attempts: [],
      updatedAt: '',
    };
    delete row.leaseToken;
    Object.assign(row, { status: 'pending', attempt: 0, nextAttemptAt: now.toISOString(), updatedAt: now.toISOString() });
    this.deliveries.set(key, row);
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

/** Instruments in memory, with the DynamoDB adapter's rules (guard re-checked at write time, settle only once). */
export class FakeInstruments implements InstrumentRepository {
  readonly rows = new Map<string, FinancialInstrument>();
  readonly claims = new Map<string, string>();
  async createInstrument(instrument: FinancialInstrument): Promise<CreateInstrumentResult> {
    const existing = this.rows.get(instrument.id);
    if (existing) return { kind: 'exists', instrument: structuredClone(existing) };
    if (instrument.pspReference) {
      const owner = this.claims.get(instrument.pspReference);
      if (owner) return { kind: 'psp_reference_taken', instrumentId: owner };
      this.claims.set(instrument.pspReference, instrument.id);
    }
    this.rows.set(instrument.id, structuredClone(instrument));
    return { kind: 'created', instrument: structuredClone(instrument) };
  }
  async getInstrument(id: string): Promise<FinancialInstrument | undefined> {
    const row = this.rows.get(id);
    return row ? structuredClone(row) : undefined;
  }
  async reserveOperation(
    id: string,
    operation: InstrumentOperation,
    guard: ReservationGuard,
    now: Date,
  ): Promise<ReserveOperationResult> {
    const row = this.rows.get(id);
    if (!row) throw new Error(`no instrument ${id}`);
    if (row.operations[operation.id]) return { kind: 'exists', instrument: structuredClone(row) };
    if (!guardHolds(row, guard)) return { kind: 'refused', instrument: structuredClone(row) };
    const next = applyChange(row, operation.reservation);
    next.operations = { ...row.operations, [operation.id]: structuredClone(operation) };
    next.version = row.version + 1;
    next.updatedAt = now.toISOString();
    this.rows.set(id, next);
    return { kind: 'reserved', instrument: structuredClone(next) };
  }
  async reserveAndSettleOperation(
    id: string,
    settled: InstrumentOperation,
    change: BalanceChange,
    guard: ReservationGuard,
    now: Date,
  ): Promise<ReserveOperationResult> {
    const row = this.rows.get(id);
    if (!row) throw new Error(`no instrument ${id}`);
    if (row.operations[settled.id]) return { kind: 'exists', instrument: structuredClone(row) };
    if (!guardHolds(row, guard)) return { kind: 'refused', instrument: structuredClone(row) };
    const next = applyChange(row, change);
    next.operations = { ...row.operations, [settled.id]: structuredClone(settled) };
    next.version = row.version + 1;
    next.updatedAt = now.toISOString();
    this.rows.set(id, next);
    return { kind: 'reserved', instrument: structuredClone(next) };
  }
  async findInstrumentIdByPspReference(_connector: string, pspReference: string): Promise<string | undefined> {
    return this.claims.get(pspReference);
  }
  async settleOperation(input: SettleOperationInput, now: Date): Promise<FinancialInstrument> {
    const row = this.rows.get(input.instrumentId);
    if (!row) throw new Error(`no instrument ${input.instrumentId}`);
    const operation = row.operations[input.operationId];
    if (!operation || operation.status !== 'pending') return structuredClone(row);
    const next = applyChange(row, input.change);
    next.operations = { ...row.operations, [operation.id]: { ...operation, ...input.patch } };
    if (input.pspReference) next.pspReference = input.pspReference;
    next.version = row.version + 1;
    next.updatedAt = now.toISOString();
    this.rows.set(row.id, next);
    return structuredClone(next);
  }
}

// ---- PSP callbacks (issue 6) ----------------------------------------------------------------------

/** PspCallbackStore in memory, with the same forward-only rule the DynamoDB condition enforces. */
export class FakePspCallbackStore implements PspCallbackStore {
  readonly receipts = new Map<string, PspCallbackReceipt>();
  readonly records = new Map<string, PspAuthorizationRecord>();

  async hasCallback(connector: string, callbackId: string): Promise<boolean> {
    return this.receipts.has(`${connector}#${callbackId}`);
  }
  async recordCallback(receipt: PspCallbackReceipt): Promise<boolean> {
    const key = `${receipt.connector}#${receipt.callbackId}`;
    if (this.receipts.has(key)) return false;
    this.receipts.set(key, receipt);
    return true;
  }
  async getAuthorizationRecord(connector: string, reference: string) {
    const record = this.records.get(`${connector}#${reference}`);
    return record === undefined ? undefined : { ...record };
  }
  async advanceAuthorization(next: Omit<PspAuthorizationRecord, 'taskToken' | 'updatedAt'>, now: Date) {
    const key = `${next.connector}#${next.reference}`;
    const current = this.records.get(key);
    if (current !== undefined && !isForwardTransition(current.state, next.state))
      return { applied: false, record: { ...current } };
    const record = { ...current, ...next, updatedAt: now.toISOString() };
    this.records.set(key, record);
    return { applied: true, record: { ...record } };
  }
  async registerTaskToken(
    connector: string,
    reference: string,
    taskToken: string,
    defaults: { amount: number; currency: string; authorizationId?: string },
    now: Date,
  ) {
    const key = `${connector}#${reference}`;
    const record = {
      connector,
      reference,
      state: 'pending' as const,
      ...defaults,
      ...this.records.get(key),
      taskToken,
      updatedAt: now.toISOString(),
    };
    this.records.set(key, record);
    return { ...record };
  }
  async clearTaskToken(connector: string, reference: string, taskToken: string): Promise<void> {
    const record = this.records.get(`${connector}#${reference}`);
    if (record?.taskToken === taskToken) delete record.taskToken;
  }
}

/** Records SendTask* calls; `accept` false plays a token that is no longer waiting. */
export class FakeResumer implements TaskTokenResumer {
  readonly calls: { kind: 'succeed' | 'fail' | 'heartbeat'; token: string; output?: Record<string, unknown> }[] = [];
  accept = true;
  async succeed(token: string, output: Record<string, unknown>): Promise<boolean> {
    this.calls.push({ kind: 'succeed', token, output });
    return this.accept;
  }
  async fail(token: string): Promise<boolean> {
    this.calls.push({ kind: 'fail', token });
    return this.accept;
  }
  async heartbeat(token: string): Promise<boolean> {
    this.calls.push({ kind: 'heartbeat', token });
    return this.accept;
  }
}

// ---- Manual capture: authorization holds (issue 6, delayed capture) --------------------------------

/**
 * AuthorizationHoldStore in memory, with the DynamoDB adapter's rules: the hand-over activates the
 * saga's pending instrument and writes the hold together (or neither), stage moves are conditional
 * on the stage, the lease is conditional on no live lease.
 */
export class FakeAuthorizationHolds implements AuthorizationHoldStore {
  readonly holds = new Map<string, AuthorizationHold>();
  constructor(private readonly instruments: FakeInstruments) {}
  async holdAuthorization(hold: AuthorizationHold, now: Date): Promise<void> {
    const existing = this.holds.get(hold.instrumentId);
    if (existing?.checkoutId === hold.checkoutId) return;
    const row = this.instruments.rows.get(hold.instrumentId);
    if (!row || row.status !== 'pending' || row.checkoutId !== hold.checkoutId || existing) {
      throw new InstrumentMissingError(`Instrument ${hold.instrumentId} is no longer held by the saga of ${hold.checkoutId}`);
    }
    this.instruments.rows.set(row.id, { ...row, status: 'active', version: row.version + 1, updatedAt: now.toISOString() });
    this.holds.set(hold.instrumentId, structuredClone(hold));
  }
  async getHold(instrumentId: string): Promise<AuthorizationHold | undefined> {
    const hold = this.holds.get(instrumentId);
    return hold ? structuredClone(hold) : undefined;
  }
  async listDueHolds(now: Date, limit: number): Promise<string[]> {
    return [...this.holds.values()]
      .filter(
        (hold) => hold.stage !== 'done' && Date.parse(hold.stage === 'held' ? hold.warnAt : hold.expiresAt) <= now.getTime(),
      )
      .slice(0, limit)
      .map((hold) => hold.instrumentId);
  }
  async advanceHold(
    instrumentId: string,
    from: AuthorizationHold['stage'],
    to: AuthorizationHold['stage'],
    _now: Date,
    outcome?: string,
  ): Promise<boolean> {
    const hold = this.holds.get(instrumentId);
    if (!hold || hold.stage !== from) return false;
    this.holds.set(instrumentId, { ...hold, stage: to, ...(to === 'done' ? { outcome: outcome ?? 'done' } : {}) });
    return true;
  }
  async claimHold(instrumentId: string, owner: string, now: Date, leaseUntil: Date): Promise<boolean> {
    const hold = this.holds.get(instrumentId);
    if (!hold || hold.stage === 'done') return false;
    if (hold.leaseUntil !== undefined && Date.parse(hold.leaseUntil) >= now.getTime() && hold.leaseOwner !== owner) return false;
    this.holds.set(instrumentId, { ...hold, leaseUntil: leaseUntil.toISOString(), leaseOwner: owner });
    return true;
  }
}

/**
 * The gateways of a use case wired with one fake connector: `gateway` (the default) and the
 * `gateways` map that knows only its connector (another id throws, as the registry does).
 */
export function oneConnector<G extends PaymentGateway>(gateway: G): { gateway: G; gateways: ConnectorGateways } {
  return {
    gateway,
    gateways: (id) => {
      if (id !== gateway.connector) throw new Error(`Unknown connector ${id}`);
      return gateway;
    },
  };
}

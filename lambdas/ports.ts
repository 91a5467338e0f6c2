/**
 * The ports: what the use cases need from the outside world, as interfaces. Adapters in
 * lambdas/adapters/ implement them (DynamoDB, merchant HTTP calls,
 * Step Functions); unit tests implement them with fakes. Handlers wire adapters once at module
 * scope.
 */
import type { Checkout, CheckoutEvent, CheckoutStatus, FailureReason, Merchant, MerchantSettings } from './domain/model';
import type { BalanceChange, FinancialInstrument, InstrumentOperation } from './domain/instrument-model';
import type { ReservationGuard } from './domain/instrument-ledger';
import type { PspAuthorizationState, PspCallback } from './domain/psp-outcome';
import type { AuthorizationHoldStage } from './domain/authorization-hold';

// ---- Storage --------------------------------------------------------------------------------

export interface MerchantRepository {
  /** Stores the merchant and its secret-key lookup item in one transaction. */
  createMerchant(merchant: Merchant): Promise<void>;
  getMerchant(merchantId: string): Promise<Merchant | undefined>;
  /** Finds the merchant whose secret key hashes to `secretKeyHash` (sha256 hex). */
  findMerchantBySecretKeyHash(secretKeyHash: string): Promise<Merchant | undefined>;
  /** Conditional on `expectedVersion`; throws ConcurrentModificationError if it moved. */
  updateSettings(merchantId: string, settings: MerchantSettings, expectedVersion: number): Promise<Merchant>;
}

export interface CheckoutTransition {
  checkoutId: string;
  /** The write only happens if the stored status is one of these. */
  from: readonly CheckoutStatus[];
  to: CheckoutStatus;
  /** Extra fields to set in the same conditional write. */
  patch?: Partial<Pick<Checkout, 'failureReason' | 'failureMessage' | 'payment' | 'executionArn'>>;
  /** Also require this version (optimistic lock); omit to condition on status only. */
  expectedVersion?: number;
  /** Timeline row written in the same transaction. */
  event?: Omit<CheckoutEvent, 'checkoutId' | 'at'> & { at?: string };
}

export interface CheckoutRepository {
  /**
   * Creates the checkout and claims (merchantId, merchantOrderRef) in one transaction; throws
   * DuplicateOrderRefError when the ref is taken. Also writes the `created` timeline row.
   */
  createCheckout(checkout: Checkout): Promise<void>;
  getCheckout(checkoutId: string): Promise<Checkout | undefined>;
  findCheckoutByOrderRef(merchantId: string, merchantOrderRef: string): Promise<Checkout | undefined>;
  /**
   * Moves the status with a conditional write (status in `from`, and version if given), bumps
   * the version, and writes the timeline event in the same transaction. Returns the new record,
   * or throws InvalidTransitionError (status not in `from`) / ConcurrentModificationError.
   */
  transitionCheckout(transition: CheckoutTransition): Promise<Checkout>;
  /**
   * Updates `payment` without changing the status, conditional on the current version.
   * Used by saga steps to record PSP references and captured amounts.
   */
  updatePayment(
    checkoutId: string,
    payment: NonNullable<Checkout['payment']>,
    expectedVersion: number,
    event?: CheckoutTransition['event'],
  ): Promise<Checkout>;
  /** Appends a timeline row (idempotent when `dedupeKey` is given: a second write is a no-op). */
  appendEvent(event: CheckoutEvent, dedupeKey?: string): Promise<void>;
  listEvents(checkoutId: string): Promise<CheckoutEvent[]>;
}

export interface CheckoutListQuery {
  /** Page size (the API allows 1..100). */
  limit: number;
  /** Opaque `next_cursor` from the previous page. */
  cursor?: string;
}

export interface CheckoutListPage {
  /** Newest first. */
  checkouts: Checkout[];
  /** Present when there may be more; pass it back as `cursor`. */
  nextCursor?: string;
}

/** Read-side queries over a merchant's checkouts (kept apart so CheckoutRepository fakes stay small). */
export interface CheckoutQueries {
  listCheckoutsByMerchant(merchantId: string, query: CheckoutListQuery): Promise<CheckoutListPage>;
}

export interface StoredResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type IdempotencyBegin =
  /** `claim` identifies this request's hold on the key: complete and release act only with it. */
  | { kind: 'started'; claim?: string }
  | { kind: 'replay'; response: StoredResponse }
  /** `lockedUntil` (epoch ms): when an abandoned claim may be taken over by a retry. */
  | { kind: 'in_flight'; lockedUntil?: number }
  /** The key is bound to another method, route or path id (hardening rule): 422. */
  | { kind: 'mismatch' };

export interface IdempotencyStore {
  /**
   * Claims (scope, key) with a conditional put; an expired in-progress claim may be taken over.
   * `binding` (method, route and path ids) is stored with the key; a later request with the same
   * key and another binding gets `mismatch`.
   */
  begin(scope: string, key: string, now: Date, binding?: string): Promise<IdempotencyBegin>;
  /** Stores the response, only while `claim` (from begin) still holds the key. */
  complete(scope: string, key: string, response: StoredResponse, claim?: string): Promise<void>;
  /** Releases the claim after a failure that should not be replayed (5xx), only while `claim` holds it. */
  release(scope: string, key: string, claim?: string): Promise<void>;
}

// ---- Payment service provider ---------------------------------------------------------------

export interface AuthorizeInput {
  reference: string; // checkout id
  paymentToken: string;
  amount: number;
  currency: string;
  idempotencyKey: string;
}

export interface AuthorizeOutput {
  pspReference: string;
  authorizedAmount: number;
  /** The PSP answered "pending": the result arrives later by callback (authorizedAmount is 0 until then). */
  pending?: boolean;
}

export interface CaptureInput {
  reference: string;
  pspReference: string;
  amount: number;
  currency: string;
  idempotencyKey: string;
}

export interface VoidInput {
  reference: string;
  pspReference: string;
  idempotencyKey: string;
}

export type RefundInput = CaptureInput;

export interface PspOperationOutput {
  pspOperationId: string;
  amount: number;
}

/**
 * A payment service provider. Errors are translated at the adapter: PaymentDeclinedError,
 * PspRejectedError (non-transient), PspUnavailableError / PspTimeoutError (transient).
 */
export interface PaymentGateway {
  readonly connector: string;
  authorize(input: AuthorizeInput): Promise<AuthorizeOutput>;
  capture(input: CaptureInput): Promise<PspOperationOutput>;
  voidAuthorization(input: VoidInput): Promise<PspOperationOutput>;
  refund(input: RefundInput): Promise<PspOperationOutput>;
  /** Reads an authorization's amounts (validating `authorized`/`captured` instruments). Unknown reference: PspRejectedError. */
  getAuthorization(pspReference: string): Promise<PspAuthorizationView>;
  /**
   * The PSP's authorizations filed under `reference` (our checkout id): how recovery finds an
   * authorization whose id we never learned (the answer was lost). Optional: fakes may omit it.
   */
  findAuthorizations?(reference: string): Promise<PspAuthorizationView[]>;
}

/** One PSP authorization as its connector reports it, in the domain's words. */
export interface PspAuthorizationView {
  id: string;
  /** The connector's status mapped onto the domain's states; undefined when it means nothing to us. */
  state: PspAuthorizationState | undefined;
  /** The connector's own status word, kept only for the timeline (`psp_status`). */
  pspStatus: string;
  amount: number;
  currency: string;
  /** What the PSP files it under (the checkout or instrument id); must be passed back on every operation. */
  reference: string;
  capturedAmount: number;
  refundedAmount: number;
  capturableAmount: number;
  refundableAmount: number;
}

// ---- Connectors (lambdas/connectors/<id>/, chosen in lambdas/connectors/registry.ts) ------------

export interface CallbackReadInput {
  /** The exact bytes the PSP signed. */
  rawBody: string;
  /** Header names lower-cased. */
  headers: Readonly<Record<string, string>>;
  now: Date;
  toleranceSeconds?: number;
}

export type CallbackReading =
  | { kind: 'callback'; callback: PspCallback }
  | { kind: 'bad_signature'; reason: string }
  | { kind: 'invalid_json' }
  | { kind: 'invalid_callback' };

/** Verifies and parses one callback with the connector's own signature scheme and JSON. */
export interface CallbackReader {
  read(input: CallbackReadInput): CallbackReading;
}

// ---- Merchant ---------------------------------------------------------------------------------

export interface InventoryConfirmationRequest {
  merchant_key: string;
  merchant_order_ref: string;
  order_ref: string; // checkout id
  amount: number; // major units, seed compatibility
  amount_minor: number;
  currency: string;
  items: { sku: string; name?: string; quantity: number }[];
}

export type InventoryDecision =
  | { outcome: 'confirmed'; latencyMs: number; httpStatus: number }
  | {
      outcome: 'rejected';
      reason: Extract<FailureReason, 'inventory_rejected' | 'inventory_timeout' | 'inventory_unreachable'>;
      message: string;
      latencyMs: number;
      httpStatus?: number;
    };

/**
 * Calls the merchant's inventory-confirmation endpoint once (never retried), 10 s timeout at most;
 * `options.timeoutMs` shortens it to the time the saga step has left.
 */
export interface InventoryConfirmer {
  confirmInventory(
    url: string,
    request: InventoryConfirmationRequest,
    signingSecret: string,
    /** allowedPorts: the merchant's `allowed_ports` setting (ports besides 443/80 its URL may use). */
    options?: { timeoutMs?: number; allowedPorts?: readonly number[] },
  ): Promise<InventoryDecision>;
}

// ---- Workflow ---------------------------------------------------------------------------------

export interface StartPaymentInput {
  /** Execution name, derived from the checkout id (same name twice starts nothing new). */
  name: string;
  input: { checkoutId: string };
}

export interface PaymentWorkflow {
  /** Starts the saga; idempotent per name (an existing execution with that name is success). */
  startPayment(input: StartPaymentInput): Promise<{ executionArn: string; alreadyStarted: boolean }>;
}

// ---- Secrets ------------------------------------------------------------------------------------

/** Encrypts secrets we must be able to use later (signing secrets). Hash what you only compare. */
export interface SecretCipher {
  encrypt(plaintext: string): Promise<string>;
  decrypt(ciphertext: string): Promise<string>;
}

// ---- Merchant webhooks ------------------------------------------------------------------------

export interface WebhookEndpoint {
  id: string; // we_...
  merchantId: string;
  url: string;
  /** Event types this endpoint receives; `['*']` for all. */
  enabledEvents: string[];
  /** The whsec_ signing secret, encrypted at rest (SecretCipher). */
  secretCiphertext: string;
  /** After a rotation: the previous secret, still signed with until `previousSecretExpiresAt`. */
  previousSecretCiphertext?: string;
  previousSecretExpiresAt?: string;
  status: 'enabled' | 'disabled';
  /** Why it was disabled (e.g. the receiver answered 410 Gone). */
  disabledReason?: string;
  description?: string;
  /** The API version its deliveries are rendered for (lambdas/domain/api-version.ts); absent = the latest. */
  apiVersion?: string;
  createdAt: string;
}

export interface WebhookEndpointRepository {
  /** With `maxPerMerchant`, enforces the cap atomically (ConflictError `too_many_endpoints`). */
  createEndpoint(endpoint: WebhookEndpoint, options?: { maxPerMerchant?: number }): Promise<void>;
  listEndpoints(merchantId: string): Promise<WebhookEndpoint[]>;
  /** Conditional delete: only the owning merchant's endpoint; false if none matched. */
  deleteEndpoint(merchantId: string, endpointId: string): Promise<boolean>;
  getEndpoint(merchantId: string, endpointId: string): Promise<WebhookEndpoint | undefined>;
  /** Replaces the secret, keeping the previous one until `previousSecretExpiresAt`; undefined if no such endpoint. */
  rotateSecret(
    merchantId: string,
    endpointId: string,
    rotation: { secretCiphertext: string; previousSecretCiphertext: string; previousSecretExpiresAt: string },
  ): Promise<WebhookEndpoint | undefined>;
  /** Marks the endpoint disabled (410 Gone from the receiver); a no-op if it is gone. */
  disableEndpoint(merchantId: string, endpointId: string, reason: string): Promise<void>;
}

export interface WebhookMessage {
  /** `webhook-id`: the event id, identical on every retry so receivers can dedupe. */
  id: string;
  /** Unix seconds used for `webhook-timestamp`. */
  timestamp: Date;
  body: string;
  /** The endpoint's pinned API version, sent as the `Paystep-Version` header. */
  apiVersion?: string;
}

export interface WebhookAttempt {
  ok: boolean;
  httpStatus?: number;
  latencyMs: number;
  error?: string;
  responseExcerpt?: string;
  /** The receiver's Retry-After header, raw (the schedule bounds it). */
  retryAfter?: string;
}

/**
 * POSTs one signed Standard Webhooks message; never follows redirects; 15 s timeout. With several
 * secrets (a rotation's overlap) `webhook-signature` carries one `v1,<sig>` per secret.
 */
export interface WebhookSender {
  /** options.allowedPorts: the merchant's `allowed_ports` setting (ports besides 443/80 its URL may use). */
  send(
    url: string,
    secret: string | readonly string[],
    message: WebhookMessage,
    options?: { allowedPorts?: readonly number[] },
  ): Promise<WebhookAttempt>;
}

// ---- Events and their deliveries ------------------------------------------------------------

/** One event in a merchant's log (GET /v1/events); its body is what every delivery sends. */
export interface StoredEvent {
  id: string; // evt_...
  merchantId: string;
  type: string;
  /** Unix seconds (the body's `created`). */
  created: number;
  createdAt: string;
  /** The id of the resource in data.object (chk_..., fi_...), for filtering. */
  objectId?: string;
  /** Set for checkout events: delivery attempts are also written to this checkout's timeline. */
  checkoutId?: string;
  /** The exact JSON body sent on every attempt. */
  body: string;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'dead_lettered' | 'disabled';

/** One HTTP attempt of one delivery, as GET /v1/events shows it. */
export interface DeliveryAttemptRecord {
  /** 1-based over the delivery's life (redeliveries continue the count). */
  number: number;
  at: string;
  ok: boolean;
  httpStatus?: number;
  latencyMs: number;
  error?: string;
  responseExcerpt?: string;
}

/** The delivery of one event to one endpoint: at-least-once, state persisted between attempts. */
export interface WebhookDelivery {
  eventId: string;
  endpointId: string;
  merchantId: string;
  status: WebhookDeliveryStatus;
  /** Attempts made in the current schedule round (a redelivery starts a new round at 0). */
  attempt: number;
  /** When the next attempt is due (pending), or when the last lease ends. ISO 8601. */
  nextAttemptAt: string;
  attempts: DeliveryAttemptRecord[];
  updatedAt: string;
}

export interface EventWithDeliveries {
  event: StoredEvent;
  deliveries: WebhookDelivery[];
}

export interface EventListQuery {
  limit: number;
  cursor?: string;
  type?: string;
}

/**
 * Events and their per-endpoint deliveries. Claiming a due delivery is a conditional write (a
 * lease: the claim moves nextAttemptAt to the lease's end), so concurrent dispatchers never send
 * the same attempt twice, and a dispatcher that crashes mid-attempt only delays the retry.
 */
export interface EventStore {
  /** Stores the event and its pending deliveries in one transaction; false (and no write) if the id exists. */
  createEvent(event: StoredEvent, deliveries: readonly WebhookDelivery[]): Promise<boolean>;
  /** The event with its deliveries; scoped to the merchant when `merchantId` is given. */
  getEvent(eventId: string, merchantId?: string): Promise<EventWithDeliveries | undefined>;
  /** Newest first. */
  listEvents(merchantId: string, query: EventListQuery): Promise<{ events: EventWithDeliveries[]; nextCursor?: string }>;
  /** Keys of pending deliveries whose nextAttemptAt <= now (eventually consistent; claim to be sure). */
  listDueDeliveries(now: Date, limit: number): Promise<{ eventId: string; endpointId: string }[]>;
  /** Conditional: pending and due. Sets the lease; returns the delivery, or undefined if someone else has it. */
  claimDelivery(
    eventId: string,
    endpointId: string,
    now: Date,
    leaseUntil: Date,
    leaseToken: string,
  ): Promise<WebhookDelivery | undefined>;
  /** Conditional on the lease token: records the attempt and the next state. False if the lease was lost. */
  completeAttempt(
    eventId: string,
    endpointId: string,
    leaseToken: string,
    outcome: {
      status: WebhookDeliveryStatus;
      attempt: number;
      nextAttemptAt: string;
      record?: DeliveryAttemptRecord;
      now: string;
    },
  ): Promise<boolean>;
  /** Puts the delivery back to pending, due now, starting a new schedule round (creates it if missing). */
  requeueDelivery(eventId: string, endpointId: string, merchantId: string, now: Date): Promise<void>;
}

export interface PublishEventInput {
  merchantId: string;
  /** A catalogue type (lambdas/domain/webhook-events.ts). */
  type: string;
  /** Id of the resource in data.object. */
  objectId: string;
  /** The body's `data` (usually `{ object: <resource view> }`). */
  data: Record<string, unknown>;
  /** What makes the event unique (e.g. `<txn id>:financial_instrument.transaction.succeeded`); the id derives from it. */
  sourceKey: string;
  checkoutId?: string;
  /** Defaults to now. */
  occurredAt?: Date;
  /**
   * Deliver to exactly these (enabled) endpoints of the merchant, whatever they subscribe to; for
   * the endpoint test event. Absent = every enabled endpoint subscribed to the type.
   */
  endpointIds?: readonly string[];
}

/** Records an event and queues its deliveries; the dispatcher (or the caller) sends them. Idempotent per sourceKey. */
export interface EventPublisher {
  publishEvent(input: PublishEventInput): Promise<{ eventId: string; created: boolean; deliveries: number }>;
}

// ---- Financial instruments --------------------------------------------------------------------

export type CreateInstrumentResult =
  | { kind: 'created'; instrument: FinancialInstrument }
  /** The id exists already (a re-run): the stored instrument. */
  | { kind: 'exists'; instrument: FinancialInstrument }
  /** Another instrument already stands for this PSP authorization. */
  | { kind: 'psp_reference_taken'; instrumentId: string };

export type ReserveOperationResult =
  | { kind: 'reserved'; instrument: FinancialInstrument }
  /** The operation id was reserved before (a resumed request or saga step): nothing changed. */
  | { kind: 'exists'; instrument: FinancialInstrument }
  /** The guard no longer held when the write landed (a concurrent operation moved the balance). */
  | { kind: 'refused'; instrument: FinancialInstrument };

export interface SettleOperationInput {
  instrumentId: string;
  operationId: string;
  /** From settlementChange(): credits on success, the reservation's reverse on failure. */
  change: BalanceChange;
  patch: Pick<InstrumentOperation, 'status' | 'settledAt'> &
    Partial<Pick<InstrumentOperation, 'pspOperationId' | 'failureCode' | 'failureMessage'>>;
  /** Token instruments learn their authorization id here. */
  pspReference?: string;
}

/**
 * Instruments and their operations, one item per instrument. Every balance move is one
 * conditional write on that item, so concurrent operations serialize in DynamoDB and a balance
 * can never go below zero.
 */
export interface InstrumentRepository {
  /** Creates the instrument and claims its PSP authorization (one instrument per authorization). */
  createInstrument(instrument: FinancialInstrument): Promise<CreateInstrumentResult>;
  getInstrument(instrumentId: string): Promise<FinancialInstrument | undefined>;
  /** Adds the pending operation and applies its reservation if `guard` holds and the id is new. */
  reserveOperation(
    instrumentId: string,
    operation: InstrumentOperation,
    guard: ReservationGuard,
    now: Date,
  ): Promise<ReserveOperationResult>;
  /** Settles a pending operation (status + balance change); a no-op returning the instrument if it is already settled. */
  settleOperation(input: SettleOperationInput, now: Date): Promise<FinancialInstrument>;
}

/** Where an unfinished request with an Idempotency-Key got to: the instrument and, for operations, the operation. */
export interface OperationKeyTarget {
  instrumentId: string;
  operationId?: string;
}

export type OperationKeyClaim =
  /** `resume` is set when an earlier attempt with this key stopped midway (PSP outage, crash): continue it. */
  | { kind: 'started'; resume?: OperationKeyTarget }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'in_flight'; lockedUntil?: number }
  /** The key was first used on another route or instrument (hardening rule): 422. */
  | { kind: 'mismatch' };

/**
 * Idempotency-Key records of financial-instrument requests: like IdempotencyStore, but kept for
 * the instrument's life (no TTL) and able to pin the operation a request started, so a retry
 * after a PSP outage resumes that operation rather than starting a second one.
 */
export interface OperationKeyStore {
  /** `binding` (method, route and path ids) is stored with the key; another binding is `mismatch`. */
  claim(scope: string, key: string, now: Date, binding?: string): Promise<OperationKeyClaim>;
  /** Records what the request is working on, before it moves any balance. */
  pin(scope: string, key: string, target: OperationKeyTarget): Promise<void>;
  complete(scope: string, key: string, response: StoredResponse): Promise<void>;
  /** Ends the claim without a response (transient failure); the pinned target stays for the retry. */
  release(scope: string, key: string): Promise<void>;
}

// ---- PSP callbacks and recovery (lambdas/use-cases/psp-callbacks.ts, reconciliation.ts) ----------

/** What we know about one PSP authorization from callbacks and status queries (one item per reference). */
export interface PspAuthorizationRecord {
  connector: string;
  /** Our reference (checkout id): known even when the PSP's authorization id is not. */
  reference: string;
  authorizationId?: string;
  state: PspAuthorizationState;
  amount: number;
  currency: string;
  /** The saga's `.waitForTaskToken` token while it waits for this authorization's result. */
  taskToken?: string;
  /** Id of the callback that set the state (or `status_query`). */
  lastCallbackId?: string;
  updatedAt: string;
}

export interface PspCallbackReceipt {
  connector: string;
  callbackId: string;
  type: string;
  reference: string;
  authorizationId: string;
  receivedAt: string;
  /** Its authorization id was not the one recorded for its reference: stored, nothing applied. */
  unmatched?: true;
}

/**
 * Callbacks and authorization states. Dedupe is a conditional put on the callback id; state
 * changes are conditional updates that only move forward (domain/psp-outcome.ts ranks), so
 * concurrent, repeated and reordered callbacks converge on the same record.
 */
export interface PspCallbackStore {
  /** Whether this callback id was already processed to the end (recorded). */
  hasCallback(connector: string, callbackId: string): Promise<boolean>;
  /**
   * Records a processed callback (conditional put): true the first time, false for a repeat. Written
   * after the callback's effects, so a handler that failed midway leaves the redelivery to redo
   * them (every effect is idempotent) instead of swallowing it as a duplicate.
   */
  recordCallback(receipt: PspCallbackReceipt): Promise<boolean>;
  getAuthorizationRecord(connector: string, reference: string): Promise<PspAuthorizationRecord | undefined>;
  /**
   * Moves the record to `next.state` if that is a forward transition from what is stored (created
   * if absent). Returns whether it applied and the record as stored afterwards.
   */
  advanceAuthorization(
    next: Omit<PspAuthorizationRecord, 'taskToken' | 'updatedAt'>,
    now: Date,
  ): Promise<{ applied: boolean; record: PspAuthorizationRecord }>;
  /** Stores the waiting saga's task token (creating a `pending` record if none); returns the record. */
  registerTaskToken(
    connector: string,
    reference: string,
    taskToken: string,
    defaults: { amount: number; currency: string; authorizationId?: string },
    now: Date,
  ): Promise<PspAuthorizationRecord>;
  /** Forgets the token once the saga was resumed (conditional on it still being this token). */
  clearTaskToken(connector: string, reference: string, taskToken: string): Promise<void>;
}

/** Resumes a saga waiting on `.waitForTaskToken` (Step Functions SendTask* on AWS, the emulator locally). */
export interface TaskTokenResumer {
  /** Resumes the wait; false when the token is no longer valid (already resumed, timed out). */
  succeed(taskToken: string, output: Record<string, unknown>): Promise<boolean>;
  fail(taskToken: string, error: string, cause: string): Promise<boolean>;
  heartbeat(taskToken: string): Promise<boolean>;
}

/** One checkout in `processing`, as the recovery watch list holds it. */
export interface ProcessingWatch {
  checkoutId: string;
  /** When it entered processing (ISO 8601). */
  since: string;
  /** A sweep's claim: until when (ISO 8601) and whose. */
  leaseUntil?: string;
  leaseOwner?: string;
}

/**
 * The recovery watch list: one item per checkout in `processing`, written in the same transaction
 * as the status change (lambdas/adapters/dynamo-checkout-repository.ts), so the sweep reads only
 * in-flight payments and never scans the table. Claiming is a conditional write (a lease).
 */
export interface RecoveryStore {
  listProcessing(limit: number): Promise<ProcessingWatch[]>;
  /** Conditional: no live lease. True if this owner now holds the checkout until `leaseUntil`. */
  claimCheckout(checkoutId: string, owner: string, now: Date, leaseUntil: Date): Promise<boolean>;
  /** Ends the claim early (nothing to do now). */
  releaseCheckout(checkoutId: string, owner: string): Promise<void>;
  /** Drops the watch of a checkout that is no longer processing (normally the status change does it). */
  forgetCheckout(checkoutId: string): Promise<void>;
}

/** Is the checkout's saga execution still running? (DescribeExecution; locally the emulator, which forgets on restart.) */
export interface SagaExecutionInspector {
  isRunning(executionArn: string): Promise<boolean>;
}

// ---- Manual capture and authorization expiry (lambdas/use-cases/authorization-expiry.ts) -------

/**
 * A manual-capture authorization handed to the merchant: the expiry watch item. Written in the same
 * transaction that makes the saga's instrument `active`, so every hold is watched; it sits on a
 * sparse index by its next due time (warning, then expiry) and leaves it once done.
 */
export interface AuthorizationHold {
  instrumentId: string;
  checkoutId: string;
  merchantId: string;
  /** When the PSP authorized (the instrument's creation). ISO 8601. */
  authorizedAt: string;
  /** When `authorization.expiring` is due. */
  warnAt: string;
  /** When the merchant's expired_authorization_action is applied. */
  expiresAt: string;
  stage: AuthorizationHoldStage;
  /** Once done: what happened (`void`, `capture`, `nothing_held`, `failed`). */
  outcome?: string;
  leaseUntil?: string;
  leaseOwner?: string;
}

export interface AuthorizationHoldStore {
  /**
   * The saga's hand-over, one transaction: the checkout's instrument pending -> active (conditional
   * on pending) and the hold's watch item (put if absent). Repeating it after it landed is a no-op;
   * an instrument no longer pending without this hold is PspRejectedError.
   */
  holdAuthorization(hold: AuthorizationHold, now: Date): Promise<void>;
  getHold(instrumentId: string): Promise<AuthorizationHold | undefined>;
  /** Instrument ids of holds whose next due time is <= now (eventually consistent: check the stage). */
  listDueHolds(now: Date, limit: number): Promise<string[]>;
  /**
   * Conditional on the stored stage being `from`: moves to `to` (re-indexed at `to`'s due time, or
   * removed from the index when done, with `outcome`). False if another sweep moved it first.
   */
  advanceHold(
    instrumentId: string,
    from: AuthorizationHold['stage'],
    to: AuthorizationHold['stage'],
    now: Date,
    outcome?: string,
  ): Promise<boolean>;
  /** A lease so two overlapping sweeps never act on one hold at once (conditional write). */
  claimHold(instrumentId: string, owner: string, now: Date, leaseUntil: Date): Promise<boolean>;
}

/**
 * The ports: what the use cases need from the outside world, as interfaces. Adapters in
 * lambdas/adapters/ implement them (DynamoDB, the sandbox PSP over HTTP, merchant HTTP calls,
 * Step Functions); unit tests implement them with fakes. Handlers wire adapters once at module
 * scope.
 */
import type {
  Checkout,
  CheckoutEvent,
  CheckoutStatus,
  FailureReason,
  Merchant,
  MerchantSettings,
} from './domain/model';

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
  updatePayment(checkoutId: string, payment: NonNullable<Checkout['payment']>, expectedVersion: number, event?: CheckoutTransition['event']): Promise<Checkout>;
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
  | { kind: 'started' }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'in_flight' };

export interface IdempotencyStore {
  /** Claims (scope, key) with a conditional put; an expired in-progress claim may be taken over. */
  begin(scope: string, key: string, now: Date): Promise<IdempotencyBegin>;
  complete(scope: string, key: string, response: StoredResponse): Promise<void>;
  /** Releases the claim after a failure that should not be replayed (5xx). */
  release(scope: string, key: string): Promise<void>;
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

/** Calls the merchant's inventory-confirmation endpoint once (never retried), 10 s timeout. */
export interface InventoryConfirmer {
  confirmInventory(url: string, request: InventoryConfirmationRequest, signingSecret: string): Promise<InventoryDecision>;
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
  status: 'enabled' | 'disabled';
  createdAt: string;
}

export interface WebhookEndpointRepository {
  createEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  listEndpoints(merchantId: string): Promise<WebhookEndpoint[]>;
  /** Conditional delete: only the owning merchant's endpoint; false if none matched. */
  deleteEndpoint(merchantId: string, endpointId: string): Promise<boolean>;
}

export interface WebhookMessage {
  /** `webhook-id`: the event id, identical on every retry so receivers can dedupe. */
  id: string;
  /** Unix seconds used for `webhook-timestamp`. */
  timestamp: Date;
  body: string;
}

export interface WebhookAttempt {
  ok: boolean;
  httpStatus?: number;
  latencyMs: number;
  error?: string;
  responseExcerpt?: string;
}

/** POSTs one signed Standard Webhooks message; never follows redirects; 15 s timeout. */
export interface WebhookSender {
  send(url: string, secret: string, message: WebhookMessage): Promise<WebhookAttempt>;
}

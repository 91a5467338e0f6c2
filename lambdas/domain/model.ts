/**
 * Paystep's records as the domain sees them (camelCase; the API maps them to snake_case).
 * Pure types: no AWS import. Money is always an integer in the currency's minor unit.
 */
import type { RoutingConfig } from './routing';
import type { StoredConnectorAccount } from './connector-accounts';
import type { PaymentAttempt } from './payment-attempt';

export type CheckoutStatus = 'open' | 'processing' | 'succeeded' | 'failed' | 'expired' | 'canceled';

export type FailureReason =
  | 'payment_declined'
  | 'authentication_failed'
  | 'authentication_required'
  | 'inventory_rejected'
  | 'inventory_timeout'
  | 'inventory_unreachable'
  | 'psp_error'
  | 'expired';

export interface MerchantSettings {
  inventoryConfirmationUrl?: string;
  inventoryConfirmationEnabled: boolean;
  defaultSuccessUrl?: string;
  defaultFailureUrl?: string;
  /**
   * Manual capture: what happens to a held authorization's capturable remainder when it expires
   * (lambdas/domain/authorization-hold.ts). Absent = `void`.
   */
  expiredAuthorizationAction?: 'void' | 'capture';
  /**
   * Ports the merchant's URLs (inventory confirmation, webhook endpoints) may use on top of 443
   * and 80 outside local mode (lambdas/adapters/url-guard.ts). Absent = none.
   */
  allowedPorts?: number[];
}

export interface Merchant {
  id: string; // mer_...
  name: string;
  /** Public merchant key sent as `merchant_key` in inventory-confirmation requests. */
  merchantKey: string; // mk_...
  /** sha256 (hex) of the secret key; the key itself is shown once at onboarding. */
  secretKeyHash: string;
  /** Secret used to sign inventory-confirmation requests, encrypted at rest (SecretCipher). */
  signingSecretCiphertext: string;
  settings: MerchantSettings;
  /** Routing and failover rules (lambdas/domain/routing.ts); absent = DEFAULT_ROUTING. */
  routing?: RoutingConfig;
  /** Connectors the merchant added with its own credentials (lambdas/domain/connector-accounts.ts). */
  connectorAccounts?: StoredConnectorAccount[];
  createdAt: string; // ISO 8601
  version: number;
}

export interface CheckoutItem {
  sku: string;
  name?: string;
  quantity: number;
  unitAmount?: number;
}

export interface Customer {
  email?: string;
  name?: string;
}

export interface CheckoutPayment {
  /** The PSP token id (tok_...), never card data; absent when a vaulted payment method pays. */
  paymentToken?: string;
  /** The vaulted payment method (`pm_...`) that pays: the vault reveals its card to the connector at authorization. */
  paymentMethodId?: string;
  /** A merchant-initiated (off-session) payment with a payment method saved on the checkout's customer. */
  offSession?: boolean;
  /** The buyer unticked "save my card" on a checkout created with save_payment_method: nothing is saved. */
  saveDeclined?: true;
  /**
   * The try's ordered connectors (a `pm_` payment, from the merchant's routing rules): the first
   * attempt's connector first; failover moves to the next. Absent: the current attempt's connector only.
   */
  route?: string[];
  /** The routing rule that picked the route requires 3-D Secure (`"three_ds":"required"`): every attempt asks for it. */
  threeDsRequired?: true;
  /**
   * The authorization tries, oldest first (lambdas/domain/payment-attempt.ts): where the payment
   * stands at the PSP (pending, authorized, captured, voided, failed...) is the current attempt's
   * status, never a combination of flags. No amount captured is kept here: the financial
   * instrument (`instrumentId`) is the one money ledger, read by paymentBalances()
   * (lambdas/domain/authorization-hold.ts).
   */
  attempts: PaymentAttempt[];
  /**
   * Where the inventory confirmation stands. Set to `pending` or `not_required` at authorization
   * (from the merchant's settings then), `confirmed`/`rejected` by CapturePayment's confirm phase.
   * Capture is refused unless it is `confirmed` or `not_required`: never captured without confirmation.
   */
  inventoryConfirmation?: 'pending' | 'not_required' | 'confirmed' | 'rejected';
  /** With `rejected`: the merchant decision's failure reason, written in the same write (a re-run throws it again). */
  inventoryRejection?: 'inventory_rejected' | 'inventory_timeout' | 'inventory_unreachable';
  instrumentId?: string; // fi_... (financial instruments issue)
  /**
   * Set when the reconciliation sweep took the checkout over (its saga was gone or stuck): saga
   * steps that still run afterwards do nothing, so the sweep and a live saga never both act.
   */
  recoveredBy?: string;
  /**
   * Manual capture: set when the saga handed the authorization to the merchant (instrument active,
   * expiry watch written); when Paystep applies the merchant's expired_authorization_action.
   */
  authorizationExpiresAt?: string;
  /** Which try of the buyer this payment is (lambdas/domain/payment-tries.ts); absent = 1. */
  tries?: number;
}

export interface Checkout {
  id: string; // chk_...
  merchantId: string;
  merchantOrderRef: string;
  amount: number;
  currency: string;
  items: CheckoutItem[];
  customer?: Customer;
  /** The Paystep customer (`customer: "cus_..."` at creation) the checkout is for. */
  customerId?: string;
  /** `save_payment_method`: once succeeded, its payment method is saved on `customerId`. */
  savePaymentMethod?: boolean;
  successUrl: string;
  failureUrl: string;
  /** `manual`: the saga authorizes and confirms inventory but leaves the capture to the merchant. Absent = automatic. */
  captureMethod?: 'automatic' | 'manual';
  /** The merchant's own key/value pairs (validated at the API: lambdas/shared/validation.ts metadataField). */
  metadata?: Record<string, string>;
  status: CheckoutStatus;
  failureReason?: FailureReason;
  failureMessage?: string;
  /** How many times the buyer may try a card (`max_payment_attempts`, 1-5); absent = 1. */
  maxPaymentAttempts?: number;
  /** Why the last try failed, set when a declined try reopened the checkout (`last_payment_error`). */
  lastPaymentError?: { code: string; message: string };
  /** sha256 (hex) of the client secret handed to the browser. */
  clientSecretHash: string;
  payment?: CheckoutPayment;
  /** Step Functions execution ARN of the saga, once started. */
  executionArn?: string;
  /**
   * The pay requests with an Idempotency-Key whose write started a try, recorded in that very
   * write (lambdas/use-cases/pay-checkout.ts): a retry with the key answers the same again.
   */
  payRequests?: PayRequestRecord[];
  createdAt: string;
  updatedAt: string;
  /** When an open checkout expires (ISO 8601). */
  expiresAt: string;
  version: number;
}

/**
 * A pay request recorded on the checkout it started: a digest of its (scope, Idempotency-Key), the
 * try it started, and what of its answer the checkout may no longer hold (kept small: every later
 * write of the checkout item costs by the item's size).
 */
export interface PayRequestRecord {
  /** base64url of the first 16 bytes of sha256(scope, key). */
  mark: string;
  /** The try the request started (lambdas/domain/payment-tries.ts tryNumberOf). */
  tryNumber: number;
  failureReason?: FailureReason;
  failureMessage?: string;
  lastPaymentError?: { code: string; message: string };
}

/** One row of a checkout's timeline (`events[]` in GET /v1/checkouts/{id}). */
export interface CheckoutEvent {
  checkoutId: string;
  type: CheckoutEventType;
  at: string; // ISO 8601 with milliseconds
  data?: Record<string, unknown>;
}

export type CheckoutEventType =
  | 'created'
  | 'canceled'
  | 'expired'
  | 'payment_started'
  | 'authorized'
  | 'authorization_declined'
  | 'inventory_confirmation_sent'
  | 'inventory_confirmed'
  | 'inventory_rejected'
  | 'captured'
  | 'voided'
  | 'succeeded'
  | 'failed'
  | 'webhook_delivered'
  | 'webhook_failed'
  /** PSP callbacks and recovery (lambdas/use-cases/psp-callbacks.ts, reconciliation.ts). */
  | 'authorization_pending'
  | 'psp_callback'
  | 'psp_outcome_unknown'
  | 'psp_outcome_resolved'
  | 'recovery_started'
  /** Manual capture and authorization expiry (lambdas/use-cases/authorization-expiry.ts). */
  | 'authorization_held'
  | 'authorization_expiring'
  | 'authorization_expired'
  /** Another card after a decline (lambdas/domain/payment-tries.ts): a try failed, the checkout is open again. */
  | 'payment_failed'
  /** 3-D Secure (lambdas/use-cases/three-d-secure.ts): challenge opened, and left unanswered until the timeout. */
  | 'requires_action'
  | 'authentication_abandoned';

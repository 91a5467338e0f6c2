/**
 * Ports of the card vault: the only code that ever holds a card number. Two seams:
 * - `CardVault`: card data in and out. `tokenizeCard` encrypts a checked card (envelope
 *   encryption: a fresh data key per payment method, wrapped by the vault key) and stores it;
 *   `revealForAuthorization` decrypts it for one connector call; `destroyCvc` drops the CVC after
 *   the first authorization.
 * - `SavedPaymentMethods`: the lifecycle around a customer (attach, list, detach, shred), which
 *   never decrypts anything.
 * Both are implemented by lambdas/adapters/dynamo-card-vault.ts over the vault's own table; every
 * write is conditional. Reads are scoped to the merchant: another merchant's `pm_` is undefined.
 */
import type { CheckedCard } from '../domain/card';
import type { PaymentMethod, SensitiveCard } from '../domain/payment-method';

export interface TokenizeCardInput {
  readonly merchantId: string;
  readonly card: CheckedCard;
  /** The checkout whose client secret sent the card (a one-off payment method pays only it). */
  readonly checkoutId?: string;
  readonly now: Date;
}

export interface RevealInput {
  readonly merchantId: string;
  readonly paymentMethodId: string;
  /** Who asks, recorded on the payment method (`att_...` or the checkout id): the audit trail of every reveal. */
  readonly purpose: string;
  readonly now: Date;
}

export interface CardVault {
  /** Encrypts and stores the card; returns the new `pm_` (status active, no customer). */
  tokenizeCard(input: TokenizeCardInput): Promise<PaymentMethod>;
  /** The merchant's payment method (any status); undefined when unknown or foreign. */
  getPaymentMethod(merchantId: string, paymentMethodId: string): Promise<PaymentMethod | undefined>;
  /**
   * The card for one authorization, read in the same conditional write that records the reveal,
   * so it is linearised against detach and delete: a payment method detached or shredded before
   * this call throws PaymentMethodUnusableError (`payment_method_detached` / `payment_method_deleted`)
   * and is never decrypted. Unknown or foreign: NotFoundError. Only the vault and connector
   * functions hold kms:Decrypt on the vault key, so only they can call this successfully.
   */
  revealForAuthorization(input: RevealInput): Promise<{ paymentMethod: PaymentMethod; card: SensitiveCard }>;
  /**
   * Destroys the CVC (removes its ciphertext) after the first authorization attempt with it,
   * whatever its outcome. Idempotent: a second call, or a payment method without CVC, is a no-op.
   * Unknown or foreign: NotFoundError.
   */
  destroyCvc(merchantId: string, paymentMethodId: string, now: Date, networkTransactionId?: string): Promise<void>;
}

export interface SavedPaymentMethods {
  /**
   * Saves an active payment method on an active customer of the same merchant (one transaction
   * that also checks the customer is not deleted). Idempotent for the same customer. Errors:
   * NotFoundError (payment method or customer unknown/foreign), PaymentMethodUnusableError
   * (detached, shredded, or already saved on another customer).
   */
  attachToCustomer(merchantId: string, paymentMethodId: string, customerId: string, now: Date): Promise<PaymentMethod>;
  /** The customer's active payment methods, oldest first (strongly consistent). */
  listCustomerPaymentMethods(merchantId: string, customerId: string): Promise<PaymentMethod[]>;
  /**
   * Removes the payment method from its customer and destroys its card data (wrapped data key and
   * ciphertexts): a detached payment method can never pay again. Idempotent. Errors: NotFoundError,
   * PaymentMethodUnusableError `payment_method_not_attached` (a one-off payment method).
   */
  detachPaymentMethod(merchantId: string, paymentMethodId: string, now: Date): Promise<PaymentMethod>;
  /**
   * Crypto-shreds every payment method saved on the customer (destroys each wrapped data key and
   * ciphertext with a conditional write) and returns how many it shredded now. Safe to repeat and to
   * run concurrently with itself, attaches (which the caller has already fenced off by marking the
   * customer deleted) and reveals (a reveal that wins the race authorizes; one that loses is refused).
   */
  shredCustomerPaymentMethods(merchantId: string, customerId: string, now: Date): Promise<number>;
}

/**
 * The vault's key service: envelope encryption and the fingerprint MAC. On AWS it is KMS (the
 * vault key wraps data keys and never leaves KMS; an HMAC key computes fingerprints); locally a
 * 0600 key file stands in (lambdas/adapters/local-vault-keyring.ts). `context` is bound to the
 * wrapped key (KMS encryption context / AES-GCM additional data): a wrapped key copied onto
 * another payment method does not unwrap.
 */
export interface VaultKeyring {
  /** A fresh 256-bit data key: the plaintext for immediate use (zero it after) and its wrapped form to store. */
  generateDataKey(context: Readonly<Record<string, string>>): Promise<{ plaintext: Buffer; wrapped: string }>;
  /** The plaintext data key; throws if the wrapped key or its context was tampered with. */
  unwrapDataKey(wrapped: string, context: Readonly<Record<string, string>>): Promise<Buffer>;
  /** HMAC-SHA256 of `message` under the fingerprint key (which never leaves the key service on AWS). */
  mac(message: string): Promise<Buffer>;
}

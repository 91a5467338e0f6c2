/**
 * Identifiers and secrets: random, url-safe ids with Stripe-style prefixes, sha256 hashing of
 * secrets we only compare (secret keys, client secrets, the admin token) and constant-time
 * comparison. Uses node:crypto only (no AWS import).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `<prefix><base64url of n random bytes>`: 16 bytes = 128 bits is unguessable for ids. */
function randomToken(prefix: string, bytes: number): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

/** Merchant id (`mer_...`). */
export function generateMerchantId(): string {
  return randomToken('mer_', 16);
}

/** Checkout id (`chk_...`); public (it appears in the checkout URL), so not a secret. */
export function generateCheckoutId(): string {
  return randomToken('chk_', 16);
}

/** Webhook endpoint id (`we_...`). */
export function generateWebhookEndpointId(): string {
  return randomToken('we_', 16);
}

/** Payment method id (`pm_...`): a vaulted card. */
export function generatePaymentMethodId(): string {
  return randomToken('pm_', 16);
}

/** Customer id (`cus_...`). */
export function generateCustomerId(): string {
  return randomToken('cus_', 16);
}

/** Public merchant key (`mk_...`) sent as `merchant_key` in inventory-confirmation requests. */
export function generateMerchantKey(): string {
  return randomToken('mk_', 16);
}

/** Merchant secret API key (`sk_test_...`), 256 bits; stored only as sha256. */
export function generateSecretKey(): string {
  return randomToken('sk_test_', 32);
}

/** Checkout client secret (`cs_...`) handed to the buyer's browser; stored only as sha256. */
export function generateClientSecret(): string {
  return randomToken('cs_', 32);
}

/**
 * Standard Webhooks signing secret: `whsec_` + standard base64 of 32 random bytes (the spec
 * requires 24..64 bytes and base64, which the `standardwebhooks` library decodes).
 */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Short random suffix that keeps sort keys unique when two rows share a timestamp. */
export function generateRandomSuffix(): string {
  return randomBytes(6).toString('base64url');
}

/** sha256 as lower-case hex: how secrets we only compare are stored and looked up. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Compares two strings in time independent of where they differ and of their lengths (both are
 * hashed to 32 bytes first), so a caller cannot learn a secret byte by byte from response times.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a, 'utf8').digest();
  const right = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}

/** Payment attempt id (`att_...`): one authorization try of a checkout at one connector. */
export function generateAttemptId(): string {
  return randomToken('att_', 16);
}

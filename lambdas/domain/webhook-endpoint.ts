/** A merchant's webhook endpoint: where and for which event types its deliveries go, and its signing secrets. */

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

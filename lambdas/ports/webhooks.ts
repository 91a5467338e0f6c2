/** Ports: merchant webhook endpoints (storage) and the signed HTTP sender of one webhook attempt. */
import type { WebhookEndpoint } from '../domain/webhook-endpoint';

export interface WebhookEndpointRepository {
  /** With `maxPerMerchant`, enforces the cap atomically (ConflictError `too_many_endpoints`). */
  createEndpoint(endpoint: WebhookEndpoint, options?: { maxPerMerchant?: number }): Promise<void>;
  /**
   * Oldest first. Strongly consistent unless `options.consistent` is false (then an endpoint created,
   * rotated, disabled or deleted in the last second may be seen as it was before).
   */
  listEndpoints(merchantId: string, options?: { consistent?: boolean }): Promise<WebhookEndpoint[]>;
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

/** What publishing and delivering webhooks use of the endpoints (the management operations are the API's). */
export type WebhookEndpointLookup = Pick<WebhookEndpointRepository, 'listEndpoints' | 'getEndpoint' | 'disableEndpoint'>;

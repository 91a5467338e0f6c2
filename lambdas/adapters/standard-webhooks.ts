/**
 * Standard Webhooks 1.0 signing for everything Paystep POSTs to a merchant: result webhooks and
 * inventory-confirmation requests. The scheme (https://www.standardwebhooks.com) is one HMAC:
 * `v1,` + base64(HMAC-SHA256(key, `id.timestamp.body`)), the key being the base64 after `whsec_`.
 * Computed with node:crypto (the `standardwebhooks` reference library bundles its own SHA-256 and
 * base64, 12 KiB of every signing Lambda); the tests verify each signature with that library, as
 * a merchant would, so any Standard Webhooks implementation still verifies.
 */
import { createHmac } from 'node:crypto';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

const SECRET_PREFIX = 'whsec_';
/** Standard-alphabet base64, at most two `=` at the end (the reference library's decoder also takes no padding). */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The HMAC key of a `whsec_` secret, decoded as the reference library decodes it (the same bytes
 * for padded and unpadded text); throws where it throws: an empty key, fewer than 4 characters, a
 * character outside the standard alphabet (URL-safe `-`/`_` and whitespace included).
 */
function webhookKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (encoded.length === 0) throw new Error("Secret can't be empty.");
  if (encoded.length < 4 || !BASE64.test(encoded)) throw new Error('Webhook secret is not valid base64');
  return Buffer.from(encoded, 'base64');
}

/** Signs `id.timestamp.body` with the whsec_ secret; returns the three headers to send. */
export function signWebhook(secret: string, id: string, timestamp: Date, body: string): SignedHeaders {
  const seconds = Math.floor(timestamp.getTime() / 1000).toString();
  const signature = createHmac('sha256', webhookKey(secret)).update(`${id}.${seconds}.${body}`, 'utf8').digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': seconds, 'webhook-signature': `v1,${signature}` };
}

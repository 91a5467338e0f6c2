/**
 * Standard Webhooks 1.0 signing for everything Paystep POSTs to a merchant: result webhooks and
 * inventory-confirmation requests. Uses the `standardwebhooks` reference library, so merchants can
 * verify with any Standard Webhooks implementation.
 */
import { Webhook } from 'standardwebhooks';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Signs `id.timestamp.body` with the whsec_ secret; returns the three headers to send. */
export function signWebhook(secret: string, id: string, timestamp: Date, body: string): SignedHeaders {
  const signature = new Webhook(secret).sign(id, timestamp, body);
  return {
    'webhook-id': id,
    'webhook-timestamp': Math.floor(timestamp.getTime() / 1000).toString(),
    'webhook-signature': signature,
  };
}

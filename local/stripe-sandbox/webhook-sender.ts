/**
 * The Stripe-protocol sandbox's webhooks: Stripe `event` objects POSTed as JSON with a
 * `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` header, signed with the
 * endpoint's `whsec_` secret exactly as Stripe signs (so the connector verifies them with the
 * official SDK's `webhooks.constructEvent`). Like Stripe it retries an event that did not get a
 * 2xx, with back-off; the server decides duplicates and order, this module sends what it is given.
 */
import { createHmac } from 'node:crypto';
import type { Timers } from '../sandbox-psp/http-io';
import { newId, unixNow } from './ledger';

export interface WebhookTarget {
  url: string;
  /** The endpoint's signing secret (`whsec_...`). */
  secret: string;
}

export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: null; idempotency_key: string | null };
  type: string;
}

/** What was sent, for `GET /v1/test/events` (tests read it; no card data is ever in an event). */
export interface SentEvent {
  id: string;
  type: string;
  reference: string;
  payment_intent: string;
  delivered: boolean;
  attempts: number;
}

/** The API version the sandbox stamps on events (the one the connector's SDK pins). */
export const SANDBOX_API_VERSION = '2026-10-28.endive';

const ATTEMPTS = 6;
const FIRST_BACKOFF_MS = 250;

export function newEvent(type: string, object: Record<string, unknown>, idempotencyKey: string | null = null): StripeEvent {
  return {
    id: newId('evt'),
    object: 'event',
    api_version: SANDBOX_API_VERSION,
    created: unixNow(),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: idempotencyKey },
    type,
  };
}

/** The `Stripe-Signature` value for `payload` signed at `timestamp` (Stripe's v1 scheme). */
export function signStripePayload(secret: string, timestamp: number, payload: string): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${payload}`).digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

export class WebhookSender {
  readonly sent: SentEvent[] = [];

  constructor(
    private target: WebhookTarget | undefined,
    private readonly timers: Timers,
    private readonly log?: (line: string) => void,
  ) {}

  configure(target: WebhookTarget): void {
    this.target = target;
  }

  /** Sends `event` `times` times (the duplicate card sends twice), each with its own retries. */
  async deliver(event: StripeEvent, meta: { reference: string; paymentIntent: string }, times = 1): Promise<void> {
    for (let copy = 0; copy < times; copy += 1) {
      const row: SentEvent = {
        id: event.id,
        type: event.type,
        reference: meta.reference,
        payment_intent: meta.paymentIntent,
        delivered: false,
        attempts: 0,
      };
      this.sent.push(row);
      const target = this.target;
      if (target === undefined) continue;
      const payload = JSON.stringify(event, null, 2);
      for (let attempt = 0; attempt < ATTEMPTS && !row.delivered; attempt += 1) {
        if (attempt > 0 && !(await this.timers.sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 1)))) return;
        row.attempts += 1;
        try {
          const response = await fetch(target.url, {
            method: 'POST',
            redirect: 'manual',
            headers: {
              'content-type': 'application/json; charset=utf-8',
              'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
              'stripe-signature': signStripePayload(target.secret, unixNow(), payload),
            },
            body: payload,
            signal: AbortSignal.timeout(10_000),
          });
          await response.arrayBuffer();
          row.delivered = response.status >= 200 && response.status < 300;
        } catch (error) {
          this.log?.(
            `Stripe sandbox webhook ${event.type} attempt ${attempt + 1} failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
    }
  }
}
